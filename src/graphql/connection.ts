import { BadQueryInputError } from '../domain/errors.ts';
import type { Page, PageRequest, Position } from '../domain/pagination.ts';
import { isWellFormedText } from '../domain/rules/input.ts';

/**
 * Relay cursors: base64url of a row's position ([epoch ms, id]). Opaque to
 * clients; the domain sees only positions.
 */

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.time.getTime(), position.id])).toString('base64url');
}

/** Cursors this server gives out are far shorter; a longer one is refused before it is decoded. */
const MAX_CURSOR_LENGTH = 128;
/** The range of a JavaScript Date, in epoch milliseconds. */
const MAX_TIME = 8.64e15;

function decodeCursor<Id extends string | number>(cursor: string, idType: 'string' | 'number'): Position<Id> {
  if (cursor.length <= MAX_CURSOR_LENGTH) {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (Array.isArray(decoded) && decoded.length === 2) {
        const [time, id] = decoded as [unknown, unknown];
        const validId = idType === 'number' ? Number.isSafeInteger(id) : typeof id === 'string' && id.length <= 64 && isWellFormedText(id);
        if (Number.isSafeInteger(time) && Math.abs(time as number) <= MAX_TIME && validId) return { time: new Date(time as number), id: id as Id };
      }
    } catch {
      // fall through to the typed error
    }
  }
  // The cursor is not quoted: a client that pastes a token here must not see it echoed.
  throw new BadQueryInputError('BAD_CURSOR', 'The cursor is not one this connection gave out');
}

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Relay's arguments as the domain's page request, for a connection whose ids are strings or numbers. */
export function pageRequest<Id extends string | number>(args: ConnectionArgs, idType: Id extends number ? 'number' : 'string'): PageRequest<Id> {
  return {
    first: args.first,
    last: args.last,
    after: args.after == null ? null : decodeCursor<Id>(args.after, idType),
    before: args.before == null ? null : decodeCursor<Id>(args.before, idType),
  };
}

/** A domain page in the relay connection shape (totalCount is counted only when asked for). */
export function connectionFrom<Row>(page: Page<Row>) {
  const edges = page.rows.map((node) => ({ node, cursor: encodeCursor(page.positionOf(node)) }));
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
