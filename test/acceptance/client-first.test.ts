/**
 * What frontend apps, their typed clients and their caches need: queries work
 * over GET with a client's defaults (no CSRF header: the Authorization header
 * is the protection), mutations stay POST-only; every typed error's `code` is
 * a value of the `ErrorCode` enum, which holds exactly the domain's codes;
 * and one mistake gets one code: a page size over the limit is
 * PAGE_SIZE_TOO_LARGE however rich the rest of the query is.
 */
import { cacheExchange, Client, fetchExchange } from '@urql/core';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.ts';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import {
  cast,
  CHILDREN_OF_EVERY_TOKEN,
  EIGHT_HEAVY_PAGES,
  expectNoErrors,
  GENERATE,
  generate,
  HISTORY,
  mint,
  rowCounts,
  TOKENS,
  VIEWER,
  type Cast,
} from '../support/operations.ts';

/** The ErrorCode enum and the Error interface as a client generating types reads them. */
const ERROR_CODE_SCHEMA = graphql(`
  query ErrorCodeSchema {
    codes: __type(name: "ErrorCode") { kind enumValues(includeDeprecated: true) { name description } }
    error: __type(name: "Error") {
      fields { name type { kind ofType { kind name } } }
      possibleTypes { name description }
    }
  }
`);

/** Two large pages with every field: over the cost limit at 1000 each. */
const RICH_PAGES = graphql(`
  query RichPages($n: Int, $m: Int) {
    tokens(first: $n) { totalCount edges { cursor node { ...TokenView policy metadata } } }
    tokenHistory(first: $m) { totalCount edges { cursor node { ...HistoryEntry tokenRecord { key note policy metadata } } } }
  }
`);

/** A query answered with exactly one GraphQL error, of `code`, and no data. */
function expectQueryError(response: GraphQLResponse, code: string) {
  expect(response.status).toBe(200);
  expect(
    response.errors?.map((error) => error.extensions?.code),
    JSON.stringify(response.body),
  ).toEqual([code]);
  expect(response.data).toBeNull();
}

/** A GET of the GraphQL endpoint with the query and variables in the URL, as urql and graphql-http clients send it. */
function getRequest(server: TestServer, query: string, variables: Record<string, unknown> | undefined, headers: Record<string, string>) {
  const url = new URL(server.url);
  url.searchParams.set('query', query);
  if (variables) url.searchParams.set('variables', JSON.stringify(variables));
  return fetch(url, { headers: { accept: 'application/graphql-response+json, application/json', ...headers } });
}

