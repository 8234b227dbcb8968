import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, expectNoErrors, VIEWER } from '../support/operations.ts';

describe.each(engines())('smoke on %s', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(async () => server?.close());

  it('serves viewer for the bootstrap secret and a minted token', async () => {
    const bootstrap = await server.request(VIEWER, {}, { token: BOOTSTRAP_TOKEN });
    expect(bootstrap.data?.viewer).toEqual({ username: '<bootstrap>', scopes: ['admin:token'], isAdmin: true, tokenKey: null });
    const people = await cast(server);
    const alice = await server.request(VIEWER, {}, { token: people.alice });
    expect(alice.data?.viewer).toEqual({ username: 'alice', scopes: ['exec:notebook', 'read:all', 'user:token'], isAdmin: false, tokenKey: people.aliceKey });
  });
});

/** The largest page a client may ask for: 1000 history entries, each with its token. */
const LARGEST_HISTORY_PAGE = graphql(`
  query LargestHistoryPage {
    tokenHistory(first: 1000) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id token username tokenType tokenName parent scopes service expires actor action oldTokenName oldScopes oldExpires ipAddress eventTime reduced
          tokenRecord { key name scopes valid expiresAt parent { key } }
        }
      }
    }
  }
`);

describe('query limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('sqlite');
  });
  afterAll(async () => server?.close());

  const entryFields =
    'id token username tokenType tokenName parent scopes service expires actor action oldTokenName oldScopes oldExpires ipAddress eventTime reduced';

  it('admits the largest page (1000) of history entries with their tokens', async () => {
    const response = await server.request(LARGEST_HISTORY_PAGE, {}, { token: BOOTSTRAP_TOKEN });
    expectNoErrors(response);
  });

  // Untyped on purpose: these are built to trip the cost limit (graphql/complexity.ts) and graphql-armor's depth limit, not to be answered.
  it('refuses pages of pages and deep nesting before running them', async () => {
    const nested = await server.requestText(
      `{ tokens(first: 1000) { edges { node { key children { edges { node { key } } } } } } a: tokenHistory(first: 1000) { edges { node { ${entryFields} tokenRecord { key children { edges { node { key parent { key } } } } } } } } b: tokenHistory(first: 1000) { edges { node { ${entryFields} } } } }`,
      { token: BOOTSTRAP_TOKEN },
    );
    expect(nested.data).toBeFalsy();
    expect(nested.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(nested.errors?.[0]?.message).toMatch(/KiB/);
    const deep = await server.requestText(
      '{ tokens { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { key } } } } } } } } } } } } } }',
      { token: BOOTSTRAP_TOKEN },
    );
    expect(deep.errors?.[0]?.message).toMatch(/depth/i);
  });

  it('refuses a query of more than 1,000 lexical tokens while parsing it, with a code', async () => {
    // A long argument list makes up the tokens (commas are not tokens).
    const keys = Array.from({ length: 1200 }, (_, index) => `"k${String(index).padStart(21, '0')}"`).join(', ');
    const long = await server.requestText(`{ tokens(filter: { keys: [${keys}] }, first: 1) { edges { node { key } } } }`, { token: BOOTSTRAP_TOKEN });
    expect(long.data).toBeFalsy();
    expect(long.errors?.[0]?.message).toMatch(/token limit/i);
    expect(long.errors?.[0]?.extensions?.code).toBeTypeOf('string');
    const within = await server.requestText(
      `{ tokens(filter: { keys: [${keys.split(', ').slice(0, 100).join(', ')}] }, first: 1) { edges { node { key } } } }`,
      {
        token: BOOTSTRAP_TOKEN,
      },
    );
    expect(within.errors).toBeUndefined();
  });
});
