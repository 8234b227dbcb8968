import { BadQueryInputError } from './errors.ts';

/**
 * Keyset pagination over rows ordered newest first by (time, id). Cursors are
 * opaque to clients (base64url of the sort key), stable under inserts, and a
 * page costs one indexed range scan however deep it is, unlike OFFSET.
 */

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface SortKey<Id extends string | number> {
  time: Date;
  id: Id;
}

export interface Page<Row> {
  rows: Row[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export function encodeCursor(key: SortKey<string | number>): string {
  return Buffer.from(JSON.stringify([key.time.getTime(), key.id])).toString('base64url');
}

export function decodeCursor<Id extends string | number>(cursor: string, idType: 'string' | 'number'): SortKey<Id> {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [time, id] = decoded as [unknown, unknown];
      if (typeof time === 'number' && Number.isFinite(time) && typeof id === idType) {
        return { time: new Date(time), id: id as Id };
      }
    }
  } catch {
    // fall through to the typed error
  }
  throw new BadQueryInputError('BAD_CURSOR', `"${cursor}" is not a cursor this connection gave out`);
}

type Direction = 'asc' | 'desc';

/** What the caller's findMany needs: a where fragment, an order and a row limit. */
export interface PagePlan {
  where: Record<string, unknown>;
  orderBy: Record<string, Direction>[];
  take: number;
  /** Backward pages are read oldest first and reversed. */
  backward: boolean;
  size: number;
  afterGiven: boolean;
  beforeGiven: boolean;
}

export function planPage(args: PageArgs, fields: { time: string; id: string }, idType: 'string' | 'number'): PagePlan {
  const { first, after, last, before } = args;
  if (first != null && last != null) {
    throw new BadQueryInputError('BAD_PAGINATION', 'Pass first (with after) or last (with before), not both');
  }
  for (const [name, value] of [['first', first], ['last', last]] as const) {
    if (value != null && (value < 0 || !Number.isInteger(value))) {
      throw new BadQueryInputError('BAD_PAGINATION', `${name} must be a non-negative integer`);
    }
    if (value != null && value > MAX_PAGE_SIZE) {
      throw new BadQueryInputError('PAGE_SIZE_TOO_LARGE', `${name} may be at most ${MAX_PAGE_SIZE}; got ${value}`);
    }
  }
  // Relay's rules: both cursors bound the slice; then `first` takes from its
  // newest end and `last` from its oldest. With neither count, `before` alone
  // reads backwards (the page just before the cursor).
  const backward = last != null || (first == null && before != null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const bounds: Record<string, unknown>[] = [];
  if (after != null) bounds.push(beyondCursor(decodeCursor(after, idType), fields, 'lt'));
  if (before != null) bounds.push(beyondCursor(decodeCursor(before, idType), fields, 'gt'));
  // Newest first: forward pages move to older rows, backward pages to newer ones.
  const order: Direction = backward ? 'asc' : 'desc';
  return {
    where: bounds.length > 0 ? { AND: bounds } : {},
    orderBy: [{ [fields.time]: order }, { [fields.id]: order }],
    take: size + 1,
    backward,
    size,
    afterGiven: after != null,
    beforeGiven: before != null,
  };
}

/** Rows older (`lt`) or newer (`gt`) than the cursor in (time, id) order. */
function beyondCursor(key: SortKey<string | number>, fields: { time: string; id: string }, side: 'lt' | 'gt'): Record<string, unknown> {
  return { OR: [{ [fields.time]: { [side]: key.time } }, { [fields.time]: key.time, [fields.id]: { [side]: key.id } }] };
}

export function finishPage<Row>(rows: Row[], plan: PagePlan, keyOf: (row: Row) => SortKey<string | number>): Page<Row> {
  const more = rows.length > plan.size;
  const kept = rows.slice(0, plan.size);
  if (plan.backward) kept.reverse();
  return {
    rows: kept,
    cursors: kept.map((row) => encodeCursor(keyOf(row))),
    // Rows beyond a given cursor exist (the cursor's own row, at least), so
    // that side costs no query.
    hasNextPage: plan.backward ? plan.beforeGiven : more || plan.beforeGiven,
    hasPreviousPage: plan.backward ? more || plan.afterGiven : plan.afterGiven,
  };
}
