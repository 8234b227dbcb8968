import { z } from 'zod';
import type { Prisma } from '../db/client.ts';
import { instant, list, longText, nameText, optional, shortText, tokenKey } from './rules/input.ts';
import { foldName } from './rules/name-folding.ts';
import { TOKEN_TYPES, type TokenType } from './model.ts';

/** djblets' `extra_query`, as data: every given criterion must hold. */
export interface TokenFilter {
  keys?: readonly string[] | null;
  tokenTypes?: readonly TokenType[] | null;
  /** Tokens carrying any of these scopes. */
  scopes?: readonly string[] | null;
  note?: string | null;
  /** Tokens whose name contains this text, ignoring case (a token without a name never matches). */
  nameContains?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  expiresAfter?: Date | null;
  expiresBefore?: Date | null;
}

export const tokenFilter = z.object({
  keys: optional(list(tokenKey)),
  tokenTypes: optional(list(z.enum(TOKEN_TYPES))),
  scopes: optional(list(shortText)),
  note: optional(longText),
  // Trimmed and NFC-normalized as names are, and refused where a name would be (blank, invisible characters).
  nameContains: optional(nameText),
  createdAfter: optional(instant),
  createdBefore: optional(instant),
  expiresAfter: optional(instant),
  expiresBefore: optional(instant),
});

const range = (after?: Date | null, before?: Date | null) => (after || before ? { gte: after ?? undefined, lte: before ?? undefined } : undefined);

/** The filter as a Prisma condition; parse it with `tokenFilter` first. */
export function tokenFilterWhere(filter: TokenFilter | null | undefined): Prisma.TokenWhereInput {
  if (!filter) return {};
  // An empty list matches nothing, for scopes as for keys and token types: never everything.
  return {
    key: filter.keys ? { in: [...filter.keys] } : undefined,
    tokenType: filter.tokenTypes ? { in: [...filter.tokenTypes] } : undefined,
    scopeRows: filter.scopes ? { some: { scope: { in: [...filter.scopes] } } } : undefined,
    note: filter.note ?? undefined,
    // A plain LIKE on the folded name: the folded term holds no wildcard (rules/name-folding.ts).
    nameFolded: filter.nameContains ? { contains: foldName(filter.nameContains) } : undefined,
    createdAt: range(filter.createdAfter, filter.createdBefore),
    expiresAt: range(filter.expiresAfter, filter.expiresBefore),
  };
}
