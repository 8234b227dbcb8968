/**
 * What a token page needs, on both engines: a token's status in one word, its
 * own history (not its children's), its children as a connection, the
 * viewer's own token for a normalized cache, and connection types with plain
 * names that every client's generated types carry. Also what these cost in
 * SQL statements: children of a page of tokens are one statement, not one a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printedSchema } from '../../src/graphql/schema.ts';
import { graphql } from '../generated/index.ts';
import type { TokenStatus } from '../generated/graphql.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  editToken,
  expectNoErrors,
  expectTypename,
  historyEntries,
  mint,
  minutesFromNow,
  revoke,
  rotateToken,
  TOKEN_CHILDREN,
  type Cast,
} from '../support/operations.ts';

const TOKEN_STATUS = graphql(`
  query TokenStatus($key: String!) {
    token(key: $key) { key status valid expired }
  }
`);

const TOKEN_OWN_HISTORY = graphql(`
  query TokenOwnHistory($key: String!, $filter: TokenHistoryFilter, $first: Int, $after: String, $last: Int, $before: String) {
    token(key: $key) {
      key
      history(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id token action eventTime } }
      }
    }
  }
`);

const VIEWER_TOKEN = graphql(`
  query ViewerToken {
    viewer { username tokenKey token { id key status } }
  }
`);

const NODE_TOKEN = graphql(`
  query NodeToken($id: ID!) {
    node(id: $id) { __typename id ... on Token { key } }
  }
`);

const CHILDREN_OF_A_PAGE = graphql(`
  query ChildrenOfAPage($username: String!, $first: Int!) {
    tokens(username: $username, filter: { tokenTypes: [USER] }, first: $first) {
      edges { node { key children(first: 2) { totalCount pageInfo { hasNextPage } edges { node { key } } } } }
    }
  }
`);

describe.each(engines())('a token page on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  let statements: string[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.onStatement((sql) => statements.push(sql));
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  async function statusOf(key: string): Promise<TokenStatus | undefined> {
    return expectNoErrors(await server.request(TOKEN_STATUS, { key }, { token: people.alice })).token?.status;
  }

  /** The children of `parent`, oldest first, as the database orders them (created time, then key). */
  async function childKeys(parent: string): Promise<string[]> {
    const rows = await server.tessera.db.token.findMany({
      where: { parentKey: parent },
      orderBy: [{ createdAt: 'asc' }, { key: 'asc' }],
      select: { key: true },
    });
    return rows.map((row) => row.key);
  }

  async function measured<T>(work: () => Promise<T>): Promise<{ result: T; issued: string[] }> {
    statements = [];
    const result = await work();
    await new Promise((resolve) => setImmediate(resolve));
    return { result, issued: statements };
  }

  describe('status', () => {
    it('is ACTIVE, REVOKED, or for a rotated token REVOKED at once or ACTIVE through its grace period', async () => {
      const active = await mint(server, people.alice, { name: 'status-active', scopes: ['read:all'] });
      expect(await statusOf(active.token.key)).toBe('ACTIVE');

      const revoked = await mint(server, people.alice, { name: 'status-revoked', scopes: ['read:all'] });
      await revoke(server, people.alice, revoked.token.key);
      expect(await statusOf(revoked.token.key)).toBe('REVOKED');

      const rotatedAtOnce = await mint(server, people.alice, { name: 'status-rotated', scopes: ['read:all'] });
      const successor = expectTypename(await rotateToken(server, people.alice, { key: rotatedAtOnce.token.key }), 'RotateTokenPayload');
      expect(await statusOf(rotatedAtOnce.token.key)).toBe('REVOKED');
      expect(await statusOf(successor.token.key)).toBe('ACTIVE');

      const graced = await mint(server, people.alice, { name: 'status-graced', scopes: ['read:all'] });
      expectTypename(await rotateToken(server, people.alice, { key: graced.token.key, gracePeriodSeconds: 600 }), 'RotateTokenPayload');
      expect(await statusOf(graced.token.key)).toBe('ACTIVE');
    });

    it('is EXPIRED once the expiry passes, by the request clock, and stays REVOKED for a revoked token that expired too', async () => {
      const expiring = await mint(server, people.alice, { name: 'status-expiring', scopes: ['read:all'], expires: minutesFromNow(10, server.clock) });
      const revokedExpiring = await mint(server, people.alice, {
        name: 'status-revoked-expiring',
        scopes: ['read:all'],
        expires: minutesFromNow(10, server.clock),
      });
      await revoke(server, people.alice, revokedExpiring.token.key);
      expect(await statusOf(expiring.token.key)).toBe('ACTIVE');

      server.clock.advance(11 * 60_000);
      const after = expectNoErrors(await server.request(TOKEN_STATUS, { key: expiring.token.key }, { token: people.alice })).token;
      expect(after).toEqual({ key: expiring.token.key, status: 'EXPIRED', valid: true, expired: true });
      expect(await statusOf(revokedExpiring.token.key)).toBe('REVOKED');
    });
  });

  describe('Token.history', () => {
    let parent: string;
    let children: string[];
    /** The parent's own entries, newest first, as tokenHistory orders them. */
    let own: string[];

    beforeAll(async () => {
      parent = (await mint(server, people.alice, { name: 'history-parent', scopes: ['read:all', 'exec:notebook'] })).token.key;
      children = [];
      for (let index = 0; index < 2; index += 1) {
        children.push((await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent, scopes: ['read:all'] })).token.key);
      }
      for (const note of ['one', 'two', 'three', 'four']) expectTypename(await editToken(server, people.alice, { key: parent, note }), 'EditTokenPayload');
      await revoke(server, people.alice, children[0] as string);
      // tokenHistory's key filter reaches the children's entries too; Token.history must not.
      const byKey = await historyEntries(server, { key: parent });
      expect(byKey.some((entry) => children.includes(entry.token))).toBe(true);
      own = byKey.filter((entry) => entry.token === parent).map((entry) => entry.id);
      expect(own).toHaveLength(5);
    });

    it("holds exactly the token's own entries, newest first, none of its children's", async () => {
      const { token } = expectNoErrors(await server.request(TOKEN_OWN_HISTORY, { key: parent }, { token: people.alice }));
      expect(token?.history.totalCount).toBe(5);
      expect(token?.history.edges.map((edge) => edge.node.id)).toEqual(own);
      expect(new Set(token?.history.edges.map((edge) => edge.node.token))).toEqual(new Set([parent]));
      expect(token?.history.edges.map((edge) => edge.node.action)).toEqual(['EDIT', 'EDIT', 'EDIT', 'EDIT', 'CREATE']);
      expect(token?.history.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });

      // A child's page holds the child's entries only (its CREATE and REVOKE), not the parent's.
      const child = expectNoErrors(await server.request(TOKEN_OWN_HISTORY, { key: children[0] as string }, { token: people.alice })).token;
      expect(child?.history.edges.map((edge) => [edge.node.token, edge.node.action])).toEqual([
        [children[0], 'REVOKE'],
        [children[0], 'CREATE'],
      ]);
    });

    it('pages forward and backward with cursors, and applies the history filter', async () => {
      const page = (variables: { first?: number; after?: string | null; last?: number; before?: string | null; filter?: { action: 'EDIT' } }) =>
        server.request(TOKEN_OWN_HISTORY, { key: parent, ...variables }, { token: people.alice }).then((response) => {
          const history = expectNoErrors(response).token?.history;
          if (!history) throw new Error('no token');
          return history;
        });

      const first = await page({ first: 2 });
      expect(first.edges.map((edge) => edge.node.id)).toEqual(own.slice(0, 2));
      expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      const second = await page({ first: 2, after: first.pageInfo.endCursor });
      expect(second.edges.map((edge) => edge.node.id)).toEqual(own.slice(2, 4));
      expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const third = await page({ first: 2, after: second.pageInfo.endCursor });
      expect(third.edges.map((edge) => edge.node.id)).toEqual(own.slice(4));
      expect(third.pageInfo.hasNextPage).toBe(false);

      const oldest = await page({ last: 2 });
      expect(oldest.edges.map((edge) => edge.node.id)).toEqual(own.slice(3));
      expect(oldest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      const newer = await page({ last: 2, before: oldest.pageInfo.startCursor });
      expect(newer.edges.map((edge) => edge.node.id)).toEqual(own.slice(1, 3));

      const edits = await page({ first: 3, filter: { action: 'EDIT' } });
      expect(edits.totalCount).toBe(4);
      expect(edits.edges.map((edge) => edge.node.action)).toEqual(['EDIT', 'EDIT', 'EDIT']);
      expect(edits.edges.map((edge) => edge.node.id)).toEqual(own.slice(0, 3));
      expect(edits.pageInfo.hasNextPage).toBe(true);
      const lastEdit = await page({ first: 3, after: edits.pageInfo.endCursor, filter: { action: 'EDIT' } });
      expect(lastEdit.edges.map((edge) => edge.node.id)).toEqual([own[3]]);
      expect(lastEdit.pageInfo.hasNextPage).toBe(false);
    });

    it("costs one statement for a page of a token's history, and one more for its total", async () => {
      const bare = await measured(async () => expectNoErrors(await server.request(TOKEN_OWN_HISTORY, { key: parent, first: 2 }, { token: BOOTSTRAP_TOKEN })));
      // The token (by key), then its page of history (totalCount is asked for: one count more).
      expect(bare.issued.filter((sql) => /token_change_history/.test(sql))).toHaveLength(2);
      expect(bare.issued).toHaveLength(3);
    });
  });

  describe('Token.children', () => {
    let parent: string;
    let ordered: string[];

    beforeAll(async () => {
      parent = (await mint(server, people.alice, { name: 'children-parent', scopes: ['read:all', 'exec:notebook'] })).token.key;
      for (let index = 0; index < 5; index += 1) await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent, scopes: ['read:all'] });
      ordered = await childKeys(parent);
      expect(ordered).toHaveLength(5);
    });

    const page = async (variables: { first?: number; after?: string | null; last?: number; before?: string | null }) => {
      const children = expectNoErrors(await server.request(TOKEN_CHILDREN, { key: parent, ...variables }, { token: people.alice })).token?.children;
      if (!children) throw new Error('no token');
      return children;
    };

    it('pages oldest first with cursors, and says honestly whether a next page exists', async () => {
      const first = await page({ first: 2 });
      expect(first.totalCount).toBe(5);
      expect(first.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(0, 2));
      expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      const second = await page({ first: 2, after: first.pageInfo.endCursor });
      expect(second.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(2, 4));
      expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const third = await page({ first: 2, after: second.pageInfo.endCursor });
      expect(third.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(4));
      expect(third.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      // Exactly a page's worth left: no next page is promised.
      const exact = await page({ first: 1, after: second.pageInfo.endCursor });
      expect(exact.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(4));
      expect(exact.pageInfo.hasNextPage).toBe(false);
      // An edge's cursor pages on from that edge.
      const fromEdge = await page({ first: 10, after: first.edges[0]?.cursor });
      expect(fromEdge.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(1));
      expect(fromEdge.pageInfo.hasNextPage).toBe(false);
    });

    it('pages backward from the newest end', async () => {
      const newest = await page({ last: 2 });
      expect(newest.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(3));
      expect(newest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      const before = await page({ last: 2, before: newest.pageInfo.startCursor });
      expect(before.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(1, 3));
      expect(before.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const oldest = await page({ last: 2, before: before.pageInfo.startCursor });
      expect(oldest.edges.map((edge) => edge.node.key)).toEqual(ordered.slice(0, 1));
      expect(oldest.pageInfo.hasPreviousPage).toBe(false);
    });

    it('refuses a cursor it did not give out and a page too large, with typed errors', async () => {
      const bad = await server.request(TOKEN_CHILDREN, { key: parent, first: 2, after: 'not-a-cursor' }, { token: people.alice });
      expect(bad.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_CURSOR']);
      const large = await server.request(TOKEN_CHILDREN, { key: parent, first: 1001 }, { token: people.alice });
      expect(large.errors?.map((error) => error.extensions?.code)).toEqual(['PAGE_SIZE_TOO_LARGE']);
    });

    it('reads the children of a page of 50 tokens in as many statements as for 5', async () => {
      const owner = 'many-parents';
      const parents: string[] = [];
      for (let index = 0; index < 50; index += 1) {
        parents.push((await mint(server, BOOTSTRAP_TOKEN, { username: owner, name: `parent-${index}`, scopes: ['read:all', 'exec:notebook'] })).token.key);
      }
      for (const key of parents) {
        for (let index = 0; index < 3; index += 1)
          await mint(server, BOOTSTRAP_TOKEN, { username: owner, tokenType: 'NOTEBOOK', parent: key, scopes: ['read:all'] });
      }
      const children = new Map(await Promise.all(parents.map(async (key) => [key, await childKeys(key)] as const)));

      await measured(() => server.request(CHILDREN_OF_A_PAGE, { username: owner, first: 5 }, { token: people.admin }));
      const small = await measured(async () =>
        expectNoErrors(await server.request(CHILDREN_OF_A_PAGE, { username: owner, first: 5 }, { token: people.admin })),
      );
      const large = await measured(async () =>
        expectNoErrors(await server.request(CHILDREN_OF_A_PAGE, { username: owner, first: 50 }, { token: people.admin })),
      );

      const nodes = large.result.tokens.edges.map((edge) => edge.node);
      expect(nodes).toHaveLength(50);
      for (const node of nodes) {
        expect(node.children.edges.map((edge) => edge.node.key)).toEqual(children.get(node.key)?.slice(0, 2));
        expect(node.children.pageInfo.hasNextPage).toBe(true);
        expect(node.children.totalCount).toBe(3);
      }
      const detail = `first: 5 ->\n${small.issued.join('\n')}\n\nfirst: 50 ->\n${large.issued.join('\n')}`;
      expect(large.issued.length, detail).toBe(small.issued.length);
      // The caller, the page, its total of children (one grouped count) and the children (one statement).
      expect(large.issued.length, detail).toBeLessThanOrEqual(5);
      expect(
        large.issued.filter((sql) => /"parent_key"\s*=\s*parents\.key/i.test(sql)),
        detail,
      ).toHaveLength(1);
    });
  });

  describe('viewer.token', () => {
    it("is the caller's own token, with the id a normalized cache keys it by", async () => {
      const { viewer } = expectNoErrors(await server.request(VIEWER_TOKEN, {}, { token: people.alice }));
      expect(viewer.token?.key).toBe(people.aliceKey);
      expect(viewer.tokenKey).toBe(people.aliceKey);
      expect(viewer.token?.status).toBe('ACTIVE');
      // The same id node(id) answers with the same token.
      const node = expectNoErrors(await server.request(NODE_TOKEN, { id: viewer.token?.id as string }, { token: people.alice })).node;
      expect(node).toEqual({ __typename: 'Token', id: viewer.token?.id, key: people.aliceKey });

      const bob = expectNoErrors(await server.request(VIEWER_TOKEN, {}, { token: people.bob })).viewer;
      expect(bob.token?.key).toBe(people.bobKey);
      expect(bob.token?.id).not.toBe(viewer.token?.id);
    });

    it('is null for the bootstrap secret, and for a token that may not read token records', async () => {
      expect(expectNoErrors(await server.request(VIEWER_TOKEN, {}, { token: BOOTSTRAP_TOKEN })).viewer).toEqual({
        username: '<bootstrap>',
        tokenKey: null,
        token: null,
      });
      const narrow = await mint(server, people.alice, { name: 'no-user-token', scopes: ['read:all'] });
      const viewer = expectNoErrors(await server.request(VIEWER_TOKEN, {}, { token: narrow.secret })).viewer;
      expect(viewer).toEqual({ username: 'alice', tokenKey: narrow.token.key, token: null });
    });
  });
});

describe('connection type names', () => {
  it('are plain, shared by every connection of tokens and of history entries', () => {
    const schema = printedSchema();
    for (const name of ['TokenConnection', 'TokenEdge', 'TokenChangeHistoryEntryConnection', 'TokenChangeHistoryEntryEdge']) {
      expect(schema).toMatch(new RegExp(`^type ${name} \\{`, 'm'));
    }
    expect(schema).not.toMatch(/Query\w*Connection|Token\w+ConnectionEdge/);
    expect(schema).toMatch(/^ {2}\): TokenConnection!$/m);
    expect(schema).toMatch(/^ {2}\): TokenChangeHistoryEntryConnection!$/m);
    // tokens and Token.children share one type, tokenHistory and Token.history another.
    expect(schema.match(/: TokenConnection!/g)).toHaveLength(2);
    expect(schema.match(/: TokenChangeHistoryEntryConnection!/g)).toHaveLength(2);
  });
});
