import type { DatabaseTransaction, TokenRow } from '../../db/client.ts';
import type { EntryStamp } from '../../db/bulk.ts';
import type { NewHistoryEntry } from '../../db/hot-path/columns.ts';
import { noteAppended } from '../../db/written-entries.ts';
import { ipKey } from '../ip.ts';
import type { Actor, TokenChange } from '../model.ts';
import { scopesOf } from '../rules/scopes.ts';

/**
 * Building the entries of the token change history (Gafaelfawr's
 * TokenChangeHistoryEntry). Entries are only ever appended, always by the
 * transaction that makes the change.
 */

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
  if (entries.length === 0) return;
  await tx.tokenChangeHistoryEntry.createMany({ data: entries });
  for (const entry of entries) noteAppended(tx, entry.action, 1);
}
