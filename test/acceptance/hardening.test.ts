/**
 * Hardening: every input is bounded and refused with a typed error that
 * changes nothing; queries are priced before they run; token strings are
 * never echoed; cursors cannot crash a query; browsers get no cross-origin or
 * cross-site access; bodies are bounded; failed credentials are slowed down
 * without ever refusing a good one.
 */
import { request as httpRequest } from 'node:http';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import {
  cast,
  CHILDREN_OF_EVERY_TOKEN,
  EIGHT_HEAVY_PAGES,
  expectNoErrors,
  expectTypename,
  generate,
  GENERATE,
  HISTORY,
  HISTORY_SINCE,
  invalidateTokens,
  mint,
  NODE_BY_ID,
  REVOKE,
  revokeToken,
  rowCounts,
  TOKEN,
  TOKEN_CHILDREN,
  TOKENS,
  VIEWER,
  type Cast,
  type GenerateResult,
  type GenerateTokenInput,
  type InvalidateResult,
  type InvalidateTokensInput,
  type Minted,
  type RevokeResult,
} from '../support/operations.ts';

/** A JSON object nested `depth` levels deep ({} is depth 1). */
function nested(depth: number): Record<string, unknown> {
  let document: Record<string, unknown> = {};
  for (let level = 1; level < depth; level += 1) document = { a: document };
  return document;
}

/** A JSON object whose serialization is exactly `bytes` bytes long. */
function ofSize(bytes: number): Record<string, unknown> {
  const document = { x: 'a'.repeat(bytes - '{"x":""}'.length) };
  expect(Buffer.byteLength(JSON.stringify(document))).toBe(bytes);
  return document;
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** A 22-character key that no token has. */
const ABSENT_KEY = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Whether `text` shows a token string, whole or a recognizable piece of it. */
function showsSecret(text: string, secret: string): boolean {
  return text.includes(secret) || text.includes(secret.slice(0, 24)) || text.includes(secret.slice(-16));
}

type MutationError = { __typename?: string; code?: string; message?: string; field?: string | null };

/** A typed INVALID_INPUT error naming `field` (a string, or a pattern for list items), whose message quotes no long value. */
function expectInvalidInput(result: GenerateResult | InvalidateResult | RevokeResult, field: string | RegExp, value?: unknown) {
  const error = result as MutationError;
  expect(error.__typename, JSON.stringify(result)).toBe('InvalidInputError');
  expect(error.code).toBe('INVALID_INPUT');
  if (typeof field === 'string') expect(error.field).toBe(field);
  else expect(error.field).toMatch(field);
  if (typeof value === 'string' && value.length > 16) expect(error.message).not.toContain(value.slice(0, 16));
}

/** A query answered with one GraphQL error of `code` (and `field`), and no data for it. */
function expectQueryError(response: GraphQLResponse, code: string, field?: string) {
  expect(response.status).toBe(200);
  expect(response.errors, `expected ${code}, got ${JSON.stringify(response.body)}`).toBeDefined();
  expect(response.errors?.map((error) => error.extensions?.code)).toEqual([code]);
  if (field !== undefined) expect(response.errors?.[0]?.extensions?.field).toBe(field);
  expect(JSON.stringify(response.body)).not.toContain('Unexpected error');
}

/** POSTs a body as is, with the given headers (no Authorization unless given). */
function rawPost(server: TestServer, body: string, headers: Record<string, string>) {
  return fetch(server.url, { method: 'POST', headers, body });
}

/** Sends a POST with a raw Node request, so that the test decides Content-Length and how much of the body is sent. */
function partialPost(
  server: TestServer,
  headers: Record<string, string>,
  chunks: string[],
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(server.url, { method: 'POST', headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        request.destroy();
      });
    });
    request.on('error', reject);
    request.setTimeout(5_000, () => request.destroy(new Error('no answer within 5 s: the server waited for the body')));
    for (const chunk of chunks) request.write(chunk);
    // The request is never ended: the server must answer without reading (or waiting for) the body.
  });
}

