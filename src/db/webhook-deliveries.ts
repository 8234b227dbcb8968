import type { Engine } from '../config.ts';
import { chunks } from './chunks.ts';
import { Prisma, type Database, type DatabaseTransaction } from './client.ts';
import { sqliteTime } from './hot-path/sqlite.ts';

/**
 * The SQL of webhook deliveries that Prisma's API cannot say on both engines:
 * inserts that skip rows already there (createMany's skipDuplicates is not
 * available on SQLite), and the worker's claim, a conditional UPDATE that
 * gives each due delivery to one worker whatever the number of processes.
 */

type Client = Database | DatabaseTransaction;

const time = (engine: Engine, value: Date) => (engine === 'sqlite' ? Prisma.sql`${sqliteTime(value)}` : Prisma.sql`${value.toISOString()}::timestamp(3)`);

export interface NewDelivery {
  webhookId: string;
  eventId: string;
  eventType: string;
  payload: string;
}

/** Queues deliveries due at once; one already queued for the same webhook and event is left as it is. Returns how many were new. */
export async function queueDeliveries(client: Client, engine: Engine, deliveries: readonly NewDelivery[], now: Date): Promise<number> {
  let queued = 0;
  // Six parameters a row: well under either engine's limit per statement.
  for (const slice of chunks(deliveries, 1000)) {
    const rows = slice.map(
      (delivery) =>
        Prisma.sql`(${delivery.webhookId}, ${delivery.eventId}, ${delivery.eventType}, ${delivery.payload}, ${time(engine, now)}, ${time(engine, now)})`,
    );
    queued += await client.$executeRaw`
      INSERT INTO "webhook_deliveries" ("webhook_id", "event_id", "event_type", "payload", "created_at", "next_attempt_at")
      VALUES ${Prisma.join(rows)}
      ON CONFLICT ("webhook_id", "event_id") DO NOTHING`;
  }
  return queued;
}

/**
 * Records expiry warnings at `thresholdDays` for `keys`, skipping those already
 * recorded; returns the keys recorded now (of two sweepers, each key goes to
 * one: the second waits on the first's row in the unique index, then skips it).
 */
export async function recordWarnings(tx: DatabaseTransaction, engine: Engine, keys: readonly string[], thresholdDays: number, now: Date): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows = keys.map((key) => Prisma.sql`(${key}, ${thresholdDays}, ${time(engine, now)})`);
  const recorded = await tx.$queryRaw<{ token_key: string }[]>`
    INSERT INTO "expiry_warnings" ("token_key", "threshold_days", "created_at") VALUES ${Prisma.join(rows)}
    ON CONFLICT ("token_key", "threshold_days") DO NOTHING
    RETURNING "token_key"`;
  return recorded.map((row) => row.token_key);
}

/** Valid tokens that expire after `now` and within `until`, without a warning at `thresholdDays` yet. */
export async function tokensToWarn(tx: DatabaseTransaction, engine: Engine, now: Date, until: Date, thresholdDays: number, limit: number): Promise<string[]> {
  const rows = await tx.$queryRaw<{ key: string }[]>`
    SELECT t."key" FROM "tokens" t
    WHERE t."valid" AND t."expires_at" > ${time(engine, now)} AND t."expires_at" <= ${time(engine, until)}
      AND NOT EXISTS (SELECT 1 FROM "expiry_warnings" w WHERE w."token_key" = t."key" AND w."threshold_days" = ${thresholdDays})
    LIMIT ${limit}`;
  return rows.map((row) => row.key);
}

export interface ClaimedDelivery {
  id: number;
  webhookId: string;
  eventId: string;
  payload: string;
  createdAt: Date;
  attempts: number;
}

/**
 * Claims up to `limit` due deliveries until `leaseUntil`: due (nextAttemptAt
 * passed) and not held by a live lease. One statement whose WHERE is checked
 * again on the row it updates, so that of two workers each row goes to one:
 * PostgreSQL skips rows another claim has locked (SKIP LOCKED) and re-checks
 * a row it waited for; SQLite has one writer at a time.
 */
export async function claimDeliveries(db: Database, engine: Engine, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  const due = Prisma.sql`"next_attempt_at" <= ${time(engine, now)} AND ("lease_until" IS NULL OR "lease_until" <= ${time(engine, now)})`;
  const lock = engine === 'postgresql' ? Prisma.sql`FOR UPDATE SKIP LOCKED` : Prisma.empty;
  const rows = await db.$queryRaw<{ id: number; webhook_id: string; event_id: string; payload: string; created_at: Date | string; attempts: number }[]>`
    UPDATE "webhook_deliveries" SET "lease_until" = ${time(engine, leaseUntil)}
    WHERE "id" IN (SELECT "id" FROM "webhook_deliveries" WHERE ${due} ORDER BY "next_attempt_at" LIMIT ${limit} ${lock}) AND ${due}
    RETURNING "id", "webhook_id", "event_id", "payload", "created_at", "attempts"`;
  return rows.map((row) => ({
    id: Number(row.id),
    webhookId: row.webhook_id,
    eventId: row.event_id,
    payload: row.payload,
    createdAt: new Date(row.created_at),
    attempts: Number(row.attempts),
  }));
}

/**
 * Deletes, up to `limit` at a time, deliveries finished (delivered or given
 * up) before `cutoff`, and the expiry warnings of tokens that can never be
 * warned again (revoked, or past their expiry). Returns how many rows went.
 */
export async function pruneWebhookRows(db: Database, engine: Engine, cutoff: Date, now: Date, limit: number): Promise<number> {
  const deliveries = await db.$executeRaw`
    DELETE FROM "webhook_deliveries" WHERE "id" IN (
      SELECT "id" FROM "webhook_deliveries"
      WHERE "next_attempt_at" IS NULL AND COALESCE("delivered_at", "failed_at") < ${time(engine, cutoff)}
      LIMIT ${limit}
    )`;
  const warnings = await db.$executeRaw`
    DELETE FROM "expiry_warnings" WHERE "token_key" IN (
      SELECT w."token_key" FROM "expiry_warnings" w JOIN "tokens" t ON t."key" = w."token_key"
      WHERE NOT t."valid" OR t."expires_at" <= ${time(engine, now)}
      LIMIT ${limit}
    )`;
  return deliveries + warnings;
}
