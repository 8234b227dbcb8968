import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, cast, engines, startServer, type TestServer } from '../support/harness.ts';

describe.each(engines())('smoke on %s', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(async () => server?.close());

  it('serves viewer for the bootstrap secret and a minted token', async () => {
    const bootstrap = await server.graphql<{ viewer: { username: string; isAdmin: boolean } }>(BOOTSTRAP_TOKEN, '{ viewer { username isAdmin } }');
    expect(bootstrap.data?.viewer).toEqual({ username: '<bootstrap>', isAdmin: true });
    const people = await cast(server);
    const alice = await server.graphql<{ viewer: { username: string; isAdmin: boolean; tokenKey: string } }>(people.alice, '{ viewer { username isAdmin tokenKey } }');
    expect(alice.data?.viewer).toEqual({ username: 'alice', isAdmin: false, tokenKey: people.aliceKey });
  });
});

describe('query limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('sqlite');
  });
  afterAll(async () => server?.close());

  const entryFields = 'id token username tokenType tokenName parent scopes service expires actor action oldTokenName oldScopes oldExpires ipAddress eventTime reduced';

  it('admits the largest page (1000) of history entries with their tokens', async () => {
    const response = await server.graphql(
      BOOTSTRAP_TOKEN,
      `{ tokenHistory(first: 1000) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${entryFields} tokenRecord { key name scopes valid expiresAt parent { key } } } } } }`,
    );
    expect(response.errors).toBeUndefined();
  });

  it('refuses pages of pages and deep nesting before running them', async () => {
    const nested = await server.graphql(
      BOOTSTRAP_TOKEN,
      `{ tokens(first: 1000) { edges { node { key children { key } } } } a: tokenHistory(first: 1000) { edges { node { ${entryFields} tokenRecord { key children { key parent { key children { key } } } } } } } b: tokenHistory(first: 1000) { edges { node { ${entryFields} } } } }`,
    );
    expect(nested.data).toBeFalsy();
    expect(nested.errors?.[0]?.message).toMatch(/cost limit/i);
    expect(nested.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const deep = await server.graphql(
      BOOTSTRAP_TOKEN,
      '{ tokens { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { key } } } } } } } } } } } } } }',
    );
    expect(deep.errors?.[0]?.message).toMatch(/depth/i);
  });
});
