import type { Engine } from '../config.ts';
import type { HistoryRow, Prisma } from '../db/client.ts';

/**
 * The feed's order: commit order. An entry's key is (txId, id): on
 * PostgreSQL the writing transaction's id (set by a trigger) then the entry's
 * id; on SQLite txId is NULL (read as 0) and the id alone is in commit order,
 * because SQLite has one writer at a time (every write transaction begins
 * IMMEDIATE) and AUTOINCREMENT never reuses an id.
 */
export interface FeedKey {
  txId: bigint;
  id: number;
}

export const keyOf = (entry: Pick<HistoryRow, 'txId' | 'id'>): FeedKey => ({ txId: entry.txId ?? 0n, id: entry.id });

export function compareKeys(a: FeedKey, b: FeedKey): number {
  if (a.txId !== b.txId) return a.txId < b.txId ? -1 : 1;
  return a.id - b.id;
}

/** Entries strictly after `after` and strictly before `before` in feed order, as a Prisma condition. */
export function keyRangeWhere(engine: Engine, after: FeedKey | null, before: FeedKey): Prisma.TokenChangeHistoryEntryWhereInput {
  if (engine === 'sqlite') return { id: { gt: after?.id, lt: before.id } };
  const lower: Prisma.TokenChangeHistoryEntryWhereInput[] = after
    ? [
        { txId: { gt: after.txId } },
        { txId: after.txId, id: { gt: after.id } },
        // Entries written before the feed's migration have no txId: they sort first, by id.
        ...(after.txId === 0n ? [{ txId: null, id: { gt: after.id } }] : []),
      ]
    : [];
  return {
    AND: [...(lower.length > 0 ? [{ OR: lower }] : []), { OR: [{ txId: { lt: before.txId } }, { txId: before.txId, id: { lt: before.id } }, { txId: null }] }],
  };
}

/** Feed order as a Prisma orderBy (txId is NULL on SQLite, so there it is the id alone). */
export const FEED_ORDER: Prisma.TokenChangeHistoryEntryOrderByWithRelationInput[] = [{ txId: { sort: 'asc', nulls: 'first' } }, { id: 'asc' }];
