import { z } from 'zod';
import type { DatabaseTransaction, Prisma, TokenRow } from '../db/client.ts';
import { inTransaction } from '../db/transaction.ts';
import { canSee, isOperator } from './authorization.ts';
import type { DomainDeps } from './deps.ts';
import { InvalidInputError, TokenNotFoundError } from './errors.ts';
import { chunks, validDescendantKeys } from './descendants.ts';
import { appendEntries, changeBy, entryFor, type ChangeContext } from './history.ts';
import type { Actor } from './model.ts';
import { hashToken } from './secrets.ts';
import { isWellFormed } from './verification.ts';
import { list, longText, optional, parseInput, tokenKey, username } from './input.ts';
import { tokenFilter, tokenFilterWhere, type TokenFilter } from './token-filter.ts';

export interface InvalidateTokensInput {
  /** Whose tokens; omitted means the caller's own. */
  usernames?: readonly string[] | null;
  /** Every user's tokens: admins only, and never implied by an empty list. */
  allUsers?: boolean | null;
  filter?: TokenFilter | null;
  reason?: string | null;
}

export interface InvalidateTokensResult {
  count: number;
  keys: string[];
}

/** djblets' invalidate_tokens: marks matching valid tokens and their descendants invalid, one REVOKE entry each. */
const invalidateTokensInput = z.object({
  usernames: optional(list(username)),
  allUsers: optional(z.boolean()),
  filter: optional(tokenFilter),
  reason: optional(longText),
});

export async function invalidateTokens(deps: DomainDeps, actor: Actor, rawInput: InvalidateTokensInput): Promise<InvalidateTokensResult> {
  const input = parseInput(invalidateTokensInput, rawInput);
  if (input.allUsers && input.usernames != null) throw new InvalidInputError('Pass usernames or allUsers, not both', 'usernames');
  // The operator has no tokens of its own, so it must say whose.
  const usernames = input.allUsers ? undefined : (input.usernames ?? (isOperator(actor) ? [] : [actor.username]));
  deps.authorizer.authorize(actor, input.allUsers ? "invalidate every user's tokens" : 'invalidate tokens', {
    admin: Boolean(input.allUsers),
    owner: usernames,
  });
  if (usernames?.length === 0) {
    throw new InvalidInputError('Name the usernames whose tokens to invalidate (or, as an admin, pass allUsers)', 'usernames');
  }
  const where: Prisma.TokenWhereInput = { valid: true, ...tokenFilterWhere(input.filter) };
  if (usernames) where.username = { in: [...usernames] };
  return inTransaction(deps.db, (tx) => invalidate(tx, where, input.reason ?? '', changeBy(actor, deps.now())));
}

/** Revokes one token and its descendants. */
export async function revokeToken(deps: DomainDeps, actor: Actor, rawKey: string, rawReason = ''): Promise<InvalidateTokensResult> {
  const { key, reason } = parseInput(z.object({ key: tokenKey, reason: longText }), { key: rawKey, reason: rawReason });
  deps.authorizer.authorize(actor, 'revoke tokens');
  const token = await deps.db.token.findUnique({ where: { key }, select: { username: true } });
  // Someone else's token answers as a missing one: no existence leak.
  if (!token || !canSee(actor, token.username)) throw new TokenNotFoundError(key);
  return inTransaction(deps.db, (tx) => invalidate(tx, { key, valid: true }, reason, changeBy(actor, deps.now())));
}

/** Invalidates the matching tokens and every valid descendant, with their REVOKE entries, in one transaction. */
export async function invalidate(
  tx: DatabaseTransaction,
  where: Prisma.TokenWhereInput,
  reason: string,
  change: ChangeContext,
): Promise<InvalidateTokensResult> {
  const matched = await tx.token.findMany({ where, select: { key: true } });
  const roots = matched.map((token) => token.key);
  const keys = [...roots, ...(await validDescendantKeys(tx, roots))];
  const revoked: TokenRow[] = [];
  for (const slice of chunks(keys)) {
    // `valid: true` again: a concurrent invalidation that got there first keeps its entry and we write none.
    revoked.push(
      ...(await tx.token.updateManyAndReturn({
        where: { key: { in: slice }, valid: true },
        data: { valid: false, invalidatedAt: change.eventTime, invalidReason: reason, activeName: null, lastUpdatedAt: change.eventTime },
      })),
    );
  }
  await appendEntries(tx, revoked.map((token) => entryFor(token, 'revoke', change)));
  return { count: revoked.length, keys: revoked.map((token) => token.key) };
}

/**
 * RFC 7009 revocation by value: revokes the presented token and its
 * descendants when the actor may (its owner with user:token, or an admin).
 * The caller learns nothing either way, so nothing here fails for the
 * token's sake: an unknown, already revoked or someone else's token is left
 * as it is.
 */
export async function revokeByValue(deps: DomainDeps, actor: Actor, presented: string): Promise<void> {
  if (!isWellFormed(deps.generators, presented)) return;
  const secretHash = hashToken(presented);
  await inTransaction(deps.db, async (tx) => {
    const token = await tx.token.findUnique({ where: { secretHash }, select: { key: true, username: true, valid: true } });
    if (!token?.valid || !canSee(actor, token.username)) return;
    await invalidate(tx, { key: token.key, valid: true }, '', changeBy(actor, deps.now()));
  });
}
