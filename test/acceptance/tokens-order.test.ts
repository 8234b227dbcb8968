/**
 * `tokens(orderBy, filter: { nameContains })`: every order, both directions,
 * paged forward and backward in small pages, gives exactly the list sorted
 * the same way in JavaScript (nulls last, ties broken by key); cursors belong
 * to their order; search by name ignores case (beyond ASCII too) and takes
 * `%`, `_` and `\` literally, the same on every engine. Real server over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import type { OrderDirection, TokenOrderField } from '../generated/graphql.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, TestClock, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import { expectNoErrors, invalidateTokens, mint, VIEWER } from '../support/operations.ts';

const ORDERED_TOKENS = graphql(`
  query OrderedTokens($username: String, $filter: TokenFilter, $orderBy: TokenOrder, $first: Int, $after: String, $last: Int, $before: String) {
    tokens(username: $username, filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { key name createdAt expiresAt lastUsedAt } }
    }
  }
`);

type Row = { key: string; name: string | null; createdAt: string; expiresAt: string | null; lastUsedAt: string | null };
type Order = { field: TokenOrderField; direction: OrderDirection };
interface Paging {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const FIELDS: TokenOrderField[] = ['CREATED_AT', 'EXPIRES_AT', 'LAST_USED_AT', 'NAME'];
const DIRECTIONS: OrderDirection[] = ['ASC', 'DESC'];

/** A clock that stands still where it is set, so that several tokens share one creation or use time. */
class FrozenClock extends TestClock {
  private at = new Date();

  override now(): Date {
    return new Date(this.at);
  }

  override set(date: Date | string): void {
    this.at = new Date(date);
  }

  override advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

/** Code-point order, as both engines compare text in binary collation (JavaScript's `<` compares UTF-16 units). */
function compareText(a: string, b: string): number {
  const left = [...a].map((character) => character.codePointAt(0) ?? 0);
  const right = [...b].map((character) => character.codePointAt(0) ?? 0);
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    if (left[index] !== right[index]) return (left[index] ?? 0) - (right[index] ?? 0);
  }
  return left.length - right.length;
}

/** The value an order sorts on, as the API documents it: times, and names ignoring case. */
function sortValue(row: Row, field: TokenOrderField): number | string | null {
  switch (field) {
    case 'CREATED_AT':
      return Date.parse(row.createdAt);
    case 'EXPIRES_AT':
      return row.expiresAt === null ? null : Date.parse(row.expiresAt);
    case 'LAST_USED_AT':
      return row.lastUsedAt === null ? null : Date.parse(row.lastUsedAt);
    case 'NAME':
      return row.name === null ? null : row.name.toLowerCase().normalize('NFC');
  }
}

/** The rows sorted as `order` promises: by value in its direction, nulls last either way, ties by key in the same direction. */
function sortedKeys(rows: Row[], { field, direction }: Order): string[] {
  const sign = direction === 'ASC' ? 1 : -1;
  return [...rows]
    .sort((a, b) => {
      const [left, right] = [sortValue(a, field), sortValue(b, field)];
      if (left === null || right === null) {
        if (left !== right) return left === null ? 1 : -1;
      } else if (left !== right) {
        return sign * (typeof left === 'number' && typeof right === 'number' ? left - right : compareText(String(left), String(right)));
      }
      return sign * compareText(a.key, b.key);
    })
    .map((row) => row.key);
}

