import type { Engine } from '../config.ts';
import { countFailure, FAILURE_WINDOW_MS } from '../db/auth-failures.ts';
import type { Database } from '../db/client.ts';
import type { Clock } from '../domain/model.ts';
import type { Logger } from '../logger.ts';
import { FailureLimiter } from './failure-limiter.ts';

/**
 * Counts failed credentials per client address. It is asked only about a
 * credential that has already failed, so a valid credential never touches
 * it and is never refused for its address.
 */
export interface FailureCounter {
  /** Records one failure; resolves to the seconds to wait when the address is over its limit, else null. */
  recordFailure(address: string): Promise<number | null>;
}

export interface FailureCounterOptions {
  engine: Engine;
  db: Database;
  failuresPerMinute: number;
  now: Clock;
  logger: Logger;
}

/**
 * On PostgreSQL the counts live in the database, shared by every process on
 * it, so a guesser cannot multiply its budget by the number of processes.
 * On SQLite each process counts in memory: an embedded database serves one
 * machine, and a write per failure would make a guesser contend with every
 * writer for SQLite's one write lock (with `serve --workers N`, an address
 * may fail N times the limit before every worker refuses it).
 */
export function createFailureCounter(options: FailureCounterOptions): FailureCounter {
  return options.engine === 'postgresql' ? databaseFailureCounter(options) : memoryFailureCounter(options);
}

function memoryFailureCounter({ failuresPerMinute, now }: FailureCounterOptions): FailureCounter {
  const limiter = new FailureLimiter(failuresPerMinute, undefined, () => now().getTime());
  return { recordFailure: async (address) => limiter.recordFailure(address) };
}

function databaseFailureCounter({ engine, db, failuresPerMinute, now, logger }: FailureCounterOptions): FailureCounter {
  return {
    async recordFailure(address) {
      const at = now();
      try {
        const window = await countFailure(db, engine, address, at);
        if (window.failures <= failuresPerMinute) return null;
        return Math.max(1, Math.ceil((window.windowStart.getTime() + FAILURE_WINDOW_MS - at.getTime()) / 1000));
      } catch (error) {
        // The credential has failed whatever happens here: it is still answered 401, only not slowed down.
        logger.error({ err: error }, 'could not count a failed authentication');
        return null;
      }
    },
  };
}
