import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, DatabaseTransaction } from './client.ts';
import { reportCommitted } from './written-entries.ts';

/**
 * Runs `work` in one interactive transaction, retried as a whole while the
 * database is busy.
 *
 * SQLite allows one writer. Every transaction begins IMMEDIATE (client.ts),
 * taking the write lock before it reads and waiting up to the busy timeout
 * while another connection (the hot path's, the CLI beside the server, a
 * second server) holds it. When that wait runs out the adapter reports
 * SQLITE_BUSY as Prisma's P1008, and the transaction, which has done nothing
 * yet, starts over. On PostgreSQL, which takes row locks and waits, a retry
 * never happens.
 */
const ATTEMPTS = 5;
/** How long a transaction may wait for this process's connection, and run: generous, because a busy SQLite makes both wait. */
const OPTIONS = { maxWait: 15_000, timeout: 20_000 } as const;

export function isDatabaseBusy(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P1008';
}

export async function inTransaction<T>(db: Database, work: (tx: DatabaseTransaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      let committed = null as DatabaseTransaction | null;
      const result = await db.$transaction(async (tx) => {
        committed = tx;
        return work(tx);
      }, OPTIONS);
      // The history entries it appended count from here (written-entries.ts), never before the commit.
      if (committed) reportCommitted(db, committed);
      return result;
    } catch (error) {
      if (attempt >= ATTEMPTS || !isDatabaseBusy(error)) throw error;
      // Back off a little, with jitter, so that contenders do not collide again in step.
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
    }
  }
}

/**
 * Lets the event loop go round once between the chunks of bulk work.
 * better-sqlite3 answers synchronously, so a loop of awaited Prisma calls
 * runs on promise callbacks alone and never reaches the event loop's I/O
 * phase: without this, every other request waits for the whole loop (an
 * invalidation of 100,000 tokens stalled the server for its 5 s), however
 * short each chunk's transaction is. A timer, not setImmediate, so that the
 * timers phase runs too: a hot-path write waiting out SQLITE_BUSY retries
 * then, while the write lock is free.
 */
export function betweenChunks(): Promise<void> {
  return sleep(0);
}
