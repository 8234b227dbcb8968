/**
 * Text rules: a lone surrogate is refused anywhere text comes in (typed
 * INVALID_INPUT, nothing stored, no 500 and no error log, on both engines);
 * names are compared and stored NFC-normalized and may hold nothing invisible
 * or direction-changing; the username rule is stated as it is.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { USERNAME_PATTERN } from '../../src/domain/model.ts';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, type GraphQLResponse, startServer, type TestServer } from '../support/harness.ts';
import {
  type Cast,
  cast,
  type EditResult,
  editToken,
  type GenerateResult,
  type GenerateTokenInput,
  generate,
  HISTORY,
  historyEntries,
  INTROSPECT_PATH,
  type InvalidateResult,
  invalidateTokens,
  lookup,
  mint,
  oauthPost,
  type RevokeResult,
  revokeToken,
  rowCounts,
  TOKEN,
  TOKENS,
} from '../support/operations.ts';

const TEXT_INTROSPECT = graphql(`
  query TextIntrospect($token: String!, $access: AccessQuery) {
    introspectToken(token: $token, access: $access) { active allowed }
  }
`);

/** "x", half a surrogate pair, "y": what a client's JSON.stringify sends as `x\ud800y`. */
const LONE = 'x\ud800y';
const LONE_LOW = 'x\udc00y';
const LONE_MESSAGE = /lone surrogate/;

const NFC_CAFE = 'caf\u00e9';
const NFD_CAFE = 'cafe\u0301';

type MutationError = { __typename?: string; code?: string; message?: string; field?: string | null };

/** A typed INVALID_INPUT error naming `field`, whose message matches `message`. */
function expectInvalidInput(result: GenerateResult | EditResult | InvalidateResult | RevokeResult, field: string, message?: RegExp) {
  const error = result as MutationError;
  expect(error.__typename, JSON.stringify(result)).toBe('InvalidInputError');
  expect(error.code).toBe('INVALID_INPUT');
  expect(error.field).toBe(field);
  if (message) expect(error.message).toMatch(message);
}

/** A query answered with one GraphQL error of `code` for `field`, with HTTP 200 and nothing masked. */
function expectQueryError(response: GraphQLResponse, code: string, field?: string) {
  expect(response.status).toBe(200);
  expect(response.errors, `expected ${code}, got ${JSON.stringify(response.body)}`).toBeDefined();
  expect(response.errors?.map((error) => error.extensions?.code)).toEqual([code]);
  if (field !== undefined) expect(response.errors?.[0]?.extensions?.field).toBe(field);
  expect(JSON.stringify(response.body)).not.toContain('Unexpected error');
}

describe('what the tests send', () => {
  it('a client JSON body carries the lone surrogate as the escape \\ud800, which JSON.parse turns back into one', () => {
    const body = JSON.stringify({ variables: { name: LONE } });
    expect(body).toContain('x\\ud800y');
    const received = (JSON.parse(body) as { variables: { name: string } }).variables.name;
    expect(received).toBe(LONE);
    expect(/\p{Cs}/u.test(received)).toBe(true);
  });
});

