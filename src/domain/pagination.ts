import { BadQueryInputError } from './errors.ts';

/**
 * Keyset pagination over rows ordered newest first by (time, id): stable
 * under inserts, and a page costs one indexed range scan however deep it is,
 * unlike OFFSET. The domain speaks in positions (a row's sort key); turning
 * them into opaque cursors is the API's business.
 */

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;

/** A row's place in the order. */
export interface Position<Id extends string | number = string | number> {
  time: Date;
  id: Id;
}

export interface PageRequest<Id extends string | number> {
  first?: number | null;
  after?: Position<Id> | null;
  last?: number | null;
  before?: Position<Id> | null;
}

/** One page of rows, oldest-to-newest flags included; the total is counted only when asked for. */
export interface Page<Row> {
  rows: Row[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  positionOf: (row: Row) => Position;
  totalCount: () => Promise<number>;
}

/** The row fields the order is made of: a time and a unique id. */
export interface SortFields<Row, Id extends string | number> {
  time: { [K in keyof Row]: Row[K] extends Date ? K : never }[keyof Row] & string;
  id: { [K in keyof Row]: Row[K] extends Id ? K : never }[keyof Row] & string;
}

type Direction = 'asc' | 'desc';

/** What a findMany needs (where, orderBy, take), and how to read its answer back as a page. */
export interface PagePlan<Row> {
  where: Record<string, unknown>;
  orderBy: Record<string, Direction>[];
  take: number;
  finish(rows: Row[], totalCount: () => Promise<number>): Page<Row>;
}

function checkSize(name: 'first' | 'last', value: number | null | undefined): void {
  if (value == null) return;
  if (value < 0 || !Number.isInteger(value)) throw new BadQueryInputError('BAD_PAGINATION', `${name} must be a non-negative integer`);
  if (value > MAX_PAGE_SIZE) throw new BadQueryInputError('PAGE_SIZE_TOO_LARGE', `${name} may be at most ${MAX_PAGE_SIZE}; got ${value}`);
}

export function planPage<Row, Id extends string | number>(request: PageRequest<Id>, fields: SortFields<Row, Id>): PagePlan<Row> {
  const { first, after, last, before } = request;
  if (first != null && last != null) {
    throw new BadQueryInputError('BAD_PAGINATION', 'Pass first (with after) or last (with before), not both');
  }
  checkSize('first', first);
  checkSize('last', last);
  // Relay's rules: both cursors bound the slice; then `first` takes from its
  // newest end and `last` from its oldest. With neither count, `before` alone
  // reads backwards (the page just before the cursor).
  const backward = last != null || (first == null && before != null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const bounds: Record<string, unknown>[] = [];
  if (after != null) bounds.push(beyond(after, fields, 'lt'));
  if (before != null) bounds.push(beyond(before, fields, 'gt'));
  // Newest first: forward pages move to older rows, backward pages to newer ones.
  const order: Direction = backward ? 'asc' : 'desc';
  const positionOf = (row: Row): Position => ({ time: row[fields.time] as Date, id: row[fields.id] as Id });
  return {
    where: bounds.length > 0 ? { AND: bounds } : {},
    orderBy: [{ [fields.time]: order }, { [fields.id]: order }],
    take: size + 1,
    finish(rows, totalCount) {
      const more = rows.length > size;
      const kept = rows.slice(0, size);
      if (backward) kept.reverse();
      return {
        rows: kept,
        // Rows beyond a given cursor exist (the cursor's own row, at least), so that side costs no query.
        hasNextPage: backward ? before != null : more || before != null,
        hasPreviousPage: backward ? more || after != null : after != null,
        positionOf,
        totalCount,
      };
    },
  };
}

/**
 * Rows older (`lt`) or newer (`gt`) than the position in (time, id) order.
 * The plain bound on the time (`lte` / `gte`) says the same as the OR, but it
 * is what lets the database seek in its (time, …) index to the position
 * instead of scanning up to it: a page far down costs what the first does.
 */
function beyond<Row, Id extends string | number>(position: Position<Id>, fields: SortFields<Row, Id>, side: 'lt' | 'gt'): Record<string, unknown> {
  return {
    [fields.time]: { [side === 'lt' ? 'lte' : 'gte']: position.time },
    OR: [{ [fields.time]: { [side]: position.time } }, { [fields.time]: position.time, [fields.id]: { [side]: position.id } }],
  };
}
