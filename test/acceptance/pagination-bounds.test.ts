/**
 * hasNextPage and hasPreviousPage are true only when such a page exists
 * (Relay's pageInfo; SPEC "tokenHistory … keyset-paginated"), also beside a
 * cursor whose row is gone: a history entry deleted by retention, or a token
 * that no longer matches the list's filter once revoked. Real server over
 * HTTP, on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { expectNoErrors, mint, revoke } from '../support/operations.ts';

const HISTORY_PAGE = graphql(`
  query BoundsHistoryPage($filter: TokenHistoryFilter, $first: Int, $after: String, $last: Int, $before: String) {
    tokenHistory(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { token } }
      pageInfo { hasNextPage hasPreviousPage }
    }
  }
`);

const TOKENS_PAGE = graphql(`
  query BoundsTokensPage($username: String, $includeInvalid: Boolean, $first: Int, $after: String, $last: Int, $before: String) {
    tokens(username: $username, includeInvalid: $includeInvalid, first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { key } }
      pageInfo { hasNextPage hasPreviousPage }
    }
  }
`);

const DAY_MS = 24 * 60 * 60 * 1000;

interface Paging {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
}

describe.each(engines())('honest page flags on %s', (engine) => {
  let server: TestServer;
  let statements = 0;

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.onStatement(() => {
      statements += 1;
    });
  });
  afterAll(async () => server?.close());

  /** A history page of one user's entries: the tokens it shows and its flags. */
  async function historyPage(username: string, paging: Paging) {
    const response = await server.request(HISTORY_PAGE, { filter: { username }, ...paging }, { token: BOOTSTRAP_TOKEN });
    const { edges, pageInfo } = expectNoErrors(response).tokenHistory;
    return { tokens: edges.map((edge) => edge.node.token), cursors: edges.map((edge) => edge.cursor), ...pageInfo };
  }

  async function tokensPage(username: string, paging: Paging & { includeInvalid?: boolean }) {
    const response = await server.request(TOKENS_PAGE, { username, ...paging }, { token: BOOTSTRAP_TOKEN });
    const { edges, pageInfo } = expectNoErrors(response).tokens;
    return { keys: edges.map((edge) => edge.node.key), cursors: edges.map((edge) => edge.cursor), ...pageInfo };
  }

  const mintFor = async (username: string, name: string) => (await mint(server, BOOTSTRAP_TOKEN, { username, name, scopes: ['read:all'] })).token.key;

  it('history: no next page beyond a cursor whose entry retention deleted', async () => {
    const user = 'pruned-user';
    // One entry old enough for retention (365 days), two recent ones.
    server.clock.set(new Date(Date.now() - 400 * DAY_MS));
    const old = await mintFor(user, 'old');
    server.clock.set(new Date());
    const middle = await mintFor(user, 'middle');
    const newest = await mintFor(user, 'newest');

    const all = await historyPage(user, { first: 10 });
    expect(all).toMatchObject({ tokens: [newest, middle, old], hasNextPage: false, hasPreviousPage: false });
    const [, middleCursor, oldCursor] = all.cursors as [string, string, string];

    // While the old entry exists, it is the next page beyond its own cursor.
    expect(await historyPage(user, { last: 10, before: oldCursor })).toMatchObject({ tokens: [newest, middle], hasNextPage: true, hasPreviousPage: false });
    expect(await historyPage(user, { first: 2, before: oldCursor })).toMatchObject({ tokens: [newest, middle], hasNextPage: true, hasPreviousPage: false });

    expect((await server.tessera.tokens.runMaintenance()).pruned).toBeGreaterThanOrEqual(1);
    expect((await historyPage(user, { first: 10 })).tokens).toEqual([newest, middle]);

    // Nothing is older than the pruned cursor any more: no next page, whichever way the page is read.
    expect(await historyPage(user, { last: 10, before: oldCursor })).toMatchObject({ tokens: [newest, middle], hasNextPage: false, hasPreviousPage: false });
    expect(await historyPage(user, { first: 2, before: oldCursor })).toMatchObject({ tokens: [newest, middle], hasNextPage: false, hasPreviousPage: false });
    expect(await historyPage(user, { first: 10, after: oldCursor })).toMatchObject({ tokens: [], hasNextPage: false, hasPreviousPage: true });
    expect(await historyPage(user, { first: 10, after: middleCursor })).toMatchObject({ tokens: [], hasNextPage: false, hasPreviousPage: true });
    // The rows read still answer their own direction.
    expect(await historyPage(user, { first: 1 })).toMatchObject({ tokens: [newest], hasNextPage: true, hasPreviousPage: false });
    expect(await historyPage(user, { last: 1 })).toMatchObject({ tokens: [middle], hasNextPage: false, hasPreviousPage: true });
  });

  it('tokens: no previous or next page beyond a cursor whose token no longer matches', async () => {
    const user = 'paged-user';
    const first = await mintFor(user, 'first');
    const second = await mintFor(user, 'second');
    const third = await mintFor(user, 'third');
    const all = await tokensPage(user, { first: 10 });
    expect(all).toMatchObject({ keys: [third, second, first], hasNextPage: false, hasPreviousPage: false });
    const [thirdCursor, secondCursor, firstCursor] = all.cursors as [string, string, string];

    expect(await tokensPage(user, { first: 10, after: thirdCursor })).toMatchObject({ keys: [second, first], hasPreviousPage: true });

    // Revoked, the newest and the oldest leave the list of valid tokens.
    await revoke(server, BOOTSTRAP_TOKEN, third);
    await revoke(server, BOOTSTRAP_TOKEN, first);
    expect(await tokensPage(user, { first: 10, after: thirdCursor })).toMatchObject({ keys: [second], hasNextPage: false, hasPreviousPage: false });
    expect(await tokensPage(user, { last: 10, before: firstCursor })).toMatchObject({ keys: [second], hasNextPage: false, hasPreviousPage: false });
    expect(await tokensPage(user, { first: 1, before: firstCursor })).toMatchObject({ keys: [second], hasNextPage: false, hasPreviousPage: false });
    // A cursor's own row, when it still matches, is a page of its own.
    expect(await tokensPage(user, { first: 10, after: secondCursor })).toMatchObject({ keys: [], hasNextPage: false, hasPreviousPage: true });
    expect(await tokensPage(user, { last: 10, before: secondCursor })).toMatchObject({ keys: [], hasNextPage: true, hasPreviousPage: false });
    // With the revoked tokens included, they are the pages beyond the same cursors.
    expect(await tokensPage(user, { includeInvalid: true, first: 10, after: thirdCursor })).toMatchObject({
      keys: [second, first],
      hasNextPage: false,
      hasPreviousPage: true,
    });
    expect(await tokensPage(user, { includeInvalid: true, last: 10, before: firstCursor })).toMatchObject({
      keys: [third, second],
      hasNextPage: true,
      hasPreviousPage: false,
    });
  });

  it('looks beyond a cursor with one statement more than the page without it', async () => {
    const user = 'costed-user';
    for (const name of ['a', 'b', 'c']) await mintFor(user, name);
    const [newestCursor] = (await tokensPage(user, { first: 10 })).cursors as [string];

    const measured = async (paging: Paging) => {
      statements = 0;
      await tokensPage(user, paging);
      await new Promise((resolve) => setImmediate(resolve));
      return statements;
    };
    // Authentication (none for the bootstrap secret) and the page; its totalCount is not asked for.
    const plain = await measured({ first: 10 });
    expect(await measured({ first: 10 })).toBe(plain);
    expect(await measured({ first: 10, after: newestCursor })).toBe(plain + 1);
    // A full page answers its own direction from the extra row it reads: still one query for the cursor's side only.
    expect(await measured({ first: 1, after: newestCursor })).toBe(plain + 1);
  });
});
