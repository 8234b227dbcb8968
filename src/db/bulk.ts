import type { Engine } from '../config.ts';
import { Prisma, type Database, type DatabaseTransaction } from './client.ts';
import { chunks } from './chunks.ts';
import { columnList, ENTRY_FIELDS_FROM_TOKEN, HISTORY_COLUMNS, HISTORY_TABLE, TOKEN_COLUMNS, TOKEN_TABLE } from './hot-path/columns.ts';
import { sqliteTime } from './hot-path/sqlite.ts';
import { noteAppended } from './written-entries.ts';

/**
 * Set-based statements for work on many tokens at once (revocation with
 * descendants, the expiry sweep, history retention): a handful of statements
 * per chunk however many rows it holds, where Prisma's createMany would cost
 * a third of a millisecond of JavaScript per history row. The callers keep
 * the rules and the chunking; this keeps the SQL, written once for both
 * engines (the differences are a timestamp's text form and PostgreSQL's
 * casts for parameters whose type it cannot infer).
 */

/** Who made the change, from where, when: what every entry of one statement shares. */
export interface EntryStamp {
  actor: string;
  ipAddress: string | null;
  ipKey: string | null;
  eventTime: Date;
}

type Client = Database | DatabaseTransaction;

const time = (engine: Engine, value: Date): string => (engine === 'sqlite' ? sqliteTime(value) : value.toISOString());
const cast = (engine: Engine, type: string) => Prisma.raw(engine === 'postgresql' ? `::${type}` : '');
/** Each key a bound parameter. */
const keyList = (keys: readonly string[]) => Prisma.join(keys);

/** An appended entry's columns: those copied from its token's row, then the stamp's, in the order the SELECT gives them. */
const ENTRY_COLUMNS = Prisma.raw(
  columnList(HISTORY_COLUMNS, [...ENTRY_FIELDS_FROM_TOKEN.map(([entry]) => entry), 'actor', 'action', 'ipAddress', 'ipKey', 'eventTime']),
);
const ENTRY_SOURCE_COLUMNS = Prisma.raw(
  columnList(
    TOKEN_COLUMNS,
    ENTRY_FIELDS_FROM_TOKEN.map(([, token]) => token),
  ),
);
/** The tables and the key column appendEntriesFor names, from the same lists. */
const ENTRY_NAMES = { history: Prisma.raw(`"${HISTORY_TABLE}"`), tokens: Prisma.raw(`"${TOKEN_TABLE}"`), key: Prisma.raw(columnList(TOKEN_COLUMNS, ['key'])) };

/** One entry per token in `keys`, each recording `action` on the token as it now is. */
async function appendEntriesFor(client: Client, engine: Engine, keys: readonly string[], action: 'revoke' | 'expire', stamp: EntryStamp): Promise<void> {
  if (keys.length === 0) return;
  const inserted = await client.$executeRaw`
    INSERT INTO ${ENTRY_NAMES.history} (${ENTRY_COLUMNS})
    SELECT ${ENTRY_SOURCE_COLUMNS},
      ${stamp.actor}${cast(engine, 'text')}, ${Prisma.raw(`'${action}'`)}, ${stamp.ipAddress}${cast(engine, 'text')},
      ${stamp.ipKey}${cast(engine, 'text')}, ${time(engine, stamp.eventTime)}${cast(engine, 'timestamp(3)')}
    FROM ${ENTRY_NAMES.tokens} WHERE ${ENTRY_NAMES.key} IN (${keyList(keys)})`;
  noteAppended(client, action, inserted);
}

/**
 * Revokes the valid tokens among `roots` and below them, with a REVOKE entry
 * each; returns the keys it revoked. A token another transaction revoked
 * first is left to that one's entry.
 *
 * The tree is walked a level at a time, each level's UPDATE locking its rows
 * before the next level is read in a statement of its own. A child being
 * derived holds its parent (locks.ts lockParent), so the UPDATE of that
 * parent waits for the child's commit, and the next level's read, under
 * READ COMMITTED, then sees the child: one recursive query would have read
 * the whole tree before the wait, and missed it.
 */
export async function revokeTrees(tx: DatabaseTransaction, engine: Engine, roots: readonly string[], reason: string, stamp: EntryStamp): Promise<string[]> {
  const revoked = await revokeWhere(tx, engine, '"key"', roots, reason, stamp);
  // The roots' children are visited whether or not each root was still valid, so that revoking again repairs a tree.
  let parents: readonly string[] = roots;
  while (parents.length > 0) {
    const children = await revokeWhere(tx, engine, '"parent_key"', parents, reason, stamp);
    revoked.push(...children);
    parents = children;
  }
  return revoked;
}

/** Revokes the valid tokens whose `column` is among `keys`, with their entries; returns their keys. */
async function revokeWhere(
  tx: DatabaseTransaction,
  engine: Engine,
  column: '"key"' | '"parent_key"',
  keys: readonly string[],
  reason: string,
  stamp: EntryStamp,
): Promise<string[]> {
  const at = time(engine, stamp.eventTime);
  const revoked: string[] = [];
  for (const slice of chunks(keys)) {
    const rows = await tx.$queryRaw<{ key: string }[]>`
      UPDATE "tokens" SET "valid" = FALSE, "invalidated_at" = ${at}${cast(engine, 'timestamp(3)')}, "invalid_reason" = ${reason},
        "active_name" = NULL, "last_updated_at" = ${at}${cast(engine, 'timestamp(3)')}
      WHERE ${Prisma.raw(column)} IN (${keyList(slice)}) AND "valid"
      RETURNING "key"`;
    const changed = rows.map((row) => row.key);
    await appendEntriesFor(tx, engine, changed, 'revoke', stamp);
    revoked.push(...changed);
  }
  return revoked;
}

/**
 * Claims up to `limit` valid tokens that expired by the stamp's time and have
 * no EXPIRE entry yet, writes one each and frees their names. The claim is a
 * conditional UPDATE: of two sweepers, each row goes to one. Returns how many
 * were due and how many this call claimed.
 */
export async function recordExpiries(tx: DatabaseTransaction, engine: Engine, limit: number, stamp: EntryStamp): Promise<{ due: number; claimed: number }> {
  const at = time(engine, stamp.eventTime);
  const due = await tx.$queryRaw<{ key: string }[]>`
    SELECT "key" FROM "tokens"
    WHERE "valid" AND "expiry_recorded_at" IS NULL AND "expires_at" <= ${at}${cast(engine, 'timestamp(3)')}
    LIMIT ${limit}`;
  if (due.length === 0) return { due: 0, claimed: 0 };
  const claimed = await tx.$queryRaw<{ key: string }[]>`
    UPDATE "tokens" SET "expiry_recorded_at" = ${at}${cast(engine, 'timestamp(3)')}, "active_name" = NULL
    WHERE "key" IN (${keyList(due.map((row) => row.key))}) AND "valid" AND "expiry_recorded_at" IS NULL
    RETURNING "key"`;
  await appendEntriesFor(
    tx,
    engine,
    claimed.map((row) => row.key),
    'expire',
    stamp,
  );
  return { due: due.length, claimed: claimed.length };
}

/** Deletes up to `limit` history entries older than `cutoff`; returns how many. */
export async function pruneHistory(db: Database, engine: Engine, cutoff: Date, limit: number): Promise<number> {
  return db.$executeRaw`
    DELETE FROM "token_change_history" WHERE "id" IN (
      SELECT "id" FROM "token_change_history" WHERE "event_time" < ${time(engine, cutoff)}${cast(engine, 'timestamp(3)')} LIMIT ${limit}
    )`;
}
