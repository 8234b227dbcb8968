import { BadQueryInputError } from './errors.ts';

/**
 * Keyset pagination over rows in one order: a sort value, then a unique id as
 * the tiebreaker, both ascending or both descending. Stable under inserts, and
 * a page costs one range scan however deep it is, unlike OFFSET. The domain
 * speaks in positions (a row's sort value and id); turning them into opaque
 * cursors is the API's business.
 */

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;

/** What rows are sorted on: a time or a text, or nothing (null) where the field is nullable. */
export type SortValue = Date | string | null;

/** A row's place in the order. */
export interface Position<Id extends string | number = string | number> {
  value: SortValue;
  id: Id;
}

export interface PageRequest<Id extends string | number> {
  first?: number | null;
  after?: Position<Id> | null;
  last?: number | null;
  before?: Position<Id> | null;
}

/** One page of rows in the order, with flags for the pages on either side; the total is counted only when asked for. */
export interface Page<Row> {
  rows: Row[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  positionOf: (row: Row) => Position;
  totalCount: () => Promise<number>;
}

type Direction = 'asc' | 'desc';

/**
 * The order: the row field sorted on and the unique id that breaks ties, both
 * in `direction` (default: descending, newest first). When the field is
 * `nullable`, rows without a value come last in either direction, in id order
 * among themselves, as lists of "never expires" and "never used" tokens put
 * them last.
 */
export interface SortOrder<Row, Id extends string | number> {
  value: { [K in keyof Row]: Row[K] extends SortValue ? K : never }[keyof Row] & string;
  id: { [K in keyof Row]: Row[K] extends Id ? K : never }[keyof Row] & string;
  direction?: Direction;
  nullable?: boolean;
}

/** The queries a page may need besides its own, over the same filter (without the page's bounds). */
interface PageQueries {
  /** How many rows match: run only when a client asks for totalCount. */
  count(): Promise<number>;
  /** Whether any row matches the filter and `bound` too: one LIMIT 1 query (findFirst). */
  exists(bound: Record<string, unknown>): Promise<boolean>;
}

/** Prisma's sort of one field: a direction, or, for a nullable field, a direction and where the nulls go. */
type FieldSort = Direction | { sort: Direction; nulls: 'first' | 'last' };

/** What a findMany needs (where, orderBy, take), and how to read its answer back as a page. */
export interface PagePlan<Row> {
  where: Record<string, unknown>;
  orderBy: Record<string, FieldSort>[];
  take: number;
  finish(rows: Row[], queries: PageQueries): Promise<Page<Row>>;
}

/** A page size is a whole number from 0 to MAX_PAGE_SIZE: a larger request is an error, not a silent cut. */
export function checkPageSize(name: 'first' | 'last', value: number | null | undefined): void {
  if (value == null) return;
  if (value < 0 || !Number.isInteger(value)) throw new BadQueryInputError('BAD_PAGINATION', `${name} must be a non-negative integer`);
  if (value > MAX_PAGE_SIZE) throw new BadQueryInputError('PAGE_SIZE_TOO_LARGE', `${name} may be at most ${MAX_PAGE_SIZE}; got ${value}`);
}

export function planPage<Row, Id extends string | number>(request: PageRequest<Id>, order: SortOrder<Row, Id>): PagePlan<Row> {
  const { first, after, last, before } = request;
  if (first != null && last != null) {
    throw new BadQueryInputError('BAD_PAGINATION', 'Pass first (with after) or last (with before), not both');
  }
  checkPageSize('first', first);
  checkPageSize('last', last);
  // Relay's rules: both cursors bound the slice; then `first` takes from its
  // start and `last` from its end. With neither count, `before` alone reads
  // backwards (the page just before the cursor).
  const backward = last != null || (first == null && before != null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const bounds: Record<string, unknown>[] = [];
  if (after != null) bounds.push(beyond(after, order, 'later'));
  if (before != null) bounds.push(beyond(before, order, 'earlier'));
  // A backward page reads the order in reverse, nulls first, from its end.
  const direction = order.direction ?? 'desc';
  const reading: Direction = backward === (direction === 'desc') ? 'asc' : 'desc';
  const valueSort: FieldSort = order.nullable ? { sort: reading, nulls: backward ? 'first' : 'last' } : reading;
  const positionOf = (row: Row): Position => ({ value: row[order.value] as SortValue, id: row[order.id] as Id });
  return {
    where: bounds.length > 0 ? { AND: bounds } : {},
    orderBy: [{ [order.value]: valueSort }, { [order.id]: reading }],
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
      const [laterExists, earlierExists] = await Promise.all([
        (backward || !more) && before != null ? exists(beyond(before, order, 'later', true)) : false,
        (!backward || !more) && after != null ? exists(beyond(after, order, 'earlier', true)) : false,
      ]);
      return {
        rows: kept,
        hasNextPage: backward ? laterExists : more || laterExists,
        hasPreviousPage: backward ? more || earlierExists : earlierExists,
        positionOf,
        totalCount: count,
      };
    },
  };
}

/**
 * Rows later or earlier in the order than the position, and the position's
 * own row too when `inclusive`. Where no null can be involved, the plain
 * bound on the value (`lte` / `gte`) says the same as the OR, but it is what
 * lets the database seek in its (value, …) index to the position instead of
 * scanning up to it: a page far down costs what the first does. Nulls, last
 * in the order, are written out by hand: SQL's comparisons never match them.
 */
function beyond<Row, Id extends string | number>(
  position: Position<Id>,
  order: SortOrder<Row, Id>,
  side: 'later' | 'earlier',
  inclusive = false,
): Record<string, unknown> {
  const { value: field, id } = order;
  const strictly = (side === 'later') === ((order.direction ?? 'desc') === 'asc') ? 'gt' : 'lt';
  const ids = { [inclusive ? `${strictly}e` : strictly]: position.id };
  if (position.value === null) {
    // Among the nulls, at the end of the order: only nulls come later; every value, and the nulls before it in id order, come earlier.
    const nullsBeyond = { [field]: null, [id]: ids };
    return side === 'later' ? nullsBeyond : { OR: [{ [field]: { not: null } }, nullsBeyond] };
  }
  const seek = { [field]: { [`${strictly}e`]: position.value } };
  const valuesBeyond = [{ [field]: { [strictly]: position.value } }, { [field]: position.value, [id]: ids }];
  if (order.nullable && side === 'later') return { OR: [...valuesBeyond, { [field]: null }] };
  return { ...seek, OR: valuesBeyond };
}
