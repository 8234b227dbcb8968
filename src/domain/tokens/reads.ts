import { z } from 'zod';
import type { HistoryRow, Prisma, TokenRow } from '../../db/client.ts';
import { canSee } from '../rules/authorization.ts';
import type { DomainDeps } from '../deps.ts';
import type { Actor } from '../model.ts';
import { childrenSlices } from '../../db/children.ts';
import { BadQueryInputError } from '../errors.ts';
import { checkPageSize, DEFAULT_PAGE_SIZE, planPage, type Page, type PageRequest, type Position, type SortOrder } from '../pagination.ts';
import { optional, parseInput, shortText, tokenKey } from '../rules/input.ts';
import { tokenFilter, tokenFilterWhere, type TokenFilter } from '../token-filter.ts';

export interface ListTokensInput {
  username?: string | null;
  filter?: TokenFilter | null;
  /** Include revoked and invalidated tokens (default: valid ones only). */
  includeInvalid?: boolean | null;
  /** Default: newest first (DEFAULT_TOKEN_ORDER). */
  orderBy?: TokenOrder | null;
}

const TOKEN_ORDER_FIELDS = ['createdAt', 'expiresAt', 'lastUsedAt', 'name'] as const;
export type TokenOrderField = (typeof TOKEN_ORDER_FIELDS)[number];

/** The order `tokens` pages in: a field, then the key, both in `direction`. */
export interface TokenOrder {
  field: TokenOrderField;
  direction: 'asc' | 'desc';
}

export const DEFAULT_TOKEN_ORDER: TokenOrder = { field: 'createdAt', direction: 'desc' };

/**
 * The column each order sorts on, its kind, and whether it may be null (such
 * tokens come last, in either direction). NAME sorts on the folded name, so
 * that it ignores case as search by name does.
 */
export const TOKEN_SORTS = {
  createdAt: { value: 'createdAt', kind: 'time', nullable: false },
  expiresAt: { value: 'expiresAt', kind: 'time', nullable: true },
  lastUsedAt: { value: 'lastUsedAt', kind: 'time', nullable: true },
  name: { value: 'nameFolded', kind: 'text', nullable: true },
} as const satisfies Record<TokenOrderField, { value: SortOrder<TokenRow, string>['value']; kind: 'time' | 'text'; nullable: boolean }>;

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
  // On the hot path: a history page's links are a batch of a hundred or so keys, every page.
  const rows = await deps.hotPath.findTokensByKeys(keys);
  const byKey = new Map(rows.map((row) => [row.key, row]));
  return keys.map((key) => byKey.get(key) ?? null);
}

/** The tokens that replaced these (rotateToken), in the order asked; same owner, as above. */
export async function successorsByKeys(deps: DomainDeps, keys: readonly string[]): Promise<(TokenRow | null)[]> {
  const rows = await deps.db.token.findMany({ where: { replacesKey: { in: [...keys] } } });
  const byReplaced = new Map(rows.map((row) => [row.replacesKey, row]));
  return keys.map((key) => byReplaced.get(key) ?? null);
}

/** A page of one parent's children; its total is counted apart (childCounts), for a whole batch at once. */
export type ChildrenPage = Omit<Page<TokenRow>, 'totalCount'>;

/**
 * The same page of each parent's children, oldest first (created time, then
 * key), in the order asked, for DataLoader: one statement for the batch, at
 * most the page size plus one rows a parent (db/children.ts); the extra row
 * says whether the page's direction goes on. Same owner as the parent, as above.
 */
