import type { FieldComplexityValue } from '@pothos/plugin-complexity';
import { BadQueryInputError } from '../domain/errors.ts';
import { LIMITS } from '../domain/rules/input.ts';
import { DEFAULT_PAGE_SIZE } from '../domain/pagination.ts';

/**
 * What a query may cost, priced in kibibytes of the largest answer it could
 * produce, so that the limit bounds the size of every response. Fields are
 * priced by their worst case under the input limits (domain/rules/input.ts): a
 * short scalar (a key, a name of 64 characters, a time) at a quarter, a note
 * or reason (1,000 characters) at 4, a JSON document (16 KiB) at 16. Lists
 * multiply what they hold by the page size they ask for. graphql-armor's
 * cost rule cannot serve: it ignores page sizes given as variables.
 */
export const MAX_QUERY_COST = 50_000;

export const PRICE = {
  shortScalar: 0.25,
  longText: Math.ceil((LIMITS.longText * 4) / 1024),
  jsonDocument: Math.ceil(LIMITS.jsonBytes / 1024),
} as const;

/** Per-process prices that depend on configuration. */
export interface Pricing {
  /** A token's scope list: at most 100 of the configured scopes. */
  scopeList: number;
}

export function pricingFor(knownScopes: readonly string[]): Pricing {
  const longest = [...knownScopes].sort((a, b) => b.length - a.length).slice(0, LIMITS.scopesPerToken);
  return { scopeList: Math.max(PRICE.shortScalar, Math.ceil(Buffer.byteLength(JSON.stringify(longest)) / 1024)) };
}

/** Every field without a price of its own: a short scalar or object, multiplied by its page size when it pages. */
export function defaultFieldComplexity(args: Record<string, unknown>): FieldComplexityValue {
  if ('first' in args || 'last' in args) {
    const size = [args.first, args.last].find((value): value is number => typeof value === 'number') ?? DEFAULT_PAGE_SIZE;
    return { field: PRICE.shortScalar, multiplier: Math.max(size, 0) };
  }
  // The multiplier is explicit: the plugin would otherwise multiply every list (edges) by 10.
  return { field: PRICE.shortScalar, multiplier: 1 };
}

export function complexityError(_kind: unknown, result: { complexity: number; maxComplexity?: number }): Error {
  return new BadQueryInputError(
    'QUERY_TOO_COMPLEX',
    `The query could answer up to ${Math.ceil(result.complexity)} KiB, more than the ${result.maxComplexity} KiB allowed: ask for smaller pages or fewer fields`,
  );
}
