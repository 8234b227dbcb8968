import { z } from 'zod';
import type { Database, DatabaseTransaction, HistoryRow, Prisma, TokenRow } from '../db/client.ts';
import type { EntryStamp } from '../db/bulk.ts';
import type { NewHistoryEntry } from '../db/hot-path/columns.ts';
import type { Authorizer } from './authorization.ts';
import { BadQueryInputError } from './errors.ts';
import { ipKey, ipRange } from './ip.ts';
import { instant, optional, parseInput, shortText, tokenKey } from './input.ts';
import { TOKEN_CHANGES, TOKEN_TYPES, type Actor, type JsonObject, type TokenChange, type TokenType } from './model.ts';
import { planPage, type Page, type PageRequest } from './pagination.ts';
import { scopesOf } from './scopes.ts';

/**
 * The token change history: Gafaelfawr's TokenChangeHistoryEntry. Entries are
 * only ever appended, always by the transaction that makes the change.
 */

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

/** Who made a change, from where, and when: shared by every entry one operation writes. */
export interface ChangeContext {
  actor: string;
  ipAddress: string | null;
  eventTime: Date;
}

export function changeBy(actor: Actor, eventTime: Date): ChangeContext {
  return { actor: actor.username, ipAddress: actor.ipAddress, eventTime };
}

/** The change as the set-based statements stamp their entries (db/bulk.ts). */
export function stampOf(change: ChangeContext): EntryStamp {
  return { ...change, ipKey: change.ipAddress === null ? null : ipKey(change.ipAddress) };
}

/** What an EDIT entry records of the values before the change (each only when that field was passed). */
export interface OldValues {
  tokenName?: string | null;
  scopes?: string[] | null;
  expires?: Date | null;
}

/** The entry that records `action` on `token` as it is after the change. */
export function entryFor(token: TokenRow, action: TokenChange, change: ChangeContext, old: OldValues = {}): NewHistoryEntry {
  return {
    token: token.key,
    username: token.username,
    tokenType: token.tokenType,
    tokenName: token.name,
    parent: token.parentKey,
    scopes: scopesOf(token),
    service: token.service,
    expires: token.expiresAt,
    actor: change.actor,
    action,
    oldTokenName: old.tokenName ?? null,
    oldScopes: old.scopes ?? undefined,
    oldExpires: old.expires ?? null,
    ipAddress: change.ipAddress,
    ipKey: change.ipAddress === null ? null : ipKey(change.ipAddress),
    eventTime: change.eventTime,
  };
}

export async function appendEntries(tx: DatabaseTransaction, entries: NewHistoryEntry[]): Promise<void> {
  if (entries.length > 0) await tx.tokenChangeHistoryEntry.createMany({ data: entries });
}

const epochSeconds = (time: Date | null): number | null => (time === null ? null : Math.floor(time.getTime() / 1000));

/**
 * Gafaelfawr's `model_dump_reduced()`: the entry as a dictionary without the
 * fields that say nothing for this kind of change.
 */
export function reducedEntry(entry: HistoryRow): JsonObject {
  const reduced: JsonObject = {
    token: entry.token,
    username: entry.username,
    token_type: entry.tokenType,
    token_name: entry.tokenName,
    parent: entry.parent,
    scopes: scopesOf(entry),
    service: entry.service,
    expires: epochSeconds(entry.expires),
    actor: entry.actor,
    action: entry.action,
    old_token_name: entry.oldTokenName,
    old_scopes: entry.oldScopes === null ? null : scopesOf({ scopes: entry.oldScopes }),
    old_expires: epochSeconds(entry.oldExpires),
    ip_address: entry.ipAddress,
    event_time: epochSeconds(entry.eventTime),
  };
  for (const optional of ['token_name', 'parent', 'service'] as const) {
    if (reduced[optional] === null) delete reduced[optional];
  }
  if (entry.action !== 'edit') {
    delete reduced.old_token_name;
    delete reduced.old_scopes;
    delete reduced.old_expires;
  } else {
    if (entry.oldTokenName === null) delete reduced.old_token_name;
    if (entry.oldScopes === null) delete reduced.old_scopes;
    // An edit that cleared the expiry has expires null and old_expires set;
    // only when both are null did the expiry not change.
    if (entry.oldExpires === null && entry.expires === null) delete reduced.old_expires;
  }
  return reduced;
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
  return plan.finish(rows, () => deps.db.tokenChangeHistoryEntry.count({ where }));
}
