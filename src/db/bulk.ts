import type { Engine } from '../config.ts';
import { Prisma, type Database, type DatabaseTransaction } from './client.ts';
import { sqliteTime } from './hot-path/sqlite.ts';

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

/** Keys of `roots` and of every valid token below them, in one recursive query. */
export async function treeKeys(client: Client, roots: readonly string[]): Promise<string[]> {
  if (roots.length === 0) return [];
  const rows = await client.$queryRaw<{ key: string }[]>`
    WITH RECURSIVE tree(key) AS (
      SELECT "key" FROM "tokens" WHERE "key" IN (${keyList(roots)})
      UNION
      SELECT "tokens"."key" FROM "tokens" JOIN tree ON "tokens"."parent_key" = tree.key WHERE "tokens"."valid"
    )
    SELECT key FROM tree`;
  return rows.map((row) => row.key);
}

/** One entry per token in `keys`, each recording `action` on the token as it now is. */
async function appendEntriesFor(client: Client, engine: Engine, keys: readonly string[], action: 'revoke' | 'expire', stamp: EntryStamp): Promise<void> {
  if (keys.length === 0) return;
  await client.$executeRaw`
    INSERT INTO "token_change_history"
      ("token", "username", "token_type", "token_name", "parent", "scopes", "service", "expires", "actor", "action", "ip_address", "ip_key", "event_time")
    SELECT "key", "username", "token_type", "name", "parent_key", "scopes", "service", "expires_at",
      ${stamp.actor}${cast(engine, 'text')}, ${Prisma.raw(`'${action}'`)}, ${stamp.ipAddress}${cast(engine, 'text')},
      ${stamp.ipKey}${cast(engine, 'text')}, ${time(engine, stamp.eventTime)}${cast(engine, 'timestamp(3)')}
    FROM "tokens" WHERE "key" IN (${keyList(keys)})`;
}

/**
 * Revokes the valid tokens among `roots` and below them, with a REVOKE entry
 * each; returns the keys it revoked. A token another transaction revoked
 * first is left to that one's entry.
 */
export async function revokeTrees(tx: DatabaseTransaction, engine: Engine, roots: readonly string[], reason: string, stamp: EntryStamp): Promise<string[]> {
  const tree = await treeKeys(tx, roots);
  if (tree.length === 0) return [];
  const at = time(engine, stamp.eventTime);
  const revoked = await tx.$queryRaw<{ key: string }[]>`
    UPDATE "tokens" SET "valid" = FALSE, "invalidated_at" = ${at}${cast(engine, 'timestamp(3)')}, "invalid_reason" = ${reason},
      "active_name" = NULL, "last_updated_at" = ${at}${cast(engine, 'timestamp(3)')}
    WHERE "key" IN (${keyList(tree)}) AND "valid"
    RETURNING "key"`;
  const keys = revoked.map((row) => row.key);
  await appendEntriesFor(tx, engine, keys, 'revoke', stamp);
  return keys;
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
  await appendEntriesFor(tx, engine, claimed.map((row) => row.key), 'expire', stamp);
  return { due: due.length, claimed: claimed.length };
}

/** Deletes up to `limit` history entries older than `cutoff`; returns how many. */
export async function pruneHistory(db: Database, engine: Engine, cutoff: Date, limit: number): Promise<number> {
  return db.$executeRaw`
    DELETE FROM "token_change_history" WHERE "id" IN (
      SELECT "id" FROM "token_change_history" WHERE "event_time" < ${time(engine, cutoff)}${cast(engine, 'timestamp(3)')} LIMIT ${limit}
    )`;
}
