import type { Prisma } from '../db/client.ts';
import { InvalidInputError } from './errors.ts';
import type { TokenType } from './model.ts';

/** djblets' `extra_query`, as data: every given criterion must hold. */
export interface TokenFilter {
  keys?: readonly string[] | null;
  tokenTypes?: readonly TokenType[] | null;
  /** Tokens carrying any of these scopes. */
  scopes?: readonly string[] | null;
  note?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  expiresAfter?: Date | null;
  expiresBefore?: Date | null;
}

/** Keys or scopes a filter may list: each is a bound parameter. */
export const MAX_FILTER_LIST = 1000;

const range = (after?: Date | null, before?: Date | null) => (after || before ? { gte: after ?? undefined, lte: before ?? undefined } : undefined);

export function tokenFilterWhere(filter: TokenFilter | null | undefined): Prisma.TokenWhereInput {
  if (!filter) return {};
  for (const field of ['keys', 'scopes'] as const) {
    if ((filter[field]?.length ?? 0) > MAX_FILTER_LIST) {
      throw new InvalidInputError(`filter.${field} may list at most ${MAX_FILTER_LIST} values`, `filter.${field}`);
    }
  }
  // An empty list matches nothing, for scopes as for keys and token types: never everything.
  return {
    key: filter.keys ? { in: [...filter.keys] } : undefined,
    tokenType: filter.tokenTypes ? { in: [...filter.tokenTypes] } : undefined,
    scopeRows: filter.scopes ? { some: { scope: { in: [...filter.scopes] } } } : undefined,
    note: filter.note ?? undefined,
    createdAt: range(filter.createdAfter, filter.createdBefore),
    expiresAt: range(filter.expiresAfter, filter.expiresBefore),
  };
}
