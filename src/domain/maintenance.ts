import { inTransaction } from '../db/transaction.ts';
import type { DomainDeps } from './deps.ts';
import { appendEntries, entryFor, type ChangeContext } from './history.ts';
import { INTERNAL_ACTOR } from './model.ts';

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

const CHUNK = 1000;
const DAY_MS = 86_400_000;

export async function runMaintenance(deps: DomainDeps): Promise<MaintenanceReport> {
  const now = deps.now();
  const expired = await recordExpiries(deps, { actor: INTERNAL_ACTOR, ipAddress: null, eventTime: now });
  const pruned = await pruneHistory(deps, new Date(now.getTime() - deps.config.historyRetentionDays * DAY_MS));
  return { expired, pruned };
}

/**
 * One EXPIRE entry per expired, still valid token, never two: a token is
 * claimed by setting expiryRecordedAt in an UPDATE that requires it unset,
 * so of two processes sweeping at once, each token's row goes to one (the
 * other's UPDATE waits for the row lock and then no longer matches). The
 * expired token's name is released too.
 */
async function recordExpiries(deps: DomainDeps, change: ChangeContext): Promise<number> {
  const due = { valid: true, expiryRecordedAt: null, expiresAt: { lte: change.eventTime } };
  let total = 0;
  for (;;) {
    const { found, claimed } = await inTransaction(deps.db, async (tx) => {
      const batch = await tx.token.findMany({ where: due, select: { key: true }, take: CHUNK });
      if (batch.length === 0) return { found: 0, claimed: 0 };
      const claimed = await tx.token.updateManyAndReturn({
        where: { ...due, key: { in: batch.map((token) => token.key) } },
        data: { expiryRecordedAt: change.eventTime, activeName: null },
      });
      await appendEntries(tx, claimed.map((token) => entryFor(token, 'expire', change)));
      return { found: batch.length, claimed: claimed.length };
    });
    total += claimed;
    if (found < CHUNK) return total;
  }
}

/** Deletes entries older than `cutoff` (strictly), a chunk at a time. */
async function pruneHistory(deps: DomainDeps, cutoff: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await deps.db.tokenChangeHistoryEntry.findMany({ where: { eventTime: { lt: cutoff } }, select: { id: true }, take: CHUNK });
    if (batch.length === 0) return total;
    const { count } = await deps.db.tokenChangeHistoryEntry.deleteMany({ where: { id: { in: batch.map((entry) => entry.id) } } });
    total += count;
    if (batch.length < CHUNK) return total;
  }
}
