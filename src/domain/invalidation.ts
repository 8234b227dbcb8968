import type { Prisma, TokenRow } from '../db/client.ts';
import { canSee, isOperator } from './authorization.ts';
import type { DomainDeps } from './deps.ts';
import { InvalidInputError, TokenNotFoundError } from './errors.ts';
import { appendEntries, changeBy, entryFor, type ChangeContext } from './history.ts';
import type { Actor } from './model.ts';
import { tokenFilterWhere, type TokenFilter } from './token-filter.ts';

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

/** SQLite allows 32,766 bound parameters and PostgreSQL 65,535; key lists are sent in slices well below both. */
const IN_LIST_CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const slices: T[][] = [];
  for (let start = 0; start < items.length; start += IN_LIST_CHUNK) slices.push(items.slice(start, start + IN_LIST_CHUNK));
  return slices;
}

/** djblets' invalidate_tokens: marks matching valid tokens and their descendants invalid, one REVOKE entry each. */
export async function invalidateTokens(deps: DomainDeps, actor: Actor, input: InvalidateTokensInput): Promise<InvalidateTokensResult> {
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
  return invalidate(deps, where, input.reason ?? '', changeBy(actor, deps.now()));
}

/** Revokes one token and its descendants. */
export async function revokeToken(deps: DomainDeps, actor: Actor, key: string, reason = ''): Promise<InvalidateTokensResult> {
  deps.authorizer.authorize(actor, 'revoke tokens');
  const token = await deps.db.token.findUnique({ where: { key }, select: { username: true } });
  // Someone else's token answers as a missing one: no existence leak.
  if (!token || !canSee(actor, token.username)) throw new TokenNotFoundError(key);
  return invalidate(deps, { key, valid: true }, reason, changeBy(actor, deps.now()));
}

/** Invalidates the matching tokens and every valid descendant, with their REVOKE entries, in one transaction. */
async function invalidate(deps: DomainDeps, where: Prisma.TokenWhereInput, reason: string, change: ChangeContext): Promise<InvalidateTokensResult> {
  const revoked = await deps.db.$transaction(async (tx) => {
    const matched = await tx.token.findMany({ where, select: { key: true } });
    const keys = new Set(matched.map((token) => token.key));
    for (let frontier = [...keys]; frontier.length > 0; ) {
      const next: string[] = [];
      for (const slice of chunks(frontier)) {
        const children = await tx.token.findMany({ where: { parentKey: { in: slice }, valid: true }, select: { key: true } });
        for (const child of children) if (!keys.has(child.key)) (keys.add(child.key), next.push(child.key));
      }
      frontier = next;
    }
    const updated: TokenRow[] = [];
    for (const slice of chunks([...keys])) {
      // `valid: true` again: a concurrent invalidation that got there first keeps its entry and we write none.
      updated.push(
        ...(await tx.token.updateManyAndReturn({
          where: { key: { in: slice }, valid: true },
          data: { valid: false, invalidatedAt: change.eventTime, invalidReason: reason, activeName: null, lastUpdatedAt: change.eventTime },
        })),
      );
    }
    await appendEntries(tx, updated.map((token) => entryFor(token, 'revoke', change)));
    return updated;
  });
  return { count: revoked.length, keys: revoked.map((token) => token.key) };
}
