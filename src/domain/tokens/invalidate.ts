import { z } from 'zod';
import type { Prisma } from '../../db/client.ts';
import { betweenChunks, inTransaction } from '../../db/transaction.ts';
import { isOperator } from '../rules/authorization.ts';
import type { DomainDeps } from '../deps.ts';
import { InvalidInputError } from '../errors.ts';
import { revokeTrees } from '../../db/bulk.ts';
import { chunks } from '../../db/chunks.ts';
import { changeBy, stampOf, type ChangeContext } from '../history/entries.ts';
import { tally, type RevocationResult } from '../revocation.ts';
import type { Actor } from '../model.ts';
import { list, longText, optional, parseInput, username } from '../rules/input.ts';
import { tokenFilter, tokenFilterWhere, type TokenFilter } from '../token-filter.ts';

export interface InvalidateTokensInput {
  /** Whose tokens; omitted means the caller's own. */
  usernames?: readonly string[] | null;
  /** Every user's tokens: admins only, and never implied by an empty list. */
  allUsers?: boolean | null;
  filter?: TokenFilter | null;
  reason?: string | null;
}

/** How many tokens were revoked in all, and the first of them (at most REPORTED_KEYS). */
export type InvalidateTokensResult = RevocationResult;

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
  return invalidateMatching(deps, where, input.reason ?? '', changeBy(actor, deps.now()));
}

/** Roots revoked per transaction: on SQLite each holds the write lock for well under 250 ms. */
const ROOTS_PER_TRANSACTION = 1000;

/**
 * Invalidates the matching valid tokens and every valid descendant, each with
 * its REVOKE entry. The work is cut into transactions of a thousand roots,
 * so that a bulk invalidation does not hold SQLite's one write lock for
 * seconds: every token commits together with its entry, and a failure part
 * way leaves the tokens done so far done (retrying finishes the rest).
 */
async function invalidateMatching(deps: DomainDeps, where: Prisma.TokenWhereInput, reason: string, change: ChangeContext): Promise<InvalidateTokensResult> {
  // The roots are read once, up front: paging them in key order instead would
  // sort every remaining match per page (SQLite filters by the username index),
  // which made 100,000 tokens take twice as long.
  const roots = (await deps.db.token.findMany({ where, select: { key: true } })).map((token) => token.key);
  // A count and the first keys only: the answer stays the same size however many tokens were revoked.
  const result: InvalidateTokensResult = { count: 0, keys: [] };
  for (const chunk of chunks(roots, ROOTS_PER_TRANSACTION)) {
    await betweenChunks();
    tally(result, await inTransaction(deps.db, (tx) => revokeTrees(tx, deps.config.engine, chunk, reason, stampOf(change))));
  }
  return result;
}
