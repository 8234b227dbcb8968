import type { Database, HistoryRow } from '../../db/client.ts';
import type { HotPath } from '../../db/hot-path/index.ts';
import type { Actor } from '../model.ts';
import { planPage, type Page, type PageRequest } from '../pagination.ts';
import type { Authorizer } from '../rules/authorization.ts';
import { historyCriteria, historyWhere, type HistoryFilter } from './filter.ts';

export type { HistoryFilter };

/** Querying the token change history: filtered (filter.ts), newest first, keyset-paginated. */

/**
 * Newest first (event time, then id), keyset-paginated; non-admins see only their own entries.
 * The page itself is read on the hot path, which renders this same Prisma condition as a
 * prepared statement: a page of 100 entries costs a fraction of what Prisma's client spends
 * building them. The rarer count and the cursor's existence check stay with Prisma.
 */
export async function queryHistory(
  deps: { db: Database; hotPath: HotPath; authorizer: Authorizer },
  actor: Actor,
  rawFilter: HistoryFilter,
  request: PageRequest<number>,
): Promise<Page<HistoryRow>> {
  const where = historyWhere(historyCriteria(deps.authorizer, actor, rawFilter));
  const plan = planPage<HistoryRow, number>(request, { value: 'eventTime', id: 'id', direction: 'desc' });
  const rows = await deps.hotPath.findHistory({ where: { AND: [where, plan.where] }, orderBy: plan.orderBy, take: plan.take });
  return plan.finish(rows, {
    count: () => deps.db.tokenChangeHistoryEntry.count({ where }),
    exists: async (bound) => (await deps.db.tokenChangeHistoryEntry.findFirst({ where: { AND: [where, bound] }, select: { id: true } })) !== null,
  });
}
