import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import pg from 'pg';
import type { HistoryRow, TokenRow } from '../client.ts';
import { poolConfig } from '../migrations/postgres-adapter.ts';
import { CREDENTIAL_COLUMNS, HISTORY_COLUMNS, HISTORY_ROW_COLUMNS, TOKEN_COLUMNS, type Column, type NewHistoryEntry } from './columns.ts';
import type { Credential, HistoryQuery, HotPath, HotPathOptions, InsertOutcome, ParentCheck, StatementListener, TokenUse } from './types.ts';
import { sqlOrderBy, sqlWhere, type SqlDialect } from './where.ts';

/**
 * The hot path on PostgreSQL: a pool of its own, and named statements that
 * each connection prepares once. A new token, its scope rows and its entry
 * go in one statement of chained CTEs, which is atomic by itself: one round
 * trip, no explicit transaction.
 *
 * Prisma keeps DateTime in `timestamp(3)` (without time zone) as UTC, so
 * times travel as UTC text both ways, whatever the process's time zone.
 */

const TIMESTAMP_OID = 1114;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_OID ? (value: string) => new Date(`${value.replace(' ', 'T')}Z`) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function toPostgres(kind: Column<string>['kind'], value: unknown): unknown {
  if (value === null || value === undefined) return null;
  // Arrays would otherwise be sent as PostgreSQL arrays, not JSON.
  if (kind === 'json') return JSON.stringify(value);
  if (kind === 'time') return (value as Date).toISOString();
  return value;
}

/** A row read in array mode, as the model's fields (int8 arrives as text). */
function rowOf(columns: readonly Column<string>[], row: unknown[] | undefined): Record<string, unknown> | null {
  if (!row) return null;
  const token: Record<string, unknown> = {};
  for (const [index, column] of columns.entries()) {
    const value = row[index] ?? null;
    token[column.field] = column.kind === 'bigint' && value !== null ? BigInt(value as string) : value;
  }
  return token;
}

const list = (columns: readonly Column<string>[]) => columns.map((column) => `"${column.column}"`).join(', ');
const params = (from: number, count: number, casts: readonly string[] = []) =>
  Array.from({ length: count }, (_, index) => `$${from + index}${casts[index] ?? ''}`).join(', ');
/** The PostgreSQL enum type of each enum column (the @@map names of prisma/models.prisma's enums). */
const ENUM_TYPES: Readonly<Record<string, string>> = { token_type: '"token_type"', action: '"token_change"' };
const castOf = (column: Column<string>) =>
  ENUM_TYPES[column.column] !== undefined
    ? `::${ENUM_TYPES[column.column]}`
    : column.kind === 'json'
      ? '::jsonb'
      : column.kind === 'time'
        ? '::timestamp(3)'
        : '';

const dialect: SqlDialect = {
  placeholder: (column, index) => `$${index}${castOf(column)}`,
  parameter: (column, value) => toPostgres(column.kind, value),
};

/** Named (prepared once per connection) up to this many shapes of history query; any further shape runs unnamed. */
const MAX_NAMED_HISTORY_STATEMENTS = 256;

const FIND_TOKENS_BY_KEYS = `SELECT ${list(TOKEN_COLUMNS)} FROM "tokens" WHERE "key" = ANY($1::text[])`;

const ACTIVE_BY_SECRET = `FROM "tokens" WHERE "secret_hash" = $1 AND "valid" AND ("expires_at" IS NULL OR "expires_at" > $2::timestamp(3))`;

/**
 * Active tokens by their secrets' hashes, each at its own time: the lookups that arrive within one turn of the
 * event loop (a request's caller and the token it introspects, and those of concurrent requests) in one
 * statement and one round trip. The lateral subquery seeks the unique index once per hash.
 */
const activeBatch = (columns: readonly Column<string>[]) =>
  `SELECT "lookup"."index", "token".* FROM unnest($1::text[], $2::timestamp(3)[]) WITH ORDINALITY AS "lookup"("hash", "now", "index"),
  LATERAL (SELECT ${list(columns)} FROM "tokens" WHERE "secret_hash" = "lookup"."hash" AND "valid" AND ("expires_at" IS NULL OR "expires_at" > "lookup"."now")) AS "token"`;

/**
 * The statements of a lookup, by what it reads: a credential (what authentication needs) or the whole row; a
 * lookup alone takes the plain statement, cheaper for PostgreSQL than the batch's.
 */
