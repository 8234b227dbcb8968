/**
 * The `tokens` connection and `token(key)` (SPEC "Queries"): whose tokens a
 * caller sees, every filter criterion (scopes through SQL on both engines),
 * valid-only by default, newest-first keyset pages both ways that agree with
 * totalCount, and typed errors for oversized filters. Real server over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  expectNoErrors,
  lookup,
  mint,
  minutesFromNow,
  revoke,
  TOKEN,
  TOKENS,
  type Cast,
  type GenerateTokenInput,
  type Minted,
  type TokenFilter,
  type TokensPage,
  type TokensVariables,
} from '../support/operations.ts';

describe.each(engines())('the tokens and token queries on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** Mira's tokens, made in this order. */
  let mira: Record<'main' | 'reader' | 'writer' | 'notebook' | 'revoked', Minted>;

  async function tokens(actor: string, variables: TokensVariables) {
    return server.request(TOKENS, { first: 100, ...variables }, { token: actor });
  }

  async function keys(actor: string, variables: TokensVariables): Promise<string[]> {
    const connection = expectNoErrors(await tokens(actor, variables)).tokens;
    expect(connection.totalCount).toBe(connection.edges.length);
    return connection.edges.map((edge) => edge.node.key);
  }

  const keysOf = (...names: (keyof typeof mira)[]) => names.map((name) => mira[name].token.key);

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
    const as = (input: GenerateTokenInput) => mint(server, BOOTSTRAP_TOKEN, { username: 'mira', ...input });
    const main = await as({ name: 'main', scopes: ['exec:notebook', 'read:all', 'user:token'] });
    const reader = await as({ name: 'reader', scopes: ['read:all'], note: 'ci', expires: minutesFromNow(60, server.clock) });
    const writer = await as({ name: 'writer', scopes: ['write:all'], expires: minutesFromNow(600, server.clock) });
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
    const reader = await lookup(server, mira.reader.token.key);
    if (!reader) throw new Error('no reader token');
    const cases: [TokenFilter, (keyof typeof mira)[]][] = [
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
      const page: TokensPage = expectNoErrors(await tokens(people.admin, { includeInvalid: true, first: 2, after })).tokens;
      expect(page.totalCount).toBe(all.length);
      forward.push(...page.edges.map((edge) => edge.node.key));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    const backward: string[] = [];
    let before: string | null = null;
    do {
      const page: TokensPage = expectNoErrors(await tokens(people.admin, { includeInvalid: true, first: undefined, last: 3, before })).tokens;
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
    const token = async (actor: string, key: string) => expectNoErrors(await server.request(TOKEN, { key }, { token: actor }));
    expect(await token(mira.main.secret, mira.reader.token.key)).toEqual({ token: expect.objectContaining({ key: mira.reader.token.key }) });
    expect(await token(people.alice, mira.reader.token.key)).toEqual({ token: null });
    expect(await token(people.alice, 'AAAAAAAAAAAAAAAAAAAAAA')).toEqual({ token: null });
    expect(await token(people.admin, mira.reader.token.key)).toEqual({ token: expect.objectContaining({ key: mira.reader.token.key }) });
  });
});
