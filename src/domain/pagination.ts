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

/** The queries a page may need besides its own, over the same filter (without the page's bounds). */
export interface PageQueries {
  /** How many rows match: run only when a client asks for totalCount. */
  count(): Promise<number>;
  /** Whether any row matches the filter and `bound` too: one LIMIT 1 query (findFirst). */
  exists(bound: Record<string, unknown>): Promise<boolean>;
}

/** What a findMany needs (where, orderBy, take), and how to read its answer back as a page. */
export interface PagePlan<Row> {
  where: Record<string, unknown>;
  orderBy: Record<string, Direction>[];
  take: number;
  finish(rows: Row[], queries: PageQueries): Promise<Page<Row>>;
}

/** A page size is a whole number from 0 to MAX_PAGE_SIZE: a larger request is an error, not a silent cut. */
export function checkPageSize(name: 'first' | 'last', value: number | null | undefined): void {
  if (value == null) return;
  if (value < 0 || !Number.isInteger(value)) throw new BadQueryInputError('BAD_PAGINATION', `${name} must be a non-negative integer`);
  if (value > MAX_PAGE_SIZE) throw new BadQueryInputError('PAGE_SIZE_TOO_LARGE', `${name} may be at most ${MAX_PAGE_SIZE}; got ${value}`);
}

export function planPage<Row, Id extends string | number>(request: PageRequest<Id>, fields: SortFields<Row, Id>): PagePlan<Row> {
  const { first, after, last, before } = request;
  if (first != null && last != null) {
    throw new BadQueryInputError('BAD_PAGINATION', 'Pass first (with after) or last (with before), not both');
  }
  checkPageSize('first', first);
  checkPageSize('last', last);
  // Relay's rules: both cursors bound the slice; then `first` takes from its
  // newest end and `last` from its oldest. With neither count, `before` alone
  // reads backwards (the page just before the cursor).
  const backward = last != null || (first == null && before != null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const bounds: Record<string, unknown>[] = [];
  if (after != null) bounds.push(beyond(after, fields, 'older'));
  if (before != null) bounds.push(beyond(before, fields, 'newer'));
  // Newest first: forward pages move to older rows, backward pages to newer ones.
  const order: Direction = backward ? 'asc' : 'desc';
  const positionOf = (row: Row): Position => ({ time: row[fields.time] as Date, id: row[fields.id] as Id });
  return {
    where: bounds.length > 0 ? { AND: bounds } : {},
    orderBy: [{ [fields.time]: order }, { [fields.id]: order }],
    take: size + 1,
    async finish(rows, { count, exists }) {
      const more = rows.length > size;
      const kept = rows.slice(0, size);
      if (backward) kept.reverse();
      // The extra row read says whether the page's own direction goes on. The
      // other side lies beyond a cursor, whose row may be gone (pruned by
      // history retention, or no longer matching the filter), so a row there
      // is looked for: one LIMIT 1 index seek per cursor whose side the rows
      // read cannot answer, nothing when no cursor is given.
      const [olderExists, newerExists] = await Promise.all([
        (backward || !more) && before != null ? exists(beyond(before, fields, 'older', true)) : false,
        (!backward || !more) && after != null ? exists(beyond(after, fields, 'newer', true)) : false,
      ]);
      return {
        rows: kept,
        hasNextPage: backward ? olderExists : more || olderExists,
        hasPreviousPage: backward ? more || newerExists : newerExists,
        positionOf,
        totalCount: count,
      };
    },
  };
}

/**
 * Rows older or newer than the position in (time, id) order, and the
 * position's own row too when `inclusive`. The plain bound on the time
 * (`lte` / `gte`) says the same as the OR, but it is what lets the database
 * seek in its (time, …) index to the position instead of scanning up to it:
 * a page far down costs what the first does.
 */
function beyond<Row, Id extends string | number>(
  position: Position<Id>,
  fields: SortFields<Row, Id>,
  side: 'older' | 'newer',
  inclusive = false,
): Record<string, unknown> {
  const strictly = side === 'older' ? 'lt' : 'gt';
  return {
    [fields.time]: { [`${strictly}e`]: position.time },
    OR: [
      { [fields.time]: { [strictly]: position.time } },
      { [fields.time]: position.time, [fields.id]: { [inclusive ? `${strictly}e` : strictly]: position.id } },
    ],
  };
}
