import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { DatabaseTransaction, Prisma, TokenRow } from '../../db/client.ts';
import { inTransaction } from '../../db/transaction.ts';
import { lockedVisibleToken } from '../locked-token.ts';
import type { DomainDeps } from '../deps.ts';
import { narrowDescendants, shortenDescendants } from '../descendants.ts';
import { DuplicateTokenNameError, ExpiryTooSoonError, InvalidInputError, isUniqueViolation, TokenNotActiveError } from '../errors.ts';
import { appendEntries, changeBy, entryFor, type OldValues } from '../history/entries.ts';
import { instant, jsonDocument, longText, optional, parseInput, nameText, scopeList, tokenKey } from '../rules/input.ts';
import type { Actor, JsonObject } from '../model.ts';
import { foldName } from '../rules/name-folding.ts';
import { claimName, isNameTaken } from '../rules/names.ts';
import { assertMayMint } from '../rules/minting.ts';
import { validatePolicy } from '../rules/policy.ts';
import { assertKnownScopes, normalizeScopes, scopesOf } from '../rules/scopes.ts';
import { isActive } from '../rules/token-state.ts';

export interface EditTokenInput {
  key: string;
  /** Left out: unchanged. */
  name?: string | null;
  scopes?: readonly string[] | null;
  /** Left out (undefined): unchanged; null: never expires. */
  expires?: Date | null;
  note?: string | null;
  policy?: JsonObject | null;
}

const editTokenInput = z.object({
  key: tokenKey,
  name: optional(nameText),
  scopes: optional(scopeList),
  // null is a value here (clear the expiry), so only undefined means "unchanged".
  expires: instant.nullable().optional(),
  note: optional(longText),
  policy: optional(jsonDocument),
});

type ParsedEdit = z.output<typeof editTokenInput>;

/**
 * Edits a USER token's name, scopes, expiry, note or policy, with one EDIT
 * entry holding Gafaelfawr's old values; an edit that changes nothing writes
 * nothing. Shortening the expiry shortens every descendant that would
 * outlive it, and narrowing the scopes narrows every descendant's, each with
 * its own EDIT entry. The minting rule (rules/minting.ts) decides who may.
 */
export async function editToken(deps: DomainDeps, actor: Actor, rawInput: EditTokenInput): Promise<TokenRow> {
  const input = parseInput(editTokenInput, rawInput);
  deps.authorizer.authorize(actor, 'edit tokens');
  const scopes = input.scopes == null ? undefined : normalizeScopes(input.scopes);
  if (scopes) assertKnownScopes(scopes, deps.config.knownScopes);
  if (input.policy != null) validatePolicy(input.policy, deps.config.policyResources);
  const now = deps.now();
  if (input.expires != null && input.expires.getTime() < now.getTime() + deps.config.minExpirySeconds * 1000) {
    throw new ExpiryTooSoonError(deps.config.minExpirySeconds);
  }

  try {
    return await inTransaction(deps.db, (tx) => applyEdit(deps, tx, actor, input, scopes, now));
  } catch (error) {
    // Two renames to one name at once: each saw it free, the unique index let one through. Say so.
    if (isUniqueViolation(error) && input.name != null) {
      const owner = await deps.db.token.findUnique({ where: { key: input.key }, select: { username: true } });
      if (owner && (await isNameTaken(deps.db, owner.username, input.name, now))) throw new DuplicateTokenNameError(input.name);
    }
    throw error;
  }
}

/** The edit itself, in its transaction, with the token locked. */
async function applyEdit(
  deps: DomainDeps,
  tx: DatabaseTransaction,
  actor: Actor,
  input: ParsedEdit,
  scopes: string[] | undefined,
  now: Date,
): Promise<TokenRow> {
  const token = await lockedVisibleToken(deps, tx, actor, input.key);
  const replaced = input.expires !== undefined && (await tx.token.findUnique({ where: { replacesKey: token.key }, select: { key: true } })) !== null;
  assertMayMint(deps.authorizer, actor, { operation: 'edit', token, replaced, scopes, policy: input.policy, expires: input.expires });
  if (token.tokenType !== 'user') throw new InvalidInputError('Only user tokens can be edited', 'key');
  if (!isActive(token, now)) throw new TokenNotActiveError(token.key, 'is revoked or expired');
  const data = changedFields(token, input, scopes);
  if (Object.keys(data).length === 0) return token;

  if (data.name != null) await claimName(tx, token.username, data.name, now, token.key);
  const change = changeBy(actor, now);
  const edited = await tx.token.update({ where: { key: token.key }, data: { ...data, lastUpdatedAt: now } });
  await appendEntries(tx, [entryFor(edited, 'edit', change, oldValues(token, input))]);
  if (scopes && data.scopes !== undefined) await narrowDescendants(tx, deps.config.engine, token.key, scopes, change);
  // Shortened, or given an expiry where there was none: no descendant may outlive it.
  if (edited.expiresAt !== null && (token.expiresAt === null || edited.expiresAt < token.expiresAt)) {
    await shortenDescendants(tx, deps.config.engine, token.key, edited.expiresAt, change);
  }
  return edited;
}

/** The update for what the edit really changes (empty when nothing). */
function changedFields(token: TokenRow, input: ParsedEdit, scopes: string[] | undefined): Prisma.TokenUpdateInput & { name?: string } {
  const data: Prisma.TokenUpdateInput & { name?: string } = {};
  if (input.name != null && input.name !== token.name) Object.assign(data, { name: input.name, activeName: input.name, nameFolded: foldName(input.name) });
  if (scopes && !isDeepStrictEqual(scopes, scopesOf(token))) {
    Object.assign(data, { scopes, scopeRows: { deleteMany: {}, create: scopes.map((scope) => ({ scope })) } });
  }
  if (input.expires !== undefined && input.expires?.getTime() !== token.expiresAt?.getTime()) data.expiresAt = input.expires;
  if (input.note != null && input.note !== token.note) data.note = input.note;
  if (input.policy != null && !isDeepStrictEqual(input.policy, token.policy)) data.policy = input.policy;
  return data;
}

/** Gafaelfawr's rule: an old value is recorded whenever its field was passed. */
function oldValues(token: TokenRow, input: ParsedEdit): OldValues {
  return {
    tokenName: input.name != null ? token.name : undefined,
    scopes: input.scopes != null ? scopesOf(token) : undefined,
    expires: input.expires !== undefined ? token.expiresAt : undefined,
  };
}
