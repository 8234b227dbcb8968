import type { Database, DatabaseTransaction, HistoryRow, Prisma, TokenRow } from '../db/client.ts';
import { visibleUsername } from './authorization.ts';
import { BadQueryInputError } from './errors.ts';
import { ipKey, ipRange } from './ip.ts';
import type { Actor, JsonObject, TokenChange, TokenType } from './model.ts';
import { finishPage, planPage, type Page, type PageArgs } from './pagination.ts';
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

export interface ChangeContext {
  actor: string;
  ipAddress: string | null;
  eventTime: Date;
}

/** The entry that records `action` on `token` as it is after the change. */
export function entryFor(
  token: TokenRow,
  action: TokenChange,
  change: ChangeContext,
  old: { tokenName?: string | null; scopes?: string[] | null; expires?: Date | null } = {},
): Prisma.TokenChangeHistoryEntryCreateManyInput {
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

export async function appendEntries(
  tx: DatabaseTransaction,
  entries: Prisma.TokenChangeHistoryEntryCreateManyInput[],
): Promise<void> {
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

export interface HistoryPage extends Page<HistoryRow> {
  totalCount: () => Promise<number>;
}

function whereFor(actor: Actor, filter: HistoryFilter): Prisma.TokenChangeHistoryEntryWhereInput {
  const username = visibleUsername(actor, filter.username);
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
export async function queryHistory(db: Database, actor: Actor, filter: HistoryFilter, pageArgs: PageArgs): Promise<HistoryPage> {
  const where = whereFor(actor, filter);
  const plan = planPage(pageArgs, { time: 'eventTime', id: 'id' }, 'number');
  const rows = await db.tokenChangeHistoryEntry.findMany({
    where: { AND: [where, plan.where] },
    orderBy: plan.orderBy,
    take: plan.take,
  });
  const page = finishPage(rows, plan, (row) => ({ time: row.eventTime, id: row.id }));
  // Counted only when a client asks for totalCount.
  return { ...page, totalCount: () => db.tokenChangeHistoryEntry.count({ where }) };
}
