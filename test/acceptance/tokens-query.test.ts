/**
 * The `tokens` connection and `token(key)` (SPEC "Queries"): whose tokens a
 * caller sees, every filter criterion (scopes through SQL on both engines),
 * valid-only by default, newest-first keyset pages both ways that agree with
 * totalCount, and typed errors for oversized filters. Real server over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, cast, engines, mint, startServer, type GeneratedToken, type TestServer } from '../support/harness.ts';
import { minutesFromNow, revoke } from '../support/generation.ts';

const TOKENS = /* GraphQL */ `
  query Tokens($username: String, $filter: TokenFilter, $includeInvalid: Boolean, $first: Int, $after: String, $last: Int, $before: String) {
    tokens(username: $username, filter: $filter, includeInvalid: $includeInvalid, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { key username createdAt } }
    }
  }
`;

interface TokensPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { cursor: string; node: { key: string; username: string; createdAt: string } }[];
}

describe.each(engines())('the tokens and token queries on %s', (engine) => {
  let server: TestServer;
  let people: Awaited<ReturnType<typeof cast>>;
  /** Mira's tokens, made in this order. */
  let mira: Record<'main' | 'reader' | 'writer' | 'notebook' | 'revoked', GeneratedToken>;

  async function tokens(actor: string, variables: Record<string, unknown>) {
    return server.graphql<{ tokens: TokensPage }>(actor, TOKENS, { first: 100, ...variables });
  }

  async function keys(actor: string, variables: Record<string, unknown>): Promise<string[]> {
    const response = await tokens(actor, variables);
    expect(response.errors).toBeUndefined();
    const connection = response.data!.tokens;
    expect(connection.totalCount).toBe(connection.edges.length);
    return connection.edges.map((edge) => edge.node.key);
  }

  const keysOf = (...names: (keyof typeof mira)[]) => names.map((name) => mira[name].token.key);

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
    const as = (input: Record<string, unknown>) => mint(server, BOOTSTRAP_TOKEN, { username: 'mira', ...input });
    const main = await as({ name: 'main', scopes: ['exec:notebook', 'read:all', 'user:token'] });
    const reader = await as({ name: 'reader', scopes: ['read:all'], note: 'ci', expires: minutesFromNow(60) });
    const writer = await as({ name: 'writer', scopes: ['write:all'], expires: minutesFromNow(600) });
    const notebook = await mint(server, main.secret, { tokenType: 'NOTEBOOK', parent: main.token.key, scopes: ['exec:notebook'] });
    const revoked = await as({ name: 'revoked', scopes: ['read:all'] });
    mira = { main, reader, writer, notebook, revoked };
    await revoke(server, BOOTSTRAP_TOKEN, mira.revoked.token.key);
  });
  afterAll(async () => server?.close());

  it("lists the caller's own valid tokens, newest first; invalid ones only when asked", async () => {
    expect(await keys(mira.main.secret, {})).toEqual(keysOf('notebook', 'writer', 'reader', 'main'));
    expect(await keys(mira.main.secret, { includeInvalid: true })).toEqual(keysOf('revoked', 'notebook', 'writer', 'reader', 'main'));
  });

  it("lets an admin list anyone's tokens, and no one else", async () => {
    expect(await keys(people.admin, { username: 'mira' })).toEqual(keysOf('notebook', 'writer', 'reader', 'main'));
    const everyone = await keys(people.admin, {});
    expect(everyone).toEqual(expect.arrayContaining([...keysOf('main'), people.aliceKey, people.bobKey]));
    const denied = await tokens(people.alice, { username: 'mira' });
    expect(denied.errors?.[0]?.extensions?.code).toBe('PERMISSION_DENIED');
    expect(denied.data).toBeNull();
  });

  it('narrows by every filter criterion', async () => {
    const reader = (await server.graphql<{ token: { createdAt: string; expiresAt: string } }>(
      BOOTSTRAP_TOKEN,
      'query($key: String!) { token(key: $key) { createdAt expiresAt } }',
      { key: mira.reader.token.key },
    )).data!.token;
    const cases: [Record<string, unknown>, (keyof typeof mira)[]][] = [
      [{ keys: keysOf('reader', 'revoked') }, ['reader']],
      [{ tokenTypes: ['NOTEBOOK'] }, ['notebook']],
      [{ scopes: ['read:all'] }, ['reader', 'main']],
      [{ scopes: ['write:all', 'exec:notebook'] }, ['notebook', 'writer', 'main']],
      [{ scopes: [] }, []],
      [{ note: 'ci' }, ['reader']],
      [{ createdAfter: reader.createdAt, createdBefore: reader.createdAt }, ['reader']],
      [{ expiresAfter: reader.expiresAt, expiresBefore: mira.writer.token.expiresAt }, ['writer', 'reader']],
      [{ scopes: ['read:all'], tokenTypes: ['USER'], note: 'ci' }, ['reader']],
    ];
    for (const [filter, expected] of cases) {
      expect(await keys(mira.main.secret, { filter }), JSON.stringify(filter)).toEqual(keysOf(...expected));
    }
  });

  it('pages forward and backward through the same listing, agreeing with totalCount', async () => {
    const all = await keys(people.admin, { includeInvalid: true });
    const forward: string[] = [];
    let after: string | null = null;
    do {
      const page: TokensPage = (await tokens(people.admin, { includeInvalid: true, first: 2, after })).data!.tokens;
      expect(page.totalCount).toBe(all.length);
      forward.push(...page.edges.map((edge) => edge.node.key));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    const backward: string[] = [];
    let before: string | null = null;
    do {
      const page: TokensPage = (await tokens(people.admin, { includeInvalid: true, first: undefined, last: 3, before })).data!.tokens;
      backward.unshift(...page.edges.map((edge) => edge.node.key));
      before = page.pageInfo.hasPreviousPage ? page.pageInfo.startCursor : null;
    } while (before);
    expect(forward).toEqual(all);
    expect(backward).toEqual(all);
  });

  it('refuses a filter listing more than 1000 keys or scopes with a typed error', async () => {
    const manyKeys = Array.from({ length: 1001 }, (_, index) => `key-${index}`);
    const response = await tokens(people.admin, { filter: { keys: manyKeys } });
    expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'INVALID_INPUT' } });
    expect(response.errors?.[0]?.message).toContain('at most 1000');
  });

  it("answers token(key) with null for someone else's token, as for a key that does not exist", async () => {
    const query = 'query($key: String!) { token(key: $key) { key } }';
    expect((await server.graphql(mira.main.secret, query, { key: mira.reader.token.key })).data).toEqual({ token: { key: mira.reader.token.key } });
    expect((await server.graphql(people.alice, query, { key: mira.reader.token.key })).data).toEqual({ token: null });
    expect((await server.graphql(people.alice, query, { key: 'AAAAAAAAAAAAAAAAAAAAAA' })).data).toEqual({ token: null });
    expect((await server.graphql(people.admin, query, { key: mira.reader.token.key })).data).toEqual({ token: { key: mira.reader.token.key } });
  });
});