const ACTIVE_STATEMENTS = {
  credential: {
    columns: CREDENTIAL_COLUMNS,
    one: { name: 'tessera_find_credential', text: `SELECT ${list(CREDENTIAL_COLUMNS)} ${ACTIVE_BY_SECRET}` },
    batch: { name: 'tessera_find_credentials', text: activeBatch(CREDENTIAL_COLUMNS) },
  },
  token: {
    columns: TOKEN_COLUMNS,
    one: { name: 'tessera_find_active', text: `SELECT ${list(TOKEN_COLUMNS)} ${ACTIVE_BY_SECRET}` },
    batch: { name: 'tessera_find_active_tokens', text: activeBatch(TOKEN_COLUMNS) },
  },
} as const;

/** One lookup of an active token: by its secret's hash, valid and unexpired at `now`; the whole row, or what authentication needs. */
interface ActiveLookup {
  secretHash: string;
  now: Date;
  reads: keyof typeof ACTIVE_STATEMENTS;
}

/** At most this many lookups share a statement. */
const MAX_LOOKUPS_PER_STATEMENT = 100;

const tokenCasts = TOKEN_COLUMNS.map(castOf);
const historyCasts = HISTORY_COLUMNS.map(castOf);
const scopesParam = TOKEN_COLUMNS.length + HISTORY_COLUMNS.length + 1;
const INSERT_TOKEN = `WITH "token" AS (
    INSERT INTO "tokens" (${list(TOKEN_COLUMNS)}) VALUES (${params(1, TOKEN_COLUMNS.length, tokenCasts)}) RETURNING "key"
  ), "scopes" AS (
    INSERT INTO "token_scopes" ("token_key", "scope") SELECT "token"."key", "scope" FROM "token", unnest($${scopesParam}::text[]) AS "scope"
  )
  INSERT INTO "token_change_history" (${list(HISTORY_COLUMNS)})
  SELECT ${params(TOKEN_COLUMNS.length + 1, HISTORY_COLUMNS.length, historyCasts)} FROM "token"`;

/** A derived token's parent, held until the child commits: a revocation or change of it waits, then sees the child. */
const LOCK_PARENT = `SELECT ${list(TOKEN_COLUMNS)} FROM "tokens" WHERE "key" = $1 FOR SHARE`;

const RECORD_USES = `UPDATE "tokens" SET "last_used_at" = "use"."at"::timestamp(3), "last_used_ip" = "use"."ip"
  FROM unnest($1::text[], $2::text[], $3::text[]) AS "use"("key", "at", "ip") WHERE "tokens"."key" = "use"."key"`;

const RELEASE_NAME = `UPDATE "tokens" SET "active_name" = NULL
  WHERE "username" = $1 AND "active_name" = $2 AND (NOT "valid" OR "expires_at" <= $3::timestamp(3))`;

export class PostgresHotPath implements HotPath {
  private readonly pool: pg.Pool;

  private readonly onStatement?: StatementListener;

  constructor(databaseUrl: string, { onStatement, logger }: HotPathOptions) {
    this.onStatement = onStatement;
    this.pool = new pg.Pool({ ...poolConfig(databaseUrl), max: 10 });
    // An idle connection that PostgreSQL closes (a restart, an administrator,
    // a network fault) is reported to the pool, which drops it; without a
    // listener node-postgres throws the error and takes the process down.
    this.pool.on('error', (error) => logger?.warn({ err: error }, 'PostgreSQL closed an idle connection of the hot path'));
  }

  private query(config: pg.QueryConfig & { rowMode?: 'array'; types?: typeof types }) {
    this.onStatement?.(config.text);
    return this.pool.query(config);
  }

  /** Gathers the lookups of one turn of the event loop into one statement; nothing is kept between turns (no cache). */
  private readonly activeTokens = new DataLoader<ActiveLookup, TokenRow | Credential | null>((lookups) => this.findActive(lookups), {
    cache: false,
    maxBatchSize: MAX_LOOKUPS_PER_STATEMENT,
  });

  findActiveToken(secretHash: string, now: Date): Promise<TokenRow | null> {
    return this.activeTokens.load({ secretHash, now, reads: 'token' }) as Promise<TokenRow | null>;
  }

  findActiveCredential(secretHash: string, now: Date): Promise<Credential | null> {
    return this.activeTokens.load({ secretHash, now, reads: 'credential' });
  }

