import type { Engine } from '../config.ts';
import { Prisma, type Database } from './client.ts';
import { sqliteTime } from './hot-path/sqlite.ts';

/**
 * The failed-login limiter's windows in the database (table
 * auth_failure_windows), so that every process on one database counts
 * toward one limit per address. Written once for both engines, like bulk.ts.
 */

/** How long a failure counts against its address: the window begins with the first failure. */
export const FAILURE_WINDOW_MS = 60_000;

const time = (engine: Engine, value: Date): string => (engine === 'sqlite' ? sqliteTime(value) : value.toISOString());
const timestamp = (engine: Engine) => Prisma.raw(engine === 'postgresql' ? '::timestamp(3)' : '');

export interface FailureWindow {
  failures: number;
  windowStart: Date;
}

/**
 * Counts one failure of `address` at `now`, in one atomic statement: in a
 * window that began a minute or more before `now`, which is over, this
 * failure opens a new one. Concurrent failures from several processes serialize on
 * the row (ON CONFLICT DO UPDATE locks it), so none is lost.
 */
export async function countFailure(db: Database, engine: Engine, address: string, now: Date): Promise<FailureWindow> {
  const windowEndedBy = new Date(now.getTime() - FAILURE_WINDOW_MS);
  const at = Prisma.sql`${time(engine, now)}${timestamp(engine)}`;
  const over = Prisma.sql`"auth_failure_windows"."window_start" <= ${time(engine, windowEndedBy)}${timestamp(engine)}`;
  const rows = await db.$queryRaw<{ failures: number; window_start: Date | string }[]>`
    INSERT INTO "auth_failure_windows" ("address", "window_start", "failures") VALUES (${address}, ${at}, 1)
    ON CONFLICT ("address") DO UPDATE SET
      "failures" = CASE WHEN ${over} THEN 1 ELSE "auth_failure_windows"."failures" + 1 END,
      "window_start" = CASE WHEN ${over} THEN ${at} ELSE "auth_failure_windows"."window_start" END
    RETURNING "failures", "window_start"`;
  const row = rows[0];
  if (!row) throw new Error('counting a failed authentication returned no row');
  return { failures: Number(row.failures), windowStart: new Date(row.window_start) };
}

/** Deletes the windows that are over at `now`; returns how many. */
export async function pruneFailureWindows(db: Database, engine: Engine, now: Date): Promise<number> {
  const windowEndedBy = new Date(now.getTime() - FAILURE_WINDOW_MS);
  return db.$executeRaw`DELETE FROM "auth_failure_windows" WHERE "window_start" <= ${time(engine, windowEndedBy)}${timestamp(engine)}`;
}