export async function childrenPages(deps: DomainDeps, keys: readonly string[], request: PageRequest<string>): Promise<ChildrenPage[]> {
  const { first, after, last, before } = request;
  if (first != null && last != null) throw new BadQueryInputError('BAD_PAGINATION', 'Pass first (with after) or last (with before), not both');
  checkPageSize('first', first);
  checkPageSize('last', last);
  // Relay's rules, as planPage reads them: `last`, or `before` alone, pages backward from the newest end.
  const fromNewest = last != null || (first == null && before != null);
  const size = (fromNewest ? last : first) ?? DEFAULT_PAGE_SIZE;
  // Children are in creation order: a cursor of another order (a name, say) is not one this connection gave out.
  const position = (cursor: Position<string> | null | undefined) => {
    if (!cursor) return null;
    if (!(cursor.value instanceof Date)) throw new BadQueryInputError('BAD_CURSOR', 'The cursor is not one this connection gave out');
    return { time: cursor.value, key: cursor.id };
  };
  const rows = await childrenSlices(deps.db, deps.config.engine, keys, { take: size + 1, after: position(after), before: position(before), fromNewest });
  const byParent = new Map<string, TokenRow[]>(keys.map((key) => [key, []]));
  for (const row of rows) if (row.parentKey !== null) byParent.get(row.parentKey)?.push(row);
  return keys.map((key) => {
    const children = byParent.get(key) ?? [];
    const more = children.length > size;
    const kept = fromNewest ? children.slice(children.length - Math.min(size, children.length)) : children.slice(0, size);
    // Beyond a cursor lies at least the cursor's own child (tokens are never deleted), so that side goes on.
    return {
      rows: kept,
      hasNextPage: fromNewest ? before != null : more,
      hasPreviousPage: fromNewest ? more : after != null,
      positionOf: (row: TokenRow) => ({ value: row.createdAt, id: row.key }),
    };
  });
}

/** How many children each parent has, in the order asked, for DataLoader: one grouped count for the batch. */
export async function childCounts(deps: DomainDeps, keys: readonly string[]): Promise<number[]> {
  const groups = await deps.db.token.groupBy({ by: ['parentKey'], where: { parentKey: { in: [...keys] } }, _count: { _all: true } });
  const byParent = new Map(groups.map((group) => [group.parentKey, group._count._all]));
  return keys.map((key) => byParent.get(key) ?? 0);
}

/**
 * Keyset-paginated in the order asked (newest first by default); non-admins
 * list only their own. One user's tokens are found by the (username,
 * created_at) index, which also serves the default order; the other orders
 * sort that user's matching tokens, a few hundred rows at most, and have no
 * index of their own: the client writes NULLS LAST as a CASE expression on
 * SQLite, which no index serves, last_used_at is rewritten on every use (an
 * index would cost each write on the hot path), and a name search is a
 * substring match, which no index serves either.
 */
const listTokensInput = z.object({
  username: optional(shortText),
  filter: optional(tokenFilter),
  includeInvalid: optional(z.boolean()),
  orderBy: optional(z.object({ field: z.enum(TOKEN_ORDER_FIELDS), direction: z.enum(['asc', 'desc']) })),
});

export async function listTokens(deps: DomainDeps, actor: Actor, rawInput: ListTokensInput, request: PageRequest<string>): Promise<Page<TokenRow>> {
  const input = parseInput(listTokensInput, rawInput);
  const where: Prisma.TokenWhereInput = {
    username: deps.authorizer.visibleOwner(actor, 'read tokens', input.username),
    ...tokenFilterWhere(input.filter),
  };
  if (!input.includeInvalid) where.valid = true;
  const order = input.orderBy ?? DEFAULT_TOKEN_ORDER;
  const { value, nullable } = TOKEN_SORTS[order.field];
  const plan = planPage<TokenRow, string>(request, { value, id: 'key', direction: order.direction, nullable });
  const rows = await deps.db.token.findMany({ where: { AND: [where, plan.where] }, orderBy: plan.orderBy, take: plan.take });
  return plan.finish(rows, {
    count: () => deps.db.token.count({ where }),
    exists: async (bound) => (await deps.db.token.findFirst({ where: { AND: [where, bound] }, select: { key: true } })) !== null,
  });
}