function expectSecurityHeaders(headers: Headers, graphql = true) {
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  if (graphql) expect(headers.get('cache-control')).toBe('no-store');
}

describe.each(engines())('hardening on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** SQL statements since the last reset, from Prisma's query events. */
  let statements: string[] = [];
  let serial = 0;
  const unique = (prefix: string) => `${prefix}-${(serial += 1)}`;

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.onStatement((sql) => {
      statements.push(sql);
    });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  describe('bounded input', () => {
    /** generateToken refuses the input with INVALID_INPUT for `field`, and nothing is written. */
    async function expectGenerateRefused(actor: string, input: GenerateTokenInput, field: string | RegExp, value?: unknown) {
      const before = await rowCounts(server);
      expectInvalidInput(await generate(server, actor, input), field, value);
      expect(await rowCounts(server)).toEqual(before);
    }

    it('counts code points: 64 emoji are a valid name, 65 are not', async () => {
      const name = '😀'.repeat(64);
      expect(name.length).toBe(128);
      const minted = await mint(server, people.alice, { name, scopes: ['read:all'] });
      expect(minted.token.name).toBe(name);
      await expectGenerateRefused(people.alice, { name: '😀'.repeat(65), scopes: ['read:all'] }, 'name', '😀'.repeat(65));
      await expectGenerateRefused(people.alice, { name: 'n'.repeat(65), scopes: ['read:all'] }, 'name', 'n'.repeat(65));
    });

    it('refuses over-long short texts: username, service, scope names, tokenGeneratorId', async () => {
      const long = 'x'.repeat(65);
      await expectGenerateRefused(people.admin, { username: 'u'.repeat(65), name: unique('n'), scopes: [] }, 'username', 'u'.repeat(65));
      await expectGenerateRefused(people.alice, { tokenType: 'INTERNAL', parent: people.aliceKey, service: long, scopes: ['read:all'] }, 'service', long);
      await expectGenerateRefused(people.admin, { username: 'alice', name: unique('n'), scopes: [`read:${'a'.repeat(60)}`] }, /^scopes/);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], tokenGeneratorId: long }, 'tokenGeneratorId', long);
      // At the bound, a service is fine.
      const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: people.aliceKey, service: 's'.repeat(64), scopes: ['read:all'] });
      expect(internal.token.service).toBe('s'.repeat(64));
    });

    it('refuses more than 100 scopes on a token', async () => {
      const scopes = Array.from({ length: 101 }, (_, index) => `read:s${index}`);
      await expectGenerateRefused(people.admin, { username: 'alice', name: unique('n'), scopes }, 'scopes');
    });

    it('takes a note of 1000 characters with tabs and newlines, and refuses 1001', async () => {
      const note = `line one\tcolumn\n${'é'.repeat(1000 - 16)}`;
      expect([...note]).toHaveLength(1000);
      const minted = await mint(server, people.alice, { name: unique('note'), scopes: [], note });
      expect(minted.token.note).toBe(note);
      await expectGenerateRefused(people.alice, { name: unique('note'), scopes: [], note: `${note}x` }, 'note', note);
    });

    it('refuses control characters, NUL included, the same way on both engines, and writes nothing', async () => {
      await expectGenerateRefused(people.alice, { name: 'bad\u0000name', scopes: [] }, 'name');
      await expectGenerateRefused(people.alice, { name: 'tab\tname', scopes: [] }, 'name');
      await expectGenerateRefused(people.alice, { name: 'new\nline', scopes: [] }, 'name');
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], note: 'a\u0000b' }, 'note');
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], note: 'bell\u0007' }, 'note');
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], policy: { resources: { '*': { allow: ['GET\u0000'] } } } }, 'policy');
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], metadata: { 'key\u0000': 1 } }, 'metadata');
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], tokenGeneratorId: 'vendor\u0000checksum' }, 'tokenGeneratorId');

      const revokeBefore = await rowCounts(server);
      expectInvalidInput(await revokeToken(server, people.alice, { key: people.aliceKey, reason: 'why\u0000' }), 'reason');
      expectInvalidInput(await invalidateTokens(server, people.alice, { filter: { keys: [people.aliceKey] }, reason: 'why\u0000' }), 'reason');
      expect(await rowCounts(server)).toEqual(revokeBefore);
      // The token is still there, unrevoked.
      expect((await server.request(VIEWER, {}, { token: people.alice })).status).toBe(200);
    });

    it('bounds JSON documents: 16 KiB serialized and 16 levels deep', async () => {
      const largest = ofSize(16 * 1024);
      const deepest = nested(16);
      const minted = await mint(server, people.alice, {
        name: unique('json'),
        scopes: [],
        metadata: largest,
        tokenGeneratorId: 'gafaelfawr',
        tokenInfo: deepest,
      });
      expect(minted.token.metadata).toEqual(largest);
      const deepMetadata = await mint(server, people.alice, { name: unique('json'), scopes: [], metadata: deepest });
      expect(deepMetadata.token.metadata).toEqual(deepest);

      const tooLarge = ofSize(16 * 1024 + 1);
      const tooDeep = nested(17);
      await expectGenerateRefused(people.alice, { name: unique('json'), scopes: [], metadata: tooLarge }, 'metadata');
      await expectGenerateRefused(people.alice, { name: unique('json'), scopes: [], metadata: tooDeep }, 'metadata');
      await expectGenerateRefused(
        people.alice,
        { name: unique('json'), scopes: [], policy: { resources: { '*': { allow: ['a'.repeat(17_000)] } } } },
        'policy',
      );
      await expectGenerateRefused(people.alice, { name: unique('json'), scopes: [], policy: tooDeep }, 'policy');
      await expectGenerateRefused(people.alice, { name: unique('json'), scopes: [], tokenInfo: tooLarge }, 'tokenInfo');
      await expectGenerateRefused(people.alice, { name: unique('json'), scopes: [], tokenInfo: tooDeep }, 'tokenInfo');
      // Arrays count as levels too.
      await expectGenerateRefused(
        people.alice,
        { name: unique('json'), scopes: [], metadata: { a: JSON.parse('['.repeat(16) + ']'.repeat(16)) as unknown[] } },
        'metadata',
      );
    });

    it('trims names and refuses a blank one; "dup " is the same name as "dup"', async () => {
      const trimmed = await mint(server, people.bob, { name: '  spaced  ', scopes: [] });
      expect(trimmed.token.name).toBe('spaced');
      await expectGenerateRefused(people.bob, { name: '   ', scopes: [] }, 'name');
      await expectGenerateRefused(people.bob, { name: '', scopes: [] }, 'name');

      await mint(server, people.bob, { name: 'dup', scopes: [] });
      const before = await rowCounts(server);
      const again = await generate(server, people.bob, { name: 'dup ', scopes: [] });
      expect(again.__typename).toBe('DuplicateTokenNameError');
      expect((again as MutationError).code).toBe('DUPLICATE_TOKEN_NAME');
      expect(await rowCounts(server)).toEqual(before);
    });

    it('refuses anything but a 22-character URL-safe base64 key, wherever a key goes', async () => {
      const secret = people.alice;
      const before = await rowCounts(server);
      for (const key of [secret, 'short', `${ABSENT_KEY}A`, 'AAAAAAAAAAAAAAAAAAAA+/']) {
        expectInvalidInput(await revokeToken(server, people.alice, { key }), 'key', key);
      }
      expectInvalidInput(await generate(server, people.alice, { tokenType: 'NOTEBOOK', parent: secret, scopes: [] }), 'parent', secret);
      expectInvalidInput(await invalidateTokens(server, people.alice, { filter: { keys: [ABSENT_KEY, secret] } }), 'filter.keys.1', secret);
      expect(await rowCounts(server)).toEqual(before);

      expectQueryError(await server.request(TOKEN, { key: secret }, { token: people.alice }), 'INVALID_INPUT', 'key');
      expectQueryError(await server.request(TOKENS, { filter: { keys: ['nope'] } }, { token: people.alice }), 'INVALID_INPUT', 'filter.keys.0');
      expectQueryError(await server.request(HISTORY, { filter: { key: secret } }, { token: people.alice }), 'INVALID_INPUT', 'filter.key');
      // A well-formed key that names nothing is simply not found.
      expect((await revokeToken(server, people.alice, { key: ABSENT_KEY })).__typename).toBe('TokenNotFoundError');
    });

    it('bounds the lists and texts of invalidateTokens and revokeToken', async () => {
      const before = await rowCounts(server);
      const cases: [InvalidateTokensInput, string][] = [
        [{ usernames: Array.from({ length: 1001 }, (_, index) => `user${index}`) }, 'usernames'],
        [{ usernames: ['u'.repeat(65)] }, 'usernames.0'],
        [{ filter: { keys: Array.from({ length: 1001 }, () => ABSENT_KEY) } }, 'filter.keys'],
        [{ filter: { scopes: Array.from({ length: 1001 }, (_, index) => `read:s${index}`) } }, 'filter.scopes'],
        [{ filter: { scopes: ['s'.repeat(65)] } }, 'filter.scopes.0'],
        [{ filter: { note: 'n'.repeat(1001) } }, 'filter.note'],
        [{ filter: { keys: [ABSENT_KEY] }, reason: 'r'.repeat(1001) }, 'reason'],
      ];
      for (const [input, field] of cases) expectInvalidInput(await invalidateTokens(server, people.admin, input), field);
      expectInvalidInput(await revokeToken(server, people.alice, { key: people.aliceKey, reason: 'r'.repeat(1001) }), 'reason');
      expect(await rowCounts(server)).toEqual(before);
    });

    it('takes every list of invalidateTokens at its bound at once', async () => {
      // At the bounds: 1000 usernames, 1000 keys, a reason of 1000 characters with a tab and a newline.
      const atBounds = await invalidateTokens(server, people.admin, {
        usernames: Array.from({ length: 1000 }, (_, index) => `nobody${index}`),
        filter: { keys: Array.from({ length: 1000 }, () => ABSENT_KEY) },
        reason: `why\tnot\n${'r'.repeat(992)}`,
      });
      expect(expectTypename(atBounds, 'InvalidateTokensPayload').count).toBe(0);
    });

    it('lists tokens by a filter of 1000 keys, the bound', async () => {
      const keys = Array.from({ length: 1000 }, (_, index) => `A${String(index).padStart(21, '0')}`);
      const { tokens } = expectNoErrors(await server.request(TOKENS, { filter: { keys: [...keys.slice(1), people.aliceKey] } }, { token: people.admin }));
      expect(tokens.edges.map((edge) => edge.node.key)).toEqual([people.aliceKey]);
    });

    it('bounds the filters of tokens and tokenHistory', async () => {
      const long = 'x'.repeat(65);
      expectQueryError(await server.request(TOKENS, { username: long }, { token: people.admin }), 'INVALID_INPUT', 'username');
      expectQueryError(
        await server.request(TOKENS, { filter: { scopes: Array.from({ length: 1001 }, () => 'read:all') } }, { token: people.admin }),
        'INVALID_INPUT',
        'filter.scopes',
      );
      expectQueryError(await server.request(HISTORY, { filter: { actor: long } }, { token: people.admin }), 'INVALID_INPUT', 'filter.actor');
      expectQueryError(await server.request(HISTORY, { filter: { username: long } }, { token: people.admin }), 'INVALID_INPUT', 'filter.username');
      expectQueryError(await server.request(HISTORY, { filter: { actor: 'a\u0000' } }, { token: people.admin }), 'INVALID_INPUT', 'filter.actor');
      // 64 characters is a valid actor to look for (one that made nothing).
      expect(expectNoErrors(await server.request(HISTORY, { filter: { actor: 'a'.repeat(64) } }, { token: people.admin })).tokenHistory.totalCount).toBe(0);
    });

    it('quotes at most a short prefix of a refused value', async () => {
      const scope = `read:${'q'.repeat(59)}`;
      const unknown = await generate(server, people.admin, { username: 'alice', name: unique('n'), scopes: [scope] });
      expect((unknown as MutationError).code).toBe('UNKNOWN_SCOPE');
      expect((unknown as MutationError).message).not.toContain(scope.slice(0, 16));

      const filter = `10.0.0.${'9'.repeat(56)}`;
      const response = await server.request(HISTORY, { filter: { ipAddress: filter } }, { token: people.admin });
      expectQueryError(response, 'BAD_IP_FILTER');
      expect(response.errors?.[0]?.message).not.toContain(filter.slice(0, 16));
    });
  });

  describe('query cost', () => {
    it('prices page sizes given as variables and refuses an answer too large before running anything', async () => {
      statements = [];
      const refused = await server.request(EIGHT_HEAVY_PAGES, { n: 1000 }, { token: BOOTSTRAP_TOKEN });
      expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(refused.data).toBeNull();
      // The bootstrap secret needs no lookup: nothing at all reached the database.
      expect(statements).toEqual([]);

      const admitted = expectNoErrors(await server.request(EIGHT_HEAVY_PAGES, { n: 100 }, { token: BOOTSTRAP_TOKEN }));
      expect(admitted.a.edges.length).toBeGreaterThan(0);
      expect(statements.length).toBeGreaterThan(0);

      // The largest page of history, every field and the token's key, is within the limit.
      const { tokenHistory } = expectNoErrors(await server.request(HISTORY, { first: 1000 }, { token: BOOTSTRAP_TOKEN }));
      expect(tokenHistory.edges.length).toBe(tokenHistory.totalCount);
    });

    it("pages a token's children, and prices pages of children", async () => {
      const parent = await mint(server, people.alice, { name: unique('parent'), scopes: ['read:all'] });
      const first = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: [] });
      const second = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: [] });

      const all = expectNoErrors(await server.request(TOKEN_CHILDREN, { key: parent.token.key }, { token: people.alice }));
      expect(all.token?.children.edges.map((edge) => edge.node.key)).toEqual([first.token.key, second.token.key]);
      const one = expectNoErrors(await server.request(TOKEN_CHILDREN, { key: parent.token.key, first: 1 }, { token: people.alice }));
      expect(one.token?.children.edges.map((edge) => edge.node.key)).toEqual([first.token.key]);
      expectQueryError(await server.request(TOKEN_CHILDREN, { key: parent.token.key, first: 1001 }, { token: people.alice }), 'PAGE_SIZE_TOO_LARGE');

      statements = [];
      const refused = await server.request(CHILDREN_OF_EVERY_TOKEN, { n: 100, m: 1000 }, { token: BOOTSTRAP_TOKEN });
      expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(statements).toEqual([]);
      expectNoErrors(await server.request(CHILDREN_OF_EVERY_TOKEN, { n: 100, m: 5 }, { token: BOOTSTRAP_TOKEN }));
    });
  });

  describe('token strings are never echoed', () => {
    let gafaelfawr: Minted;
    beforeAll(async () => {
      gafaelfawr = await mint(server, people.alice, { name: unique('gafaelfawr'), scopes: [], tokenGeneratorId: 'gafaelfawr' });
      expect(gafaelfawr.secret.startsWith('gt-')).toBe(true);
    });

    const secrets = () => [gafaelfawr.secret, people.alice];

    function expectNoSecretIn(response: GraphQLResponse | string) {
      const text = typeof response === 'string' ? response : JSON.stringify(response.body);
      for (const secret of secrets()) expect(showsSecret(text, secret), text).toBe(false);
    }

    it('node(id) with a token string: INVALID_INPUT, unquoted', async () => {
      for (const secret of secrets()) {
        const response = await server.request(NODE_BY_ID, { id: secret }, { token: people.alice });
        expectQueryError(response, 'INVALID_INPUT', 'id');
        expectNoSecretIn(response);
      }
    });

    it('a token string as a cursor: BAD_CURSOR, unquoted', async () => {
      for (const secret of secrets()) {
        for (const variables of [
          { first: 5, after: secret },
          { last: 5, before: secret },
        ]) {
          const history = await server.request(HISTORY, variables, { token: people.alice });
          expectQueryError(history, 'BAD_CURSOR');
          expectNoSecretIn(history);
          const tokens = await server.request(TOKENS, variables, { token: people.alice });
          expectQueryError(tokens, 'BAD_CURSOR');
          expectNoSecretIn(tokens);
        }
      }
    });

    it('a token string as revokeToken key: INVALID_INPUT for key, unquoted', async () => {
      for (const secret of secrets()) {
        const response = await server.request(REVOKE, { input: { key: secret } }, { token: people.alice });
        const result = expectNoErrors(response).revokeToken;
        expectInvalidInput(result, 'key', secret);
        expectNoSecretIn(response);
      }
    });

    it('variables that cannot be coerced: BAD_USER_INPUT, with long runs cut short', async () => {
      const tooBig = await server.request(TOKENS, { first: 9_999_999_999 }, { token: people.alice });
      expect(tooBig.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      const notATime = await server.request(HISTORY_SINCE, { since: 'yesterday' }, { token: people.alice });
      expect(notATime.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      for (const secret of secrets()) {
        const response = await server.request(HISTORY_SINCE, { since: secret }, { token: people.alice });
        expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        expectNoSecretIn(response);
        const nested = await server.request(HISTORY, { filter: { since: secret } }, { token: people.alice });
        expect(nested.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        expectNoSecretIn(nested);
      }
    });

    it('a malformed JSON body: BAD_REQUEST, small, without originalError or the body', async () => {
      const body = `{"query": "{ viewer { username } }", "variables": {"token": "${gafaelfawr.secret}", "pad": "${'x'.repeat(100_000)}`;
      const response = await rawPost(server, body, {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${people.alice}`,
      });
      const text = await response.text();
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(text.length).toBeLessThan(2000);
      expect(text).not.toContain('originalError');
      expect(text).not.toContain('xxxxxxxxxxxxxxxx');
      expectNoSecretIn(text);
      const parsed = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
      expect(parsed.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_REQUEST']);
    });
  });

  describe('cursors', () => {
    const bad = [
      base64url('[1e300,5]'),
      base64url('[-1e20,5]'),
      base64url('[1e300,"x"]'),
      base64url('[8640000000000001,5]'),
      base64url('[0,1e300]'),
      'A'.repeat(100_000),
    ];

    it('answers BAD_CURSOR for out-of-range and oversized cursors, never an internal error', async () => {
      for (const cursor of bad) {
        for (const variables of [
          { first: 5, after: cursor },
          { last: 5, before: cursor },
        ]) {
          expectQueryError(await server.request(HISTORY, variables, { token: people.admin }), 'BAD_CURSOR');
          expectQueryError(await server.request(TOKENS, variables, { token: people.admin }), 'BAD_CURSOR');
        }
      }
      // A cursor the server gave out still works.
      const page = expectNoErrors(await server.request(HISTORY, { first: 1 }, { token: people.admin })).tokenHistory;
      expectNoErrors(await server.request(HISTORY, { first: 1, after: page.pageInfo.endCursor }, { token: people.admin }));
    });
  });

  describe('browsers and HTTP', () => {
    const mutation = () => print(GENERATE);
    const csrfInput = () => ({ input: { name: unique('csrf'), scopes: [] } });

    it('answers a cross-origin preflight without any Access-Control header by default', async () => {
      const response = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('access-control-allow-headers')).toBeNull();
      expectSecurityHeaders(response.headers, false);

      // Nor on an actual cross-origin request.
      const post = await server.request(VIEWER, {}, { token: people.alice, headers: { origin: 'https://evil.example' } });
      expect(post.headers.get('access-control-allow-origin')).toBeNull();
      expect(post.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('refuses simple cross-site requests (text/plain, a form, a GET), which cannot carry a token, and runs nothing', async () => {
      // What a page on another site can make a browser send without a preflight: no Authorization header.
      const crossSite = { origin: 'https://evil.example' };
      const before = await rowCounts(server);
      const plain = await rawPost(server, JSON.stringify({ query: mutation(), variables: csrfInput() }), { ...crossSite, 'content-type': 'text/plain' });
      expect(plain.status).toBe(401);
      expectSecurityHeaders(plain.headers);
      const form = await rawPost(server, new URLSearchParams({ query: mutation(), variables: JSON.stringify(csrfInput()) }).toString(), {
        ...crossSite,
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(401);
      const link = await fetch(`${server.url}?${new URLSearchParams({ query: mutation(), variables: JSON.stringify(csrfInput()) })}`, { headers: crossSite });
      expect(link.status).toBe(401);
      expect(await rowCounts(server)).toEqual(before);

      // Adding the token takes a preflight, which names no allowed origin, header or method for that site.
      const preflight = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { ...crossSite, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-headers')).toBeNull();

      // The same mutation as application/json with the token (what every client sends) works.
      const minted = await mint(server, people.alice, csrfInput().input);
      expect(minted.token.username).toBe('alice');
    });

    it('sets the security headers on every response, and no-store on GraphQL answers', async () => {
      const ok = await server.request(VIEWER, {}, { token: people.alice });
      expect(ok.status).toBe(200);
      expectSecurityHeaders(ok.headers);

      const unauthenticated = await server.request(VIEWER, {});
      expect(unauthenticated.status).toBe(401);
      expectSecurityHeaders(unauthenticated.headers);

      const badToken = await server.request(VIEWER, {}, { token: 'tsr_not-a-token' });
      expect(badToken.status).toBe(401);
      expectSecurityHeaders(badToken.headers);

      const graphiql = await fetch(server.url, { headers: { accept: 'text/html' } });
      expect(graphiql.status).toBe(200);
      expect(graphiql.headers.get('content-type')).toContain('text/html');
      expectSecurityHeaders(graphiql.headers, false);
      await graphiql.text();

      const error = await server.request(TOKEN, { key: 'nope' }, { token: people.alice });
      expect(error.errors).toBeDefined();
      expectSecurityHeaders(error.headers);

      const tooLarge = await rawPost(server, 'x'.repeat(300_000), { 'content-type': 'application/json', authorization: `Bearer ${people.alice}` });
      expect(tooLarge.status).toBe(413);
      expectSecurityHeaders(tooLarge.headers);
      await tooLarge.text();
    });

    it('refuses a body over 256 KiB with 413 without reading it', async () => {
      const response = await rawPost(server, JSON.stringify({ query: print(VIEWER), variables: { pad: 'x'.repeat(300_000) } }), {
        'content-type': 'application/json',
        authorization: `Bearer ${people.alice}`,
      });
      expect(response.status).toBe(413);
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');

      // Only the headers and a few bytes are sent: the answer comes without waiting for the rest.
      const unread = await partialPost(server, { 'content-type': 'application/json', 'content-length': '300000', authorization: `Bearer ${people.alice}` }, [
        '{"query": "',
      ]);
      expect(unread.status).toBe(413);
      expect(unread.body).toContain('PAYLOAD_TOO_LARGE');

      // Just under the bound, a body is read and answered.
      const padded = JSON.stringify({ query: print(VIEWER), variables: { pad: 'x'.repeat(200_000) } });
      const within = await rawPost(server, padded, { 'content-type': 'application/json', authorization: `Bearer ${people.alice}` });
      expect(within.status).toBe(200);
      await within.text();
    });

    it('refuses a POST without Content-Length (chunked) with 411', async () => {
      const chunked = await partialPost(
        server,
        { 'content-type': 'application/json', 'transfer-encoding': 'chunked', authorization: `Bearer ${people.alice}` },
        [`{"query": "${print(VIEWER).replace(/\s+/g, ' ')}"`],
      );
      expect(chunked.status).toBe(411);
      expect(chunked.headers['x-content-type-options']).toBe('nosniff');
    });
  });

  describe('CORS with TESSERA_CORS_ORIGINS', () => {
    let open: TestServer;
    beforeAll(async () => {
      open = await startServer(engine, { env: { TESSERA_CORS_ORIGINS: 'https://app.example' } });
    });
    afterAll(async () => open?.close());

    const preflight = (origin: string) =>
      fetch(open.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });

    it('allows the named origin and no other', async () => {
      const allowed = await preflight('https://app.example');
      expect(allowed.status).toBeLessThan(300);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      expect((allowed.headers.get('access-control-allow-headers') ?? '').toLowerCase()).toContain('authorization');

      const refused = await preflight('https://evil.example');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('access-control-allow-credentials')).toBeNull();

      const viewer = await open.request(VIEWER, {}, { token: BOOTSTRAP_TOKEN, headers: { origin: 'https://app.example' } });
      expect(viewer.status).toBe(200);
      expect(viewer.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const evil = await open.request(VIEWER, {}, { token: BOOTSTRAP_TOKEN, headers: { origin: 'https://evil.example' } });
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('failed-authentication limiter', () => {
    let limited: TestServer;
    let good: string;
    beforeAll(async () => {
      limited = await startServer(engine, { env: { TESSERA_AUTH_FAILURES_PER_MINUTE: '3' } });
      good = (await mint(limited, BOOTSTRAP_TOKEN, { username: 'alice', name: 'good', scopes: ['user:token'] })).secret;
    });
    afterAll(async () => limited?.close());

    const from = (address: string, token: string | null, extra: Record<string, string> = {}) =>
      limited.request(VIEWER, {}, { headers: { 'x-forwarded-for': address, ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...extra } });

    it('does not count requests without Authorization', async () => {
      for (let attempt = 0; attempt < 22; attempt += 1) {
        const response = await from('203.0.113.20', null);
        expect(response.status).toBe(401);
      }
      // Nor does it hold them against the address: a failing credential is still only the first.
      expect((await from('203.0.113.20', 'tsr_bad-guess')).status).toBe(401);
      expect((await from('203.0.113.20', good)).status).toBe(200);
    });

    it('does not count requests refused for other reasons', async () => {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const oversized = await rawPost(limited, 'x'.repeat(300_000), {
          'content-type': 'application/json',
          'x-forwarded-for': '203.0.113.21',
          authorization: 'Bearer tsr_bad-guess',
        });
        expect(oversized.status).toBe(413);
        await oversized.text();
        // A good token refused by authorization is not a failed authentication either.
        const denied = await limited.request(TOKENS, { username: 'bob' }, { token: good, headers: { 'x-forwarded-for': '203.0.113.21' } });
        expect(denied.errors?.[0]?.extensions?.code).toBe('PERMISSION_DENIED');
      }
      for (let attempt = 0; attempt < 3; attempt += 1) expect((await from('203.0.113.21', `tsr_bad-guess-${attempt}`)).status).toBe(401);
    });

    it('answers a valid token from a limited address, and only that address is limited', async () => {
      for (let attempt = 0; attempt < 3; attempt += 1) expect((await from('203.0.113.22', `tsr_bad-guess-${attempt}`)).status).toBe(401);
      const blocked = await from('203.0.113.22', 'tsr_bad-guess-3');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(blocked.body).not.toHaveProperty('data');

      const valid = await from('203.0.113.22', good);
      expect(valid.status).toBe(200);
      expect(valid.data?.viewer.username).toBe('alice');
      expect((await from('203.0.113.22', 'tsr_bad-guess-4')).status).toBe(429);
      expect((await from('203.0.113.22', BOOTSTRAP_TOKEN)).status).toBe(200);

      expect((await from('198.51.100.22', 'tsr_bad-guess')).status).toBe(401);
      expect((await from('198.51.100.22', good)).status).toBe(200);
      expectSecurityHeaders(blocked.headers);
    });
  });
});
