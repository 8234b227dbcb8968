import type { Page } from '../domain/pagination.ts';

/** A domain page in the relay connection shape (totalCount is resolved only when asked for). */
export function connectionFrom<Row>(page: Page<Row> & { totalCount: () => Promise<number> }) {
  return {
    edges: page.rows.map((node, index) => ({ node, cursor: page.cursors[index] ?? '' })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.cursors[0] ?? null,
      endCursor: page.cursors.at(-1) ?? null,
    },
    totalCount: page.totalCount,
  };
}