  /** One statement for the lookups: the whole rows when any of them needs a whole row (a credential is part of one). */
  private async findActive(lookups: readonly ActiveLookup[]): Promise<(TokenRow | Credential | null)[]> {
    const { columns, one, batch } = ACTIVE_STATEMENTS[lookups.some((lookup) => lookup.reads === 'token') ? 'token' : 'credential'];
    const [first] = lookups;
    if (lookups.length === 1 && first) {
      const result = await this.query({ ...one, values: [first.secretHash, first.now.toISOString()], rowMode: 'array', types });
      return [rowOf(columns, result.rows[0] as unknown[] | undefined) as TokenRow | Credential | null];
    }
    const values = [lookups.map((lookup) => lookup.secretHash), lookups.map((lookup) => lookup.now.toISOString())];
    const result = await this.query({ ...batch, values, rowMode: 'array', types });
    const found: (TokenRow | Credential | null)[] = lookups.map(() => null);
    // The first column is the lookup's position (from 1, as WITH ORDINALITY counts); the row's columns follow.
    for (const [index, ...row] of result.rows as [string, ...unknown[]][]) found[Number(index) - 1] = rowOf(columns, row) as TokenRow | Credential;
    return found;
  }

  private readonly historyStatementNames = new Map<string, string>();

  async findHistory({ where, orderBy, take }: HistoryQuery): Promise<HistoryRow[]> {
    const condition = sqlWhere(where, HISTORY_ROW_COLUMNS, dialect);
    const text = `SELECT ${list(HISTORY_ROW_COLUMNS)} FROM "token_change_history" WHERE ${condition.text} ORDER BY ${sqlOrderBy(orderBy, HISTORY_ROW_COLUMNS)} LIMIT ${Math.trunc(take)}`;
    let name = this.historyStatementNames.get(text);
    if (name === undefined && this.historyStatementNames.size < MAX_NAMED_HISTORY_STATEMENTS) {
      name = `tessera_history_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
      this.historyStatementNames.set(text, name);
    }
    const result = await this.query({ name, text, values: condition.values, rowMode: 'array', types });
    return (result.rows as unknown[][]).map((row) => rowOf(HISTORY_ROW_COLUMNS, row) as HistoryRow);
  }

  async findTokensByKeys(keys: readonly string[]): Promise<TokenRow[]> {
    if (keys.length === 0) return [];
    const result = await this.query({ name: 'tessera_tokens_by_keys', text: FIND_TOKENS_BY_KEYS, values: [[...keys]], rowMode: 'array', types });
    return (result.rows as unknown[][]).map((row) => rowOf(TOKEN_COLUMNS, row) as TokenRow);
  }

  async recordUses(uses: readonly TokenUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.query({
      name: 'tessera_record_uses',
      text: RECORD_USES,
      values: [uses.map((use) => use.key), uses.map((use) => use.at.toISOString()), uses.map((use) => use.ip)],
    });
  }

  /**
   * One statement, atomic by itself, for a token on its own; a derived token
   * takes a transaction of four round trips, because its parent must be read
   * and held inside it (ParentCheck).
   */
  async insertToken(token: TokenRow, entry: NewHistoryEntry, parent?: ParentCheck): Promise<InsertOutcome> {
    const values = [
      ...TOKEN_COLUMNS.map((column) => toPostgres(column.kind, token[column.field])),
      ...HISTORY_COLUMNS.map((column) => toPostgres(column.kind, entry[column.field])),
      token.scopes,
    ];
    const insert = { name: 'tessera_insert_token', text: INSERT_TOKEN, values };
    try {
      if (!parent) {
        await this.query(insert);
        return 'inserted';
      }
      return await this.inTransaction(async (client) => {
        this.onStatement?.(LOCK_PARENT);
        const locked = await client.query({ name: 'tessera_lock_parent', text: LOCK_PARENT, values: [parent.key], rowMode: 'array', types });
        if (!parent.admits(rowOf(TOKEN_COLUMNS, locked.rows[0] as unknown[] | undefined) as TokenRow | null)) return 'parent-refused';
        this.onStatement?.(INSERT_TOKEN);
        await client.query(insert);
        return 'inserted';
      });
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code !== '23505') throw error;
      return constraint?.includes('active_name') ? 'name-taken' : 'secret-taken';
    }
  }

  /** `work` between BEGIN and COMMIT on one connection of the pool; rolled back when it throws or refuses. */
  private async inTransaction(work: (client: pg.PoolClient) => Promise<InsertOutcome>): Promise<InsertOutcome> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const outcome = await work(client);
      await client.query(outcome === 'inserted' ? 'COMMIT' : 'ROLLBACK');
      return outcome;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async releaseExpiredName(username: string, name: string, now: Date): Promise<boolean> {
    const result = await this.query({ name: 'tessera_release_name', text: RELEASE_NAME, values: [username, name, now.toISOString()] });
    return (result.rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