describe.each(engines())('tokens in order, and search by name, on %s', (engine) => {
  let server: TestServer;
  const clock = new FrozenClock();
  const OWNER = 'order-owner';
  /** Every token of OWNER, as the API shows it. */
  let rows: Row[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { clock });
    const start = Date.now() - 30 * DAY_MS;
    // 24 USER tokens: creation times in threes, expiries repeating (every fourth never expires),
    // names that fold alike in threes (alpha, Alpha, ALPHA; élan, Élan, ÉLAN) to exercise the tiebreaker.
    const words = ['alpha', 'beta', 'élan', 'zeta', 'gamma 10', 'gamma 2', 'ωmega', 'delta'];
    const variants = [(word: string) => word, (word: string) => word[0]!.toUpperCase() + word.slice(1), (word: string) => word.toUpperCase()];
    const minted: { key: string; secret: string }[] = [];
    for (let index = 0; index < 24; index += 1) {
      clock.set(new Date(start + Math.floor(index / 3) * 60_000));
      const expires = index % 4 === 0 ? null : new Date(start + 60 * DAY_MS + (index % 5) * DAY_MS).toISOString();
      const name = variants[Math.floor(index / 8)]!(words[index % 8]!);
      const { token, secret } = await mint(server, BOOTSTRAP_TOKEN, { username: OWNER, name, expires, scopes: ['read:all', 'exec:notebook'] });
      minted.push({ key: token.key, secret });
    }
    // Four NOTEBOOK tokens: no name; derived from a token that never expires, two of them never expiring either.
    const parent = minted[0]!.key;
    for (let index = 0; index < 4; index += 1) {
      clock.set(new Date(start + 9 * 60_000));
      const expires = index < 2 ? null : new Date(start + 61 * DAY_MS).toISOString();
      await mint(server, BOOTSTRAP_TOKEN, { username: OWNER, tokenType: 'NOTEBOOK', parent, expires, scopes: ['read:all'] });
    }
    // Uses at four instants (ties), every third token never used.
    for (const [index, { secret }] of minted.entries()) {
      if (index % 3 === 0) continue;
      clock.set(new Date(start + 20 * DAY_MS + (index % 4) * 1000));
      expectNoErrors(await server.request(VIEWER, {}, { token: secret }));
    }
    await server.tessera.flushUsage();
    clock.set(new Date(start + 21 * DAY_MS));

    const all = expectNoErrors(await server.request(ORDERED_TOKENS, { username: OWNER, first: 100 }, { token: BOOTSTRAP_TOKEN })).tokens;
    rows = all.edges.map((edge) => edge.node);
    expect(rows).toHaveLength(28);
    // The data has what the orders must cope with: nulls and ties in every field.
    expect(rows.filter((row) => row.expiresAt === null).length).toBeGreaterThanOrEqual(4);
    expect(rows.filter((row) => row.lastUsedAt === null).length).toBeGreaterThanOrEqual(4);
    expect(rows.filter((row) => row.name === null)).toHaveLength(4);
    expect(new Set(rows.map((row) => row.lastUsedAt)).size).toBeLessThan(rows.length);
  });
  afterAll(async () => server?.close());

  async function page(variables: { orderBy?: Order; filter?: { nameContains?: string } } & Paging, username = OWNER) {
    const response = await server.request(ORDERED_TOKENS, { username, ...variables }, { token: BOOTSTRAP_TOKEN });
    return expectNoErrors(response).tokens;
  }

  function expectCode(response: GraphQLResponse<unknown>, code: string) {
    expect(response.data ?? null, JSON.stringify(response.body)).toBeNull();
    expect(response.errors?.[0]?.extensions?.code, JSON.stringify(response.errors)).toBe(code);
  }

  describe.each(FIELDS.flatMap((field) => DIRECTIONS.map((direction) => ({ field, direction }))))('$field $direction', (order) => {
    it('pages forward, three at a time, through exactly the sorted list', async () => {
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 20; pages += 1) {
        const { edges, pageInfo } = await page({ orderBy: order, first: 3, after });
        seen.push(...edges.map((edge) => edge.node.key));
        expect(pageInfo.hasPreviousPage).toBe(after !== undefined);
        if (!pageInfo.hasNextPage) break;
        after = pageInfo.endCursor ?? undefined;
      }
      expect(seen).toEqual(sortedKeys(rows, order));
    });

    it('pages backward, four at a time, through exactly the sorted list', async () => {
      const seen: string[] = [];
      let before: string | undefined;
      for (let pages = 0; pages < 20; pages += 1) {
        const { edges, pageInfo } = await page({ orderBy: order, last: 4, before });
        seen.unshift(...edges.map((edge) => edge.node.key));
        expect(pageInfo.hasNextPage).toBe(before !== undefined);
        if (!pageInfo.hasPreviousPage) break;
        before = pageInfo.startCursor ?? undefined;
      }
      expect(seen).toEqual(sortedKeys(rows, order));
    });

    it('resumes from any cursor, in either direction, right beside its own row', async () => {
      const all = await page({ orderBy: order, first: 100 });
      const keys = all.edges.map((edge) => edge.node.key);
      expect(keys).toEqual(sortedKeys(rows, order));
      // Cursors on every row: the first, among ties, at the nulls' edge, among the nulls, the last.
      for (const index of [0, 5, 12, 20, 23, 24, 26, 27]) {
        const cursor = all.edges[index]!.cursor;
        const after = await page({ orderBy: order, first: 2, after: cursor });
        expect(after.edges.map((edge) => edge.node.key)).toEqual(keys.slice(index + 1, index + 3));
        expect(after.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: index + 3 < keys.length });
        const before = await page({ orderBy: order, last: 2, before: cursor });
        expect(before.edges.map((edge) => edge.node.key)).toEqual(keys.slice(Math.max(0, index - 2), index));
        expect(before.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: index > 2 });
      }
    });
  });

  it('orders newest first by default, with cursors of CREATED_AT DESC', async () => {
    const byDefault = await page({ first: 5 });
    const explicit = await page({ orderBy: { field: 'CREATED_AT', direction: 'DESC' }, first: 5 });
    expect(byDefault.edges.map((edge) => edge.node.key)).toEqual(sortedKeys(rows, { field: 'CREATED_AT', direction: 'DESC' }).slice(0, 5));
    expect(byDefault.edges).toEqual(explicit.edges);
    const next = await page({ orderBy: { field: 'CREATED_AT', direction: 'DESC' }, first: 5, after: byDefault.pageInfo.endCursor ?? undefined });
    expect(next.edges.map((edge) => edge.node.key)).toEqual(sortedKeys(rows, { field: 'CREATED_AT', direction: 'DESC' }).slice(5, 10));
  });

  it('refuses a cursor from another order, or from the same field in the other direction, with BAD_CURSOR', async () => {
    const cursorOf = async (orderBy: Order) => (await page({ orderBy, first: 6 })).edges[5]!.cursor;
    const created = await cursorOf({ field: 'CREATED_AT', direction: 'DESC' });
    const expiresAsc = await cursorOf({ field: 'EXPIRES_AT', direction: 'ASC' });
    const name = await cursorOf({ field: 'NAME', direction: 'ASC' });
    const request = (orderBy: Order | undefined, paging: Paging) =>
      server.request(ORDERED_TOKENS, { username: OWNER, orderBy, ...paging }, { token: BOOTSTRAP_TOKEN });
    expectCode(await request({ field: 'EXPIRES_AT', direction: 'DESC' }, { first: 3, after: created }), 'BAD_CURSOR');
    expectCode(await request({ field: 'EXPIRES_AT', direction: 'DESC' }, { first: 3, after: expiresAsc }), 'BAD_CURSOR');
    expectCode(await request({ field: 'LAST_USED_AT', direction: 'ASC' }, { last: 3, before: expiresAsc }), 'BAD_CURSOR');
    expectCode(await request(undefined, { first: 3, after: name }), 'BAD_CURSOR');
    expectCode(await request({ field: 'NAME', direction: 'DESC' }, { first: 3, after: name }), 'BAD_CURSOR');
    // Each is good in its own order.
    expect((await page({ orderBy: { field: 'NAME', direction: 'ASC' }, first: 3, after: name })).edges).toHaveLength(3);
    expect((await page({ first: 3, after: created })).edges).toHaveLength(3);
    // A history cursor is no token cursor either.
    const history = expectNoErrors(
      await server.request(
        graphql(`
          query OrderHistoryCursor { tokenHistory(first: 1) { edges { cursor } } }
        `),
        {},
        { token: BOOTSTRAP_TOKEN },
      ),
    );
    expectCode(await request(undefined, { first: 3, after: history.tokenHistory.edges[0]!.cursor }), 'BAD_CURSOR');
  });

  describe('search by name', () => {
    const SEARCHER = 'name-searcher';
    const names = ['100%', '1000', 'a_b', 'axb', 'back\\slash', 'backslash', 'Café Crème', 'CAFÉ noir', 'cafe plain', 'Ωmega ÉTÉ'];
    const keyOf = new Map<string, string>();

    beforeAll(async () => {
      for (const name of names) keyOf.set(name, (await mint(server, BOOTSTRAP_TOKEN, { username: SEARCHER, name, scopes: ['read:all'] })).token.key);
    });

    const found = async (nameContains: string, orderBy: Order = { field: 'NAME', direction: 'ASC' }) =>
      (await page({ filter: { nameContains }, orderBy, first: 50 }, SEARCHER)).edges.map((edge) => edge.node.name);

    it('takes %, _ and \\ literally', async () => {
      expect(await found('100%')).toEqual(['100%']);
      expect(await found('%')).toEqual(['100%']);
      expect(await found('a_b')).toEqual(['a_b']);
      expect(await found('_')).toEqual(['a_b']);
      expect(await found('\\')).toEqual(['back\\slash']);
      expect(await found('k\\s')).toEqual(['back\\slash']);
    });

    it('ignores case, ASCII and beyond, the same on every engine', async () => {
      expect(await found('CAF')).toEqual(['cafe plain', 'Café Crème', 'CAFÉ noir']);
      expect(await found('café')).toEqual(['Café Crème', 'CAFÉ noir']);
      expect(await found('CAFÉ')).toEqual(['Café Crème', 'CAFÉ noir']);
      expect(await found('crème')).toEqual(['Café Crème']);
      expect(await found('ωMEGA été')).toEqual(['Ωmega ÉTÉ']);
      expect(await found('Backslash')).toEqual(['backslash']);
      expect(await found('nothing like it')).toEqual([]);
    });

    it('normalizes and trims the term as names are', async () => {
      // "café" decomposed (e + combining acute) finds the composed name.
      expect(await found('cafe\u0301')).toEqual(['Café Crème', 'CAFÉ noir']);
      expect(await found('  noir  ')).toEqual(['CAFÉ noir']);
      const blank = await server.request(ORDERED_TOKENS, { username: SEARCHER, filter: { nameContains: '   ' } }, { token: BOOTSTRAP_TOKEN });
      expectCode(blank, 'INVALID_INPUT');
      const tooLong = await server.request(ORDERED_TOKENS, { username: SEARCHER, filter: { nameContains: 'x'.repeat(65) } }, { token: BOOTSTRAP_TOKEN });
      expectCode(tooLong, 'INVALID_INPUT');
    });

    it('combines with an order, its count and its pages', async () => {
      const { totalCount, edges } = await page({ filter: { nameContains: 'caf' }, orderBy: { field: 'NAME', direction: 'DESC' }, first: 2 }, SEARCHER);
      expect(totalCount).toBe(3);
      expect(edges.map((edge) => edge.node.name)).toEqual(['CAFÉ noir', 'Café Crème']);
      const rest = await page({ filter: { nameContains: 'caf' }, orderBy: { field: 'NAME', direction: 'DESC' }, first: 2, after: edges[1]!.cursor }, SEARCHER);
      expect(rest.edges.map((edge) => edge.node.name)).toEqual(['cafe plain']);
      expect(rest.pageInfo.hasNextPage).toBe(false);
    });

    it("narrows invalidateTokens' filter too", async () => {
      const result = await invalidateTokens(server, BOOTSTRAP_TOKEN, { usernames: [SEARCHER], filter: { nameContains: 'BACK' }, reason: 'search' });
      expect(result).toMatchObject({ __typename: 'InvalidateTokensPayload', count: 2 });
      expect(result.__typename === 'InvalidateTokensPayload' ? [...result.keys].sort() : []).toEqual([keyOf.get('back\\slash'), keyOf.get('backslash')].sort());
      expect(await found('slash')).toEqual([]);
      expect(await found('caf')).toHaveLength(3);
    });
  });
});
