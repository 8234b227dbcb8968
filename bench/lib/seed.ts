import { randomBytes } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { SQLITE_PRAGMAS } from '../../src/db/client.ts';
import { sqliteTime } from '../../src/db/hot-path/sqlite.ts';
import { hashToken, randomKey } from '../../src/domain/secrets.ts';
import { encodeCursor } from '../../src/graphql/connection.ts';
import type { BenchDatabase } from './databases.ts';

/**
 * Set-based seeding, straight into a database the benchmark made (Tessera's
 * tables, as its migrations create them). Every row is one Tessera could
 * have written: a token has a unique key and secret hash, its active name,
 * its scope rows and its CREATE entry; history entries belong to existing
 * tokens and agree with them. On SQLite, prepared INSERTs in one transaction
 * through better-sqlite3, with times in Prisma's text form; on PostgreSQL,
 * INSERT … SELECT over generate_series.
 */

const DAY_MS = 86_400_000;

const TOKEN_COLUMNS =
  'key, secret_hash, generator_id, username, token_type, name, active_name, scopes, parent_key, note, policy, metadata, auto_generated, created_at, last_updated_at, expires_at, valid, invalid_reason';
const HISTORY_COLUMNS =
  'token, username, token_type, token_name, parent, scopes, service, expires, actor, action, old_token_name, old_scopes, old_expires, ip_address, ip_key, event_time';
/** One CREATE entry per token, made from the token row itself (its owner as actor, as if self-made). */
const CREATE_ENTRIES_FROM = (cast: string) =>
  `INSERT INTO token_change_history (${HISTORY_COLUMNS})
   SELECT key, username, token_type, name, parent_key, scopes, service, expires_at, username, 'create'${cast}, NULL, NULL, NULL, NULL, NULL, created_at FROM tokens`;

/** A connection for seeding and for reading positions back; `?` placeholders on both engines. */
export class SeedConnection {
  private constructor(
    readonly database: BenchDatabase,
    private readonly sqlite: Sqlite.Database | null,
    private readonly postgres: pg.Client | null,
  ) {}

