import type { Database, HistoryRow } from '../../db/client.ts';
import type { Actor } from '../model.ts';
import { planPage, type Page, type PageRequest } from '../pagination.ts';
import type { Authorizer } from '../rules/authorization.ts';
import { historyCriteria, historyWhere, type HistoryFilter } from './filter.ts';

export type { HistoryFilter };

/** Querying the token change history: filtered (filter.ts), newest first, keyset-paginated. */

/** Newest first (event time, then id), keyset-paginated; non-admins see only their own entries. */
export async function queryHistory(
  deps: { db: Database; authorizer: Authorizer },
  actor: Actor,
  rawFilter: HistoryFilter,
  request: PageRequest<number>,
): Promise<Page<HistoryRow>> {
  const where = historyWhere(historyCriteria(deps.authorizer, actor, rawFilter));
  const plan = planPage<HistoryRow, number>(request, { value: 'eventTime', id: 'id', direction: 'desc' });
  const rows = await deps.db.tokenChangeHistoryEntry.findMany({ where: { AND: [where, plan.where] }, orderBy: plan.orderBy, take: plan.take });
  return plan.finish(rows, {
    count: () => deps.db.tokenChangeHistoryEntry.count({ where }),
    exists: async (bound) => (await deps.db.tokenChangeHistoryEntry.findFirst({ where: { AND: [where, bound] }, select: { id: true } })) !== null,
  });
}
