import { z } from 'zod';
import type { HistoryRow, Prisma, TokenRow } from '../../db/client.ts';
import { canSee } from '../rules/authorization.ts';
import type { DomainDeps } from '../deps.ts';
import type { Actor } from '../model.ts';
import { firstChildren } from '../../db/children.ts';
import { checkPageSize, planPage, type Page, type PageRequest } from '../pagination.ts';
import { optional, parseInput, shortText, tokenKey } from '../rules/input.ts';
import { tokenFilter, tokenFilterWhere, type TokenFilter } from '../token-filter.ts';

export interface ListTokensInput {
  username?: string | null;
  filter?: TokenFilter | null;
  /** Include revoked and invalidated tokens (default: valid ones only). */
  includeInvalid?: boolean | null;
}

/** A token the actor may see, or null (whether it exists or not: no existence leak). */
export async function getToken(deps: DomainDeps, actor: Actor, rawKey: string): Promise<TokenRow | null> {
  const key = parseInput(tokenKey, rawKey, 'key');
  deps.authorizer.authorize(actor, 'read tokens');
  const token = await deps.db.token.findUnique({ where: { key } });
  return token && canSee(actor, token.username) ? token : null;
}

/** A history entry the actor may see, or null. */
export async function getHistoryEntry(deps: DomainDeps, actor: Actor, id: number): Promise<HistoryRow | null> {
  deps.authorizer.authorize(actor, 'read token history');
  if (!Number.isSafeInteger(id)) return null;
  const entry = await deps.db.tokenChangeHistoryEntry.findUnique({ where: { id } });
  return entry && canSee(actor, entry.username) ? entry : null;
}

/**
 * Tokens by key in the order asked, for DataLoader. Callers reach them only
 * through rows already authorized, and a token's parent and children belong
 * to the same owner, so these links never cross to another user.
 */
export async function tokensByKeys(deps: DomainDeps, keys: readonly string[]): Promise<(TokenRow | null)[]> {
  const rows = await deps.db.token.findMany({ where: { key: { in: [...keys] } } });
  const byKey = new Map(rows.map((row) => [row.key, row]));
  return keys.map((key) => byKey.get(key) ?? null);
}

/** The tokens that replaced these (rotateToken), in the order asked; same owner, as above. */
export async function successorsByKeys(deps: DomainDeps, keys: readonly string[]): Promise<(TokenRow | null)[]> {
  const rows = await deps.db.token.findMany({ where: { replacesKey: { in: [...keys] } } });
  const byReplaced = new Map(rows.map((row) => [row.replacesKey, row]));
  return keys.map((key) => byReplaced.get(key) ?? null);
}

/**
 * The first `first` children of each parent, oldest first, in the order asked,
 * for DataLoader: one statement for the batch, at most `first` rows a parent
 * (db/children.ts). Same owner as the parent, as above.
 */
export async function childrenByParentKeys(deps: DomainDeps, keys: readonly string[], first: number): Promise<TokenRow[][]> {
  checkPageSize('first', first);
  const rows = await firstChildren(deps.db, deps.config.engine, keys, first);
  const byParent = new Map<string, TokenRow[]>(keys.map((key) => [key, []]));
  for (const row of rows) if (row.parentKey !== null) byParent.get(row.parentKey)?.push(row);
  return keys.map((key) => byParent.get(key) ?? []);
}

/** Newest first, keyset-paginated; non-admins list only their own. */
const listTokensInput = z.object({ username: optional(shortText), filter: optional(tokenFilter), includeInvalid: optional(z.boolean()) });

export async function listTokens(deps: DomainDeps, actor: Actor, rawInput: ListTokensInput, request: PageRequest<string>): Promise<Page<TokenRow>> {
  const input = parseInput(listTokensInput, rawInput);
  const where: Prisma.TokenWhereInput = {
    username: deps.authorizer.visibleOwner(actor, 'read tokens', input.username),
    ...tokenFilterWhere(input.filter),
  };
  if (!input.includeInvalid) where.valid = true;
  const plan = planPage<TokenRow, string>(request, { time: 'createdAt', id: 'key' });
  const rows = await deps.db.token.findMany({ where: { AND: [where, plan.where] }, orderBy: plan.orderBy, take: plan.take });
  return plan.finish(rows, {
    count: () => deps.db.token.count({ where }),
    exists: async (bound) => (await deps.db.token.findFirst({ where: { AND: [where, bound] }, select: { key: true } })) !== null,
  });
}
