import { z } from 'zod';
import type { HistoryRow, Prisma } from '../../db/client.ts';
import { BadQueryInputError } from '../errors.ts';
import { ipRange, type IpRange } from '../ip.ts';
import { TOKEN_CHANGES, TOKEN_TYPES, type Actor, type TokenChange, type TokenType } from '../model.ts';
import type { Authorizer } from '../rules/authorization.ts';
import { instant, optional, parseInput, shortText, tokenKey } from '../rules/input.ts';

/**
 * The history filter, defined once: tokenHistory, Token.history and the live
 * feed's replay read it as SQL (`historyWhere`), the feed's fan-out as a test
 * on a row it already holds (`historyMatches`). Both are built from the same
 * parsed criteria, so that a live subscriber and a page of history never
 * disagree on what an entry matches.
 */

export interface HistoryFilter {
  username?: string | null;
  actor?: string | null;
  /** Matches the token itself or its parent. */
  key?: string | null;
  /** Matches that token's own entries only (Token.history), not its children's. */
  token?: string | null;
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
  token: optional(tokenKey),
  tokenType: optional(z.enum(TOKEN_TYPES)),
  action: optional(z.enum(TOKEN_CHANGES)),
  ipAddress: optional(shortText),
  since: optional(instant),
  until: optional(instant),
});

/** A filter checked, with the caller's visibility applied: what both forms are built from. */
export interface HistoryCriteria {
  /** The owner whose entries are visible: always the caller's own username for a non-admin. */
  username?: string;
  actor?: string;
  key?: string;
  token?: string;
  tokenType?: TokenType;
  action?: TokenChange;
  ipKeys?: IpRange;
  since?: Date;
  until?: Date;
}

/** The fields of an entry the filter reads. */
type FilterableEntry = Pick<HistoryRow, 'username' | 'actor' | 'token' | 'parent' | 'tokenType' | 'action' | 'ipKey' | 'eventTime'>;

/** Checks the filter and applies visibility (non-admins see only their own entries); a bad value is a typed error. */
export function historyCriteria(authorizer: Authorizer, actor: Actor, rawFilter: HistoryFilter, operation = 'read token history'): HistoryCriteria {
  const filter = parseInput(historyFilter, rawFilter, 'filter');
  const username = authorizer.visibleOwner(actor, operation, filter.username);
  if (filter.since && filter.until && filter.since > filter.until) {
    throw new BadQueryInputError('BAD_TIME_RANGE', 'since must not be later than until');
  }
  return {
    username,
    actor: filter.actor ?? undefined,
    key: filter.key ?? undefined,
    token: filter.token ?? undefined,
    tokenType: filter.tokenType ?? undefined,
    action: filter.action ?? undefined,
    ipKeys: filter.ipAddress ? ipRange(filter.ipAddress) : undefined,
    since: filter.since ?? undefined,
    until: filter.until ?? undefined,
  };
}

/** The criteria as a Prisma condition. */
export function historyWhere(criteria: HistoryCriteria): Prisma.TokenChangeHistoryEntryWhereInput {
  const { since, until, ipKeys, key } = criteria;
  return {
    username: criteria.username,
    actor: criteria.actor,
    token: criteria.token,
    tokenType: criteria.tokenType,
    action: criteria.action,
    ipKey: ipKeys ? { gte: ipKeys.low, lte: ipKeys.high } : undefined,
    eventTime: since || until ? { gte: since, lte: until } : undefined,
    OR: key ? [{ token: key }, { parent: key }] : undefined,
  };
}

/**
 * The same criteria as a test on a row, exactly as the SQL compares: text by
 * equality, ipKey (fixed-width lowercase hex) by code-point order, which is
 * how both engines compare it, times to the millisecond both engines keep.
 */
export function historyMatches(criteria: HistoryCriteria, entry: FilterableEntry): boolean {
  const { since, until, ipKeys, key } = criteria;
  if (criteria.username !== undefined && entry.username !== criteria.username) return false;
  if (criteria.actor !== undefined && entry.actor !== criteria.actor) return false;
  if (criteria.token !== undefined && entry.token !== criteria.token) return false;
  if (criteria.tokenType !== undefined && entry.tokenType !== criteria.tokenType) return false;
  if (criteria.action !== undefined && entry.action !== criteria.action) return false;
  if (ipKeys && (entry.ipKey === null || entry.ipKey < ipKeys.low || entry.ipKey > ipKeys.high)) return false;
  if (since && entry.eventTime.getTime() < since.getTime()) return false;
  if (until && entry.eventTime.getTime() > until.getTime()) return false;
  if (key !== undefined && entry.token !== key && entry.parent !== key) return false;
  return true;
}
