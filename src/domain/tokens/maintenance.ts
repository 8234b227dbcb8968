import { betweenChunks, inTransaction } from '../../db/transaction.ts';
import type { DomainDeps } from '../deps.ts';
import { pruneHistory, recordExpiries, type EntryStamp } from '../../db/bulk.ts';
import { pruneFailureWindows } from '../../db/auth-failures.ts';
import { stampOf } from '../history/entries.ts';
import { INTERNAL_ACTOR } from '../model.ts';
import { pruneWebhookHistory, recordExpiryWarnings } from '../webhooks/expiring.ts';

/**
 * The periodic work: an EXPIRE entry for each token that has expired, and
 * history older than the retention period deleted. Both run in chunks, each
 * its own short transaction, so that on SQLite other requests keep being
 * answered meanwhile.
 */

export interface MaintenanceReport {
  /** Tokens whose expiry was recorded now. */
  expired: number;
  /** History entries deleted for being older than the retention period. */
  pruned: number;
}

/** Tokens or entries per transaction: on SQLite each holds the write lock for well under 250 ms. */
const CHUNK = 1000;
const DAY_MS = 86_400_000;

export async function runMaintenance(deps: DomainDeps): Promise<MaintenanceReport> {
  const now = deps.now();
  const expired = await recordAllExpiries(deps, stampOf({ actor: INTERNAL_ACTOR, ipAddress: null, eventTime: now }));
  const cutoff = new Date(now.getTime() - deps.config.historyRetentionDays * DAY_MS);
  const pruned = await pruneAll(deps, cutoff);
  // token.expiring for the webhooks (the expired ones' token.expired comes from their EXPIRE entries).
  await recordExpiryWarnings(deps);
  await pruneWebhookHistory(deps, cutoff);
  // The failed-login limiter's ended windows (its counts live in the database on PostgreSQL only).
  if (deps.config.engine === 'postgresql') await pruneFailureWindows(deps.db, deps.config.engine, now);
  return { expired, pruned };
}

/**
 * One EXPIRE entry per expired, still valid token, never two: each chunk's
 * tokens are claimed by an UPDATE that requires them unclaimed, so of two
 * processes sweeping at once, each token's row goes to one (the other's
 * UPDATE waits for the row lock and then no longer matches).
 */
async function recordAllExpiries(deps: DomainDeps, stamp: EntryStamp): Promise<number> {
  let total = 0;
  for (;;) {
    const { due, claimed } = await inTransaction(deps.db, (tx) => recordExpiries(tx, deps.config.engine, CHUNK, stamp));
    total += claimed;
    if (due < CHUNK) return total;
    await betweenChunks();
  }
}

/** Deletes entries older than `cutoff` (strictly), a chunk at a time. */
async function pruneAll(deps: DomainDeps, cutoff: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await pruneHistory(deps.db, deps.config.engine, cutoff, CHUNK);
    total += deleted;
    if (deleted < CHUNK) return total;
    await betweenChunks();
  }
}
