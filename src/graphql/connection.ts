import { BadQueryInputError } from '../domain/errors.ts';
import type { Page, PageRequest, Position } from '../domain/pagination.ts';

/**
 * Relay cursors: base64url of a row's position ([epoch ms, id]). Opaque to
 * clients; the domain sees only positions.
 */

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.time.getTime(), position.id])).toString('base64url');
}

function decodeCursor<Id extends string | number>(cursor: string, idType: 'string' | 'number'): Position<Id> {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [time, id] = decoded as [unknown, unknown];
      if (typeof time === 'number' && Number.isFinite(time) && typeof id === idType) return { time: new Date(time), id: id as Id };
    }
  } catch {
    // fall through to the typed error
  }
  throw new BadQueryInputError('BAD_CURSOR', `"${cursor}" is not a cursor this connection gave out`);
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
