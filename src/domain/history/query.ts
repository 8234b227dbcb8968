import { z } from 'zod';
import type { Database, HistoryRow, Prisma } from '../../db/client.ts';
import { BadQueryInputError } from '../errors.ts';
import { ipRange } from '../ip.ts';
import { TOKEN_CHANGES, TOKEN_TYPES, type Actor, type TokenChange, type TokenType } from '../model.ts';
import { planPage, type Page, type PageRequest } from '../pagination.ts';
import type { Authorizer } from '../rules/authorization.ts';
import { instant, optional, parseInput, shortText, tokenKey } from '../rules/input.ts';

/** Querying the token change history: filtered, newest first, keyset-paginated. */

export interface HistoryFilter {
  username?: string | null;
  actor?: string | null;
  /** Matches the token itself or its parent. */
  key?: string | null;
  tokenType?: TokenType | null;
  action?: TokenChange | null;
  /** An exact IPv4/IPv6 address or a CIDR block. */
  ipAddress?: string | null;
  /** Inclusive. */
  since?: Date | null;
  /** Inclusive. */
  until?: Date | null;
}

const historyFilter = z.object({
  username: optional(shortText),
  actor: optional(shortText),
  key: optional(tokenKey),
  tokenType: optional(z.enum(TOKEN_TYPES)),
  action: optional(z.enum(TOKEN_CHANGES)),
  ipAddress: optional(shortText),
  since: optional(instant),
  until: optional(instant),
});

function historyWhere(username: string | undefined, filter: HistoryFilter): Prisma.TokenChangeHistoryEntryWhereInput {
  if (filter.since && filter.until && filter.since > filter.until) {
    throw new BadQueryInputError('BAD_TIME_RANGE', 'since must not be later than until');
  }
  const range = filter.ipAddress ? ipRange(filter.ipAddress) : null;
  return {
    username,
    actor: filter.actor ?? undefined,
    tokenType: filter.tokenType ?? undefined,
    action: filter.action ?? undefined,
    ipKey: range ? { gte: range.low, lte: range.high } : undefined,
    eventTime: filter.since || filter.until ? { gte: filter.since ?? undefined, lte: filter.until ?? undefined } : undefined,
    OR: filter.key ? [{ token: filter.key }, { parent: filter.key }] : undefined,
  };
}

/** Newest first (event time, then id), keyset-paginated; non-admins see only their own entries. */
export async function queryHistory(
  deps: { db: Database; authorizer: Authorizer },
  actor: Actor,
  rawFilter: HistoryFilter,
  request: PageRequest<number>,
): Promise<Page<HistoryRow>> {
  const filter = parseInput(historyFilter, rawFilter, 'filter');
  const username = deps.authorizer.visibleOwner(actor, 'read token history', filter.username);
  const where = historyWhere(username, filter);
  const plan = planPage<HistoryRow, number>(request, { time: 'eventTime', id: 'id' });
  const rows = await deps.db.tokenChangeHistoryEntry.findMany({ where: { AND: [where, plan.where] }, orderBy: plan.orderBy, take: plan.take });
  return plan.finish(rows, {
    count: () => deps.db.tokenChangeHistoryEntry.count({ where }),
    exists: async (bound) => (await deps.db.tokenChangeHistoryEntry.findFirst({ where: { AND: [where, bound] }, select: { id: true } })) !== null,
  });
}