  static async open(database: BenchDatabase): Promise<SeedConnection> {
    if (database.path) {
      const sqlite = new Sqlite(database.path, { timeout: 30_000 });
      for (const pragma of SQLITE_PRAGMAS) sqlite.pragma(pragma);
      return new SeedConnection(database, sqlite, null);
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    return new SeedConnection(database, null, client);
  }

  get engine() {
    return this.database.engine;
  }

  async all<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    if (this.sqlite) return this.sqlite.prepare(sql).all(...params) as Row[];
    let index = 0;
    const text = sql.replace(/\?/g, () => `$${(index += 1)}`);
    return (await this.postgres!.query(text, [...params])).rows as Row[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<void> {
    if (this.sqlite) this.sqlite.prepare(sql).run(...params);
    else await this.all(sql, params);
  }

  async count(sql: string, params: readonly unknown[] = []): Promise<number> {
    const rows = await this.all<{ n: number | string }>(sql, params);
    return Number(rows[0]?.n ?? Number.NaN);
  }

  /** A time parameter as the engine stores it. */
  time(time: Date | number): string {
    return this.sqlite ? sqliteTime(new Date(time)) : new Date(time).toISOString();
  }

  /** Makes what was written visible to the planner (PostgreSQL: ANALYZE, as autovacuum would) and the WAL small (SQLite). */
  async settle(): Promise<void> {
    if (this.sqlite) this.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    else await this.postgres!.query('VACUUM ANALYZE');
  }

  async close(): Promise<void> {
    if (this.sqlite) this.sqlite.close();
    else await this.postgres!.end();
  }

  /** The SQLite handle, for the few places that loop over prepared statements. */
  get sqliteHandle(): Sqlite.Database | null {
    return this.sqlite;
  }
}

export interface UserTokenSeed {
  username: string;
  count: number;
  /** Names are `${namePrefix}${n}`, n from 1. */
  namePrefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  scopes: string[];
}

/** `count` USER tokens of one user, each with its scope rows and its CREATE entry. */
export async function seedUserTokens(db: SeedConnection, seed: UserTokenSeed): Promise<void> {
  const scopes = JSON.stringify([...seed.scopes].sort());
  const sqlite = db.sqliteHandle;
  if (sqlite) {
    const insert = sqlite.prepare(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, 'vendor_checksum', ?, 'user', ?, ?, ?, NULL, '', '{}', '{}', 0, ?, ?, ?, 1, '')`);
    const created = sqliteTime(seed.createdAt);
    const expires = seed.expiresAt ? sqliteTime(seed.expiresAt) : null;
    sqlite.transaction(() => {
      for (let n = 1; n <= seed.count; n += 1) {
        const name = `${seed.namePrefix}${n}`;
        insert.run(randomKey(), hashToken(randomKey()), seed.username, name, name, scopes, created, created, expires);
      }
      sqlite.prepare(`INSERT INTO token_scopes (token_key, scope) SELECT tokens.key, json_each.value FROM tokens, json_each(tokens.scopes) WHERE tokens.username = ?`).run(seed.username);
      sqlite.prepare(`${CREATE_ENTRIES_FROM('')} WHERE username = ?`).run(seed.username);
    })();
  } else {
    const salt = randomBytes(8).toString('hex');
    await db.run('BEGIN');
    await db.run(
      `INSERT INTO tokens (${TOKEN_COLUMNS})
       SELECT substr(translate(encode(decode(md5(?::text || g), 'hex'), 'base64'), '+/', '-_'), 1, 22),
              encode(sha256(convert_to('secret-' || ?::text || g, 'UTF8')), 'hex'),
              'vendor_checksum', ?, 'user'::token_type, ?::text || g, ?::text || g, ?::jsonb, NULL, '', '{}'::jsonb, '{}'::jsonb, false,
              ?::timestamp(3), ?::timestamp(3), ?::timestamp(3), true, ''
       FROM generate_series(1, ?::int) AS g`,
      [salt, salt, seed.username, seed.namePrefix, seed.namePrefix, scopes, db.time(seed.createdAt), db.time(seed.createdAt), seed.expiresAt ? db.time(seed.expiresAt) : null, seed.count],
    );
    await db.run(`INSERT INTO token_scopes (token_key, scope) SELECT key, jsonb_array_elements_text(scopes) FROM tokens WHERE username = ?`, [seed.username]);
    await db.run(`${CREATE_ENTRIES_FROM('::token_change')} WHERE username = ?`, [seed.username]);
    await db.run('COMMIT');
  }
}

export interface HistorySeed {
  /** Owners hist0 … hist{users-1}. */
  users: number;
  /** USER tokens per owner; every third has a NOTEBOOK child. */
  tokensPerUser: number;
  /** The CREATE entries' times are spread over [from, to]. */
  from: Date;
  to: Date;
}

export const HISTORY_USERS_PREFIX = 'hist';

/**
 * The history case's database: a few thousand USER tokens of several owners,
 * a NOTEBOOK child under every third, and a CREATE entry for each (a child's
 * a second after its parent's), so that a page of history resolves both
 * tokens and parents.
 */
export async function seedHistoryTokens(db: SeedConnection, seed: HistorySeed): Promise<{ tokens: number }> {
  const parents = seed.users * seed.tokensPerUser;
  const step = (seed.to.getTime() - seed.from.getTime()) / parents;
  const sqlite = db.sqliteHandle;
  if (sqlite) {
    const insert = sqlite.prepare(
      `INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, 'vendor_checksum', ?, ?, ?, ?, '["user:token"]', ?, '', '{}', '{}', 0, ?, ?, NULL, 1, '')`,
    );
    sqlite.transaction(() => {
      for (let g = 1; g <= parents; g += 1) {
        const owner = `${HISTORY_USERS_PREFIX}${g % seed.users}`;
        const created = seed.from.getTime() + g * step;
        const key = randomKey();
        insert.run(key, hashToken(randomKey()), owner, 'user', `tok-${g}`, `tok-${g}`, null, sqliteTime(new Date(created)), sqliteTime(new Date(created)));
        if (g % 3 === 0) insert.run(randomKey(), hashToken(randomKey()), owner, 'notebook', null, null, key, sqliteTime(new Date(created + 1000)), sqliteTime(new Date(created + 1000)));
      }
      sqlite.prepare(`INSERT INTO token_scopes (token_key, scope) SELECT tokens.key, json_each.value FROM tokens, json_each(tokens.scopes) WHERE tokens.username LIKE ?`).run(`${HISTORY_USERS_PREFIX}%`);
      sqlite.prepare(`${CREATE_ENTRIES_FROM('')} WHERE username LIKE ?`).run(`${HISTORY_USERS_PREFIX}%`);
    })();
  } else {
    const salt = randomBytes(8).toString('hex');
    const keyOf = (tag: string) => `substr(translate(encode(decode(md5('${tag}' || ?::text || g), 'hex'), 'base64'), '+/', '-_'), 1, 22)`;
    const hashOf = (tag: string) => `encode(sha256(convert_to('${tag}' || ?::text || g, 'UTF8')), 'hex')`;
    const createdAt = `(?::timestamp(3) + g * ?::double precision * interval '1 millisecond')`;
    await db.run('BEGIN');
    await db.run(
      `INSERT INTO tokens (${TOKEN_COLUMNS})
       SELECT ${keyOf('p')}, ${hashOf('p')}, 'vendor_checksum', ?::text || (g % ?::int), 'user'::token_type, 'tok-' || g, 'tok-' || g, '["user:token"]'::jsonb, NULL, '', '{}'::jsonb, '{}'::jsonb, false,
              ${createdAt}, ${createdAt}, NULL, true, ''
       FROM generate_series(1, ?::int) AS g`,
      [salt, salt, HISTORY_USERS_PREFIX, seed.users, db.time(seed.from), step, db.time(seed.from), step, parents],
    );
    await db.run(
      `INSERT INTO tokens (${TOKEN_COLUMNS})
       SELECT ${keyOf('c')}, ${hashOf('c')}, 'vendor_checksum', ?::text || (g % ?::int), 'notebook'::token_type, NULL, NULL, '["user:token"]'::jsonb, ${keyOf('p')}, '', '{}'::jsonb, '{}'::jsonb, false,
              ${createdAt} + interval '1 second', ${createdAt} + interval '1 second', NULL, true, ''
       FROM generate_series(3, ?::int, 3) AS g`,
      [salt, salt, HISTORY_USERS_PREFIX, seed.users, salt, db.time(seed.from), step, db.time(seed.from), step, parents],
    );
    await db.run(`INSERT INTO token_scopes (token_key, scope) SELECT key, jsonb_array_elements_text(scopes) FROM tokens WHERE username LIKE ?`, [`${HISTORY_USERS_PREFIX}%`]);
    await db.run(`${CREATE_ENTRIES_FROM('::token_change')} WHERE username LIKE ?`, [`${HISTORY_USERS_PREFIX}%`]);
    await db.run('COMMIT');
  }
  return { tokens: parents + Math.floor(parents / 3) };
}

interface TokenForHistory {
  key: string;
  username: string;
  token_type: string;
  name: string | null;
  parent_key: string | null;
  scopes: string;
  created_at: string;
}

/**
 * `entries` EDIT entries on the history case's tokens, at distinct times
 * spread over [from, to]: every other one (the even positions) on a token
 * of `filteredUser`, the rest on the other owners' tokens. A USER token's
 * edit renames it (oldTokenName), a NOTEBOOK's clears its expiry (oldExpires).
 */
export async function seedDeepHistory(db: SeedConnection, entries: number, filteredUser: string, from: Date, to: Date): Promise<void> {
  const step = (to.getTime() - from.getTime()) / entries;
  const sqlite = db.sqliteHandle;
  if (sqlite) {
    const tokens = sqlite
      .prepare(`SELECT key, username, token_type, name, parent_key, scopes, created_at FROM tokens WHERE username LIKE ? ORDER BY key`)
      .all(`${HISTORY_USERS_PREFIX}%`) as TokenForHistory[];
    const mine = tokens.filter((token) => token.username === filteredUser);
    const others = tokens.filter((token) => token.username !== filteredUser);
    const insert = sqlite.prepare(`INSERT INTO token_change_history (${HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, 'edit', ?, NULL, ?, NULL, NULL, ?)`);
    sqlite.transaction(() => {
      for (let g = 0; g < entries; g += 1) {
        const list = g % 2 === 0 ? mine : others;
        const token = list[Math.floor(g / 2) % list.length]!;
        const user = token.token_type === 'user';
        const oldExpires = user ? null : sqliteTime(new Date(Date.parse(token.created_at) + 30 * DAY_MS));
        insert.run(token.key, token.username, token.token_type, token.name, token.parent_key, token.scopes, token.username, user ? `${token.name}-old` : null, oldExpires, sqliteTime(new Date(from.getTime() + g * step)));
      }
    })();
  } else {
    for (const [parity, owners] of [
      [0, 'username = ?'],
      [1, 'username LIKE ? AND username <> ?'],
    ] as const) {
      const count = parity === 0 ? Math.ceil(entries / 2) : Math.floor(entries / 2);
      const ownerParams = parity === 0 ? [filteredUser] : [`${HISTORY_USERS_PREFIX}%`, filteredUser];
      await db.run(
        `WITH t AS (SELECT key, username, token_type, name, parent_key, scopes, created_at, (row_number() OVER (ORDER BY key)) - 1 AS n FROM tokens WHERE ${owners}),
              c AS (SELECT count(*) AS c FROM t)
         INSERT INTO token_change_history (${HISTORY_COLUMNS})
         SELECT t.key, t.username, t.token_type, t.name, t.parent_key, t.scopes, NULL, NULL, t.username, 'edit'::token_change,
                CASE WHEN t.token_type = 'user' THEN t.name || '-old' END, NULL,
                CASE WHEN t.token_type = 'user' THEN NULL ELSE t.created_at + interval '30 days' END, NULL, NULL,
                ?::timestamp(3) + (2 * h + ?::int) * ?::double precision * interval '1 millisecond'
         FROM generate_series(0, ?::int - 1) AS h JOIN t ON t.n = h % (SELECT c FROM c)`,
        [...ownerParams, db.time(from), parity, step, count],
      );
    }
  }
}

/** Position ([epoch ms, id]) of the entry at `offset` in the history's order (event time, then id, newest first). */
export async function historyPosition(db: SeedConnection, offset: number, username: string | null): Promise<{ time: number; id: number }> {
  const where = username === null ? '' : 'WHERE username = ?';
  const params = username === null ? [offset] : [username, offset];
  const time = db.engine === 'sqlite' ? 'event_time' : `round(extract(epoch from event_time) * 1000)::bigint`;
  const rows = await db.all<{ id: number; t: string | number }>(
    `SELECT id, ${time} AS t FROM token_change_history ${where} ORDER BY event_time DESC, id DESC LIMIT 1 OFFSET ?`,
    params,
  );
  const row = rows[0];
  if (!row) throw new Error(`no history entry at offset ${offset}`);
  return { id: Number(row.id), time: typeof row.t === 'string' && db.engine === 'sqlite' ? Date.parse(row.t) : Number(row.t) };
}

/** The tokenHistory cursor of a position, as the server makes it. */
export const historyCursor = (position: { time: number; id: number }): string => encodeCursor({ time: new Date(position.time), id: position.id });

/** Puts the sweep case's tokens back as seeded: expired, with no EXPIRE entry and their names held. */
export async function resetExpiries(db: SeedConnection, username: string): Promise<void> {
  await db.run(`DELETE FROM token_change_history WHERE username = ? AND action = 'expire'`, [username]);
  await db.run(`UPDATE tokens SET expiry_recorded_at = NULL, active_name = name WHERE username = ?`, [username]);
  await db.settle();
}

export { DAY_MS };