describe.each(engines())('text rules on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  const logLines: { level: number; msg?: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { level: number; msg?: string });
        done();
      },
    });
    server = await startServer(engine, { logger: pino({ level: 'info' }, sink) });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  // Bad input is the client's fault: logged at info at most, never as an error (pino: error is 50).
  afterEach(() => {
    expect(logLines.filter((line) => line.level >= 50)).toEqual([]);
  });

  /** generateToken refuses `input` with INVALID_INPUT for `field`, and nothing is written. */
  async function expectGenerateRefused(actor: string, input: GenerateTokenInput, field: string, message?: RegExp) {
    const before = await rowCounts(server);
    expectInvalidInput(await generate(server, actor, input), field, message);
    expect(await rowCounts(server)).toEqual(before);
  }

  let serial = 0;
  const unique = (prefix: string) => {
    serial += 1;
    return `${prefix}-${serial}`;
  };

  describe('lone surrogates', () => {
    it('are refused in every text of generateToken, and nothing is stored', async () => {
      await expectGenerateRefused(people.alice, { name: LONE, scopes: [] }, 'name', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: LONE_LOW, scopes: [] }, 'name', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: '\ud83d', scopes: [] }, 'name', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], note: `a\nb ${LONE}` }, 'note', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [LONE] }, 'scopes.0', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { tokenType: 'INTERNAL', parent: people.aliceKey, service: LONE, scopes: [] }, 'service', LONE_MESSAGE);
      await expectGenerateRefused(people.admin, { username: LONE, name: unique('n'), scopes: [] }, 'username', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], tokenGeneratorId: LONE }, 'tokenGeneratorId', LONE_MESSAGE);
    });

    it('are refused in JSON documents: metadata values and keys at any depth, policy, token_info', async () => {
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], metadata: { label: LONE } }, 'metadata', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], metadata: { [LONE]: 1 } }, 'metadata', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], metadata: { a: { b: [1, { c: [LONE_LOW] }] } } }, 'metadata', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], metadata: { a: { [LONE_LOW]: true } } }, 'metadata', LONE_MESSAGE);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], policy: { resources: { '*': { allow: [LONE] } } } }, 'policy', LONE_MESSAGE);
      await expectGenerateRefused(
        people.alice,
        { name: unique('n'), scopes: [], policy: { resources: { [LONE]: { '*': { allow: ['GET'] } } } } },
        'policy',
        LONE_MESSAGE,
      );
      await expectGenerateRefused(
        people.alice,
        { name: unique('n'), scopes: [], tokenGeneratorId: 'gafaelfawr', tokenInfo: { note: LONE } },
        'tokenInfo',
        LONE_MESSAGE,
      );
      // A well-formed pair (an emoji) is text like any other, in a key and in a value.
      const minted = await mint(server, people.alice, { name: unique('n'), scopes: [], metadata: { '😀': '😀' } });
      expect(minted.token.metadata).toEqual({ '😀': '😀' });
    });

    it('are refused by editToken, revokeToken and invalidateTokens, which change nothing', async () => {
      const minted = await mint(server, people.alice, { name: unique('edit'), scopes: [], note: 'kept' });
      const before = await rowCounts(server);
      expectInvalidInput(await editToken(server, people.alice, { key: minted.token.key, name: LONE }), 'name', LONE_MESSAGE);
      expectInvalidInput(await editToken(server, people.alice, { key: minted.token.key, note: LONE }), 'note', LONE_MESSAGE);
      expectInvalidInput(await editToken(server, people.alice, { key: minted.token.key, scopes: [LONE] }), 'scopes.0', LONE_MESSAGE);
      expectInvalidInput(
        await editToken(server, people.alice, { key: minted.token.key, policy: { resources: { '*': { block: [LONE] } } } }),
        'policy',
        LONE_MESSAGE,
      );
      expectInvalidInput(await revokeToken(server, people.alice, { key: minted.token.key, reason: LONE }), 'reason', LONE_MESSAGE);
      expectInvalidInput(await invalidateTokens(server, people.alice, { filter: { keys: [minted.token.key] }, reason: LONE }), 'reason', LONE_MESSAGE);
      expectInvalidInput(await invalidateTokens(server, people.alice, { filter: { note: LONE } }), 'filter.note', LONE_MESSAGE);
      expectInvalidInput(await invalidateTokens(server, people.alice, { filter: { scopes: [LONE] } }), 'filter.scopes.0', LONE_MESSAGE);
      expectInvalidInput(await invalidateTokens(server, people.admin, { usernames: ['alice', LONE] }), 'usernames.1', LONE_MESSAGE);
      expect(await rowCounts(server)).toEqual(before);
      const after = await lookup(server, minted.token.key);
      expect(after).toMatchObject({ valid: true, note: 'kept', name: minted.token.name });
    });

    it('are refused in query arguments and filters with a GraphQL error carrying INVALID_INPUT', async () => {
      expectQueryError(await server.request(HISTORY, { filter: { username: LONE } }, { token: people.admin }), 'INVALID_INPUT', 'filter.username');
      expectQueryError(await server.request(HISTORY, { filter: { actor: LONE } }, { token: people.admin }), 'INVALID_INPUT', 'filter.actor');
      expectQueryError(await server.request(HISTORY, { filter: { key: LONE } }, { token: people.admin }), 'INVALID_INPUT', 'filter.key');
      expectQueryError(await server.request(HISTORY, { filter: { ipAddress: LONE } }, { token: people.admin }), 'INVALID_INPUT', 'filter.ipAddress');
      expectQueryError(await server.request(TOKENS, { username: LONE }, { token: people.admin }), 'INVALID_INPUT', 'username');
      expectQueryError(await server.request(TOKENS, { filter: { note: LONE } }, { token: people.admin }), 'INVALID_INPUT', 'filter.note');
      expectQueryError(await server.request(TOKENS, { filter: { scopes: [LONE] } }, { token: people.admin }), 'INVALID_INPUT', 'filter.scopes.0');
      expectQueryError(await server.request(TOKEN, { key: 'AAAAAAAAAAAAAAAAAAAA\ud800' }, { token: people.admin }), 'INVALID_INPUT', 'key');
      const access = { resource: LONE, method: 'GET' };
      expectQueryError(await server.request(TEXT_INTROSPECT, { token: people.bob, access }, { token: people.admin }), 'INVALID_INPUT', 'access.resource');
      const resourceId = { resource: 'repository', method: 'GET', resourceId: LONE };
      expectQueryError(
        await server.request(TEXT_INTROSPECT, { token: people.bob, access: resourceId }, { token: people.admin }),
        'INVALID_INPUT',
        'access.resourceId',
      );
    });

    it('in a query literal, escaped or raw, are a syntax error, not a 500', async () => {
      for (const query of ['{ tokens(username: "x\\ud800y") { totalCount } }', `{ tokens(username: "${LONE}") { totalCount } }`]) {
        const response = await server.requestText(query, { token: people.admin });
        expect(response.status).toBeLessThan(500);
        expect(response.errors?.[0]?.message).toMatch(/^Syntax Error: Invalid (Unicode escape sequence|character within String)/);
        expect(response.data).toBeNull();
      }
    });

    it('a cursor that decodes to a lone surrogate is BAD_CURSOR, not a query', async () => {
      const cursor = Buffer.from(JSON.stringify([Date.now(), LONE])).toString('base64url');
      expect(Buffer.from(cursor, 'base64url').toString('utf8')).toContain('\\ud800');
      expectQueryError(await server.request(TOKENS, { first: 1, after: cursor }, { token: people.admin }), 'BAD_CURSOR');
    });

    it('introspection of any string answers active: false, in GraphQL and at the endpoint, without a 500', async () => {
      const graphqlAnswer = await server.request(TEXT_INTROSPECT, { token: `${people.bob.slice(0, -1)}\ud800` }, { token: people.admin });
      expect(graphqlAnswer.status).toBe(200);
      expect(graphqlAnswer.errors).toBeUndefined();
      expect(graphqlAnswer.data?.introspectToken).toEqual({ active: false, allowed: null });
      // A form cannot carry a lone surrogate: its UTF-8 bytes (ED A0 80) decode to U+FFFD, which is just an unknown token.
      const response = await fetch(new URL(INTROSPECT_PATH, server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${people.admin}` },
        body: 'token=x%ED%A0%80y&resource=%ED%A0%80&method=GET&resource_id=%ED%A0%80',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ active: false });
      const known = await oauthPost(
        server,
        INTROSPECT_PATH,
        { token: people.bob, resource: 'r\ufffd', method: 'GET', resource_id: '\ufffd' },
        { token: people.admin },
      );
      expect(known.status).toBe(200);
      expect(known.body).toMatchObject({ active: true, allowed: true });
    });
  });

  describe('names', () => {
    it('are compared after NFC normalization: a decomposed "café" is the same name as the composed one', async () => {
      const owner = await mint(server, BOOTSTRAP_TOKEN, { username: 'nora', name: NFC_CAFE, scopes: ['user:token'] });
      expect(owner.token.name).toBe(NFC_CAFE);
      const duplicate = await generate(server, owner.secret, { name: NFD_CAFE, scopes: [] });
      expect(duplicate).toMatchObject({ __typename: 'DuplicateTokenNameError', code: 'DUPLICATE_TOKEN_NAME' });
      // Stored NFC whatever form was sent, and its history says the same.
      const decomposed = await mint(server, owner.secret, { name: 'Cre\u0300me bru\u0302le\u0301e', scopes: [] });
      expect(decomposed.token.name).toBe('Cr\u00e8me br\u00fbl\u00e9e');
      expect((await lookup(server, decomposed.token.key))?.name).toBe('Cr\u00e8me br\u00fbl\u00e9e');
      const [created] = await historyEntries(server, { key: decomposed.token.key });
      expect(created?.tokenName).toBe('Cr\u00e8me br\u00fbl\u00e9e');
      // A rename is held to the same rule.
      const renamed = await editToken(server, owner.secret, { key: decomposed.token.key, name: NFD_CAFE });
      expect(renamed).toMatchObject({ __typename: 'DuplicateTokenNameError', code: 'DUPLICATE_TOKEN_NAME' });
      const other = await editToken(server, owner.secret, { key: decomposed.token.key, name: '  nai\u0308ve  ' });
      expect(other).toMatchObject({ __typename: 'EditTokenPayload', token: { name: 'na\u00efve' } });
    });

    it('count characters after normalization: 64 decomposed "é" (128 code points) are a 64-character name', async () => {
      const name = 'e\u0301'.repeat(64);
      const minted = await mint(server, people.alice, { name, scopes: [] });
      expect(minted.token.name).toBe('\u00e9'.repeat(64));
      await expectGenerateRefused(people.alice, { name: 'e\u0301'.repeat(65), scopes: [] }, 'name', /at most 64 characters/);
    });

    it('may hold no bidirectional-override or zero-width character', async () => {
      const refusals: [string, string][] = [
        [`evil\u202Egnp.exe`, 'U+202E'],
        [`zero\u200Bwidth`, 'U+200B'],
        [`join\u200Der`, 'U+200D'],
        [`non\u200Cjoin`, 'U+200C'],
        [`\uFEFFbom`, 'U+FEFF'],
        [`word\u2060joiner`, 'U+2060'],
        [`isolate\u2066d\u2069`, 'U+2066'],
        [`mark\u200F`, 'U+200F'],
        [`arabic\u061Cmark`, 'U+061C'],
        [`soft\u00ADhyphen`, 'U+00AD'],
        [`mongolian\u180Evowel`, 'U+180E'],
        [`line\u2028separator`, 'U+2028'],
        [`hangul\u3164filler`, 'U+3164'],
      ];
      for (const [name, codePoint] of refusals) {
        await expectGenerateRefused(
          people.alice,
          { name, scopes: [] },
          'name',
          new RegExp(`invisible or direction-changing.*${codePoint.replace('+', '\\+')}`),
        );
      }
      await expectGenerateRefused(people.alice, { tokenType: 'INTERNAL', parent: people.aliceKey, service: 'svc\u200B', scopes: [] }, 'service', /U\+200B/);
      const minted = await mint(server, people.alice, { name: unique('plain'), scopes: [] });
      expectInvalidInput(await editToken(server, people.alice, { key: minted.token.key, name: 'x\u202Ey' }), 'name', /U\+202E/);
      expect((await lookup(server, minted.token.key))?.name).toBe(minted.token.name);
    });

    it('refuse C1 control characters as they refuse C0 ones', async () => {
      await expectGenerateRefused(people.alice, { name: 'next\u0085line', scopes: [] }, 'name', /control characters/);
      await expectGenerateRefused(people.alice, { name: unique('n'), scopes: [], note: 'csi\u009b' }, 'note', /control characters/);
    });

    it('service names are trimmed and NFC-normalized too, and a blank one is refused', async () => {
      const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: people.aliceKey, service: '  cafe\u0301-api ', scopes: [] });
      expect(internal.token.service).toBe('caf\u00e9-api');
      await expectGenerateRefused(people.alice, { tokenType: 'INTERNAL', parent: people.aliceKey, service: '   ', scopes: [] }, 'service', /blank/);
    });
  });

  describe('usernames', () => {
    it('a refusal states the rule, and every example it gives holds', async () => {
      const refused = await generate(server, people.admin, { username: 'x', name: unique('n'), scopes: [] });
      expectInvalidInput(refused, 'username', /2 to 64/);
      const message = (refused as MutationError).message ?? '';
      expect(message).not.toMatch(/1 to 64/);
      // The message's own examples: before "not" valid, after it invalid; the server agrees with each.
      const [validPart, invalidPart] = message.split(/\bnot\b(?=[^:]*$)/);
      const quoted = (part = '') => [...part.matchAll(/"([^"]+)"/g)].map((match) => match[1] ?? '');
      expect(quoted(validPart).length).toBeGreaterThan(0);
      expect(quoted(invalidPart)).toContain('x');
      for (const username of quoted(validPart)) {
        expect(USERNAME_PATTERN.test(username), username).toBe(true);
        await mint(server, people.admin, { username, name: unique('n'), scopes: [] });
      }
      for (const username of quoted(invalidPart)) {
        expect(USERNAME_PATTERN.test(username), username).toBe(false);
        await expectGenerateRefused(people.admin, { username, name: unique('n'), scopes: [] }, 'username', /2 to 64/);
      }
    });
  });
});
