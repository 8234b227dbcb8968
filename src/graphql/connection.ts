import { BadQueryInputError } from '../domain/errors.ts';
import type { Page, PageRequest, Position, SortValue } from '../domain/pagination.ts';
import { isWellFormedText } from '../domain/rules/input.ts';

/**
 * Relay cursors: base64url of a row's position as JSON, `[value, id]` (a time
 * as epoch ms), led by the name of the order when the connection has more than
 * one (`["EXPIRES_AT:ASC", value, id]`), so that a cursor is refused by any
 * other order instead of paging it from a position that means nothing there.
 * Opaque to clients; the domain sees only positions.
 */

/** What a connection's cursors hold: the order they page in (when there are several), the kind of sort value, and the id's type. */
export interface CursorShape {
  order?: string;
  value: 'time' | 'text';
  /** Whether the value may be null (rows without one). */
  nullable?: boolean;
  id: 'string' | 'number';
}

/** Cursors of a connection with one order, by time, with string or number ids. */
const byTime = (id: 'string' | 'number'): CursorShape => ({ value: 'time', id });

export function encodeCursor(position: Position, order?: string): string {
  const value = position.value instanceof Date ? position.value.getTime() : position.value;
  const payload = order === undefined ? [value, position.id] : [order, value, position.id];
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** Cursors this server gives out are shorter (a text value is a token name: at most 64 characters, folded); a longer one is refused before it is decoded. */
const MAX_CURSOR_LENGTH = 1024;
/** A text value longer than this (in UTF-16 units) is no folded name. */
const MAX_TEXT_VALUE = 256;
/** The range of a JavaScript Date, in epoch milliseconds. */
const MAX_TIME = 8.64e15;

function decodeValue(value: unknown, shape: CursorShape): { value: SortValue } | null {
  if (value === null) return shape.nullable ? { value: null } : null;
  if (shape.value === 'time') return Number.isSafeInteger(value) && Math.abs(value as number) <= MAX_TIME ? { value: new Date(value as number) } : null;
  return typeof value === 'string' && value.length <= MAX_TEXT_VALUE && isWellFormedText(value) ? { value } : null;
}

function decodeCursor<Id extends string | number>(cursor: string, shape: CursorShape): Position<Id> {
  if (cursor.length <= MAX_CURSOR_LENGTH) {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      const expectedLength = shape.order === undefined ? 2 : 3;
      if (Array.isArray(decoded) && decoded.length === expectedLength && (shape.order === undefined || decoded[0] === shape.order)) {
        const [value, id] = decoded.slice(-2) as [unknown, unknown];
        const validId = shape.id === 'number' ? Number.isSafeInteger(id) : typeof id === 'string' && id.length <= 64 && isWellFormedText(id);
        const sortValue = decodeValue(value, shape);
        if (sortValue && validId) return { value: sortValue.value, id: id as Id };
      }
    } catch {
      // fall through to the typed error
    }
  }
  // The cursor is not quoted: a client that pastes a token here must not see it echoed.
  throw new BadQueryInputError('BAD_CURSOR', 'The cursor is not one this connection gave out (in this order)');
}

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * Relay's arguments as the domain's page request: `shape` says what the
 * connection's cursors hold, or, as 'string' or 'number', the type of the ids
 * of a connection ordered by time alone.
 */
export function pageRequest<Id extends string | number>(args: ConnectionArgs, shape: (Id extends number ? 'number' : 'string') | CursorShape): PageRequest<Id> {
  const cursorShape = typeof shape === 'string' ? byTime(shape) : shape;
  return {
    first: args.first,
    last: args.last,
    after: args.after == null ? null : decodeCursor<Id>(args.after, cursorShape),
    before: args.before == null ? null : decodeCursor<Id>(args.before, cursorShape),
  };
}

/** A domain page in the relay connection shape (totalCount is counted only when asked for), its cursors naming the shape's order if it has one. */
export function connectionFrom<Row>(page: Page<Row>, shape?: CursorShape) {
  const edges = page.rows.map((node) => ({ node, cursor: encodeCursor(page.positionOf(node), shape?.order) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: page.totalCount,
  };
}