describe.each(engines())('clients first on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** SQL statements since the last reset. */
  let statements: string[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.onStatement((sql) => {
      statements.push(sql);
    });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  describe('GET queries, POST mutations', () => {
    it('answers a GET query without any CSRF header with 200 and its data', async () => {
      const response = await getRequest(server, print(VIEWER), undefined, { authorization: `Bearer ${people.alice}` });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data?: { viewer?: { username?: string } }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data?.viewer?.username).toBe('alice');
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it("works with urql's defaults: queries go as GET, mutations as POST, with only the Authorization header", async () => {
      const methods: string[] = [];
      const client = new Client({
        url: server.url,
        exchanges: [cacheExchange, fetchExchange],
        fetchOptions: { headers: { authorization: `Bearer ${people.alice}` } },
        fetch: (input, init) => {
          methods.push(init?.method ?? 'GET');
          return fetch(input, init);
        },
      });
      const viewer = await client.query(VIEWER, {}).toPromise();
      expect(viewer.error).toBeUndefined();
      expect(viewer.data?.viewer.username).toBe('alice');
      const tokens = await client.query(TOKENS, { first: 5 }).toPromise();
      expect(tokens.error).toBeUndefined();
      expect(tokens.data?.tokens.edges.map((edge) => edge.node.username)).toContain('alice');

      const generated = await client.mutation(GENERATE, { input: { name: 'from-urql', scopes: ['read:all'] } }).toPromise();
      expect(generated.error).toBeUndefined();
      expect(generated.data?.generateToken.__typename).toBe('GenerateTokenPayload');
      expect(methods).toEqual(['GET', 'GET', 'POST']);
    });

    it('answers a GET query without a token 401, cross-site or not: the Authorization header is what no forged request can carry', async () => {
      for (const headers of [{}, { origin: 'https://evil.example' }] as Record<string, string>[]) {
        const response = await getRequest(server, print(VIEWER), undefined, headers);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
        expect(await response.text()).not.toContain('alice');
      }
    });

    it('refuses a mutation over GET with 405 and changes nothing', async () => {
      const before = await rowCounts(server);
      const response = await getRequest(server, print(GENERATE), { input: { name: 'over-get', scopes: [] } }, { authorization: `Bearer ${people.alice}` });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toContain('POST');
      const body = (await response.json()) as { data?: unknown; errors?: { message: string }[] };
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.message).toMatch(/POST/);
      expect(await rowCounts(server)).toEqual(before);

      // The same mutation as a POST works.
      expect((await mint(server, people.alice, { name: 'over-post', scopes: [] })).token.name).toBe('over-post');
    });
  });

  describe('ErrorCode', () => {
    it('holds exactly the domain codes, each described, and is the type of Error.code', async () => {
      const { codes, error } = expectNoErrors(await server.request(ERROR_CODE_SCHEMA, {}, { token: people.alice }));
      expect(codes?.kind).toBe('ENUM');
      expect(codes?.enumValues?.map((value) => value.name).sort()).toEqual(Object.keys(ERROR_CODES).sort());
      for (const value of codes?.enumValues ?? []) expect(value.description, value.name).toBe(ERROR_CODES[value.name as keyof typeof ERROR_CODES]);

      const code = error?.fields?.find((field) => field.name === 'code');
      expect(code?.type).toEqual({ kind: 'NON_NULL', ofType: { kind: 'ENUM', name: 'ErrorCode' } });
      // Every error type says which code it carries, and only codes the enum holds.
      expect(error?.possibleTypes?.length).toBeGreaterThan(10);
      for (const type of error?.possibleTypes ?? []) {
        const named = type.description?.match(/Its code is (?:one of )?([A-Z_, ]+)\.$/)?.[1]?.split(', ');
        expect(named, `${type.name}: ${type.description}`).toBeDefined();
        for (const name of named ?? []) expect(Object.keys(ERROR_CODES), `${type.name}: ${name}`).toContain(name);
      }
    });

    it("answers every typed error with a code that is an ErrorCode value, the one its type's description names", async () => {
      const { error } = expectNoErrors(await server.request(ERROR_CODE_SCHEMA, {}, { token: people.alice }));
      const describedCode = new Map(error?.possibleTypes?.map((type) => [type.name, type.description?.match(/Its code is ([A-Z_]+)\.$/)?.[1]]));
      const refusals = [
        await generate(server, people.alice, { name: 'unknown-scope', scopes: ['no:such'] }),
        await generate(server, people.alice, { name: 'too-broad', scopes: ['admin:token'] }),
        await generate(server, people.alice, { name: 'x'.repeat(65), scopes: [] }),
        await generate(server, people.alice, { name: 'main', scopes: [] }),
        await generate(server, people.alice, { name: 'no-generator', scopes: [], tokenGeneratorId: 'nope' }),
        await generate(server, people.alice, { name: 'bad-policy', scopes: [], policy: { resources: {} } }),
        await generate(server, people.alice, { tokenType: 'NOTEBOOK', parent: 'AAAAAAAAAAAAAAAAAAAAAA', scopes: [] }),
        await generate(server, people.alice, { username: 'bot-x', tokenType: 'SERVICE', scopes: [] }),
      ];
      const seen = refusals.map((result) => {
        expect(result.__typename).not.toBe('GenerateTokenPayload');
        const { __typename, code } = result as { __typename: string; code: string };
        expect(Object.keys(ERROR_CODES)).toContain(code);
        expect(describedCode.get(__typename), __typename).toBe(code);
        return code;
      });
      expect(seen).toEqual([
        'UNKNOWN_SCOPE',
        'SCOPES_TOO_BROAD',
        'INVALID_INPUT',
        'DUPLICATE_TOKEN_NAME',
        'UNKNOWN_TOKEN_GENERATOR',
        'INVALID_POLICY',
        'INVALID_PARENT_TOKEN',
        'PERMISSION_DENIED',
      ]);
    });
  });

  describe('one code for one mistake', () => {
    it('answers first or last over 1000 with PAGE_SIZE_TOO_LARGE on a cheap query', async () => {
      expectQueryError(await server.request(TOKENS, { first: 1001 }, { token: people.admin }), 'PAGE_SIZE_TOO_LARGE');
      expectQueryError(await server.request(TOKENS, { last: 1001 }, { token: people.admin }), 'PAGE_SIZE_TOO_LARGE');
      expectQueryError(await server.request(HISTORY, { first: 1001 }, { token: people.admin }), 'PAGE_SIZE_TOO_LARGE');
      expectQueryError(await server.request(HISTORY, { last: 1001 }, { token: people.admin }), 'PAGE_SIZE_TOO_LARGE');
    });

    it('prices a document without variables once, and refuses a costly one every time it comes', async () => {
      const codesOf = async (query: string) => {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${people.admin}` },
          body: JSON.stringify({ query }),
        });
        const body = (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
        return (body.errors ?? []).map((error) => error.extensions?.code);
      };
      const rich = `{ ${Array.from({ length: 8 }, (_, index) => `p${index}: tokens(first: 1000) { edges { node { policy metadata } } }`).join(' ')} }`;
      for (let time = 0; time < 2; time += 1) {
        expect(await codesOf('{ tokens(first: 1001) { edges { node { key } } } }')).toEqual(['PAGE_SIZE_TOO_LARGE']);
        expect(await codesOf(rich)).toEqual(['QUERY_TOO_COMPLEX']);
        expect(await codesOf('{ tokens(first: 2) { edges { node { key } } } }')).toEqual([]);
      }
    });

    it('answers first over 1000 with PAGE_SIZE_TOO_LARGE on a query rich enough to be too complex, before running anything', async () => {
      // The same query at the largest page size is refused for its cost: it is rich.
      expectQueryError(await server.request(RICH_PAGES, { n: 1000, m: 1000 }, { token: BOOTSTRAP_TOKEN }), 'QUERY_TOO_COMPLEX');
      expectQueryError(await server.request(EIGHT_HEAVY_PAGES, { n: 1000 }, { token: BOOTSTRAP_TOKEN }), 'QUERY_TOO_COMPLEX');

      // The bootstrap secret needs no lookup: a refusal before execution reaches no database.
      statements = [];
      expectQueryError(await server.request(RICH_PAGES, { n: 1001, m: 1000 }, { token: BOOTSTRAP_TOKEN }), 'PAGE_SIZE_TOO_LARGE');
      expectQueryError(await server.request(RICH_PAGES, { n: 1000, m: 1001 }, { token: BOOTSTRAP_TOKEN }), 'PAGE_SIZE_TOO_LARGE');
      expectQueryError(await server.request(EIGHT_HEAVY_PAGES, { n: 1001 }, { token: BOOTSTRAP_TOKEN }), 'PAGE_SIZE_TOO_LARGE');
      expect(statements).toEqual([]);
    });

    it('checks the page size of nested connections too, whether or not the outer page has rows', async () => {
      await mint(server, people.alice, { name: 'has-no-children', scopes: [] });
      statements = [];
      const nested = await server.request(CHILDREN_OF_EVERY_TOKEN, { n: 1000, m: 1001 }, { token: BOOTSTRAP_TOKEN });
      expectQueryError(nested, 'PAGE_SIZE_TOO_LARGE');
      expect(nested.errors?.[0]?.message).toMatch(/1000/);
      expect(statements).toEqual([]);
      // The largest nested page size is allowed (under one token, so that the cost stays within the limit).
      expectNoErrors(await server.request(CHILDREN_OF_EVERY_TOKEN, { n: 1, m: 1000 }, { token: BOOTSTRAP_TOKEN }));
    });
  });
});
