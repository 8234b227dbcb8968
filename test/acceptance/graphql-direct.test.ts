/**
 * The direct path (src/http/graphql-direct.ts) serves a POST to /graphql without an Origin header straight from
 * node:http; the same request from a browser page (with an Origin) goes through yoga. Both must answer alike:
 * each request below is sent both ways and the answers compared (status, body, headers but the per-response ones).
 * The cases that end in execution cannot change anything, so sending them again and again is harmless.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonMediaType, servedDirectly } from '../../src/http/graphql-direct.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { randomBytes } from 'node:crypto';
import { mint } from '../support/operations.ts';

const unknownToken = () => `gt-${randomBytes(16).toString('base64url')}.${randomBytes(16).toString('base64url')}`;

/** Headers that differ between any two responses, or that only say how the body was framed. */
const PER_RESPONSE = new Set(['date', 'x-request-id', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function send(server: TestServer, body: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const kept: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!PER_RESPONSE.has(name)) kept[name] = value;
  });
  return { status: response.status, headers: kept, body: await response.text() };
}

/** An origin TESSERA_CORS_ORIGINS does not name: yoga serves the request, and adds no CORS header. */
const BROWSER = { origin: 'https://elsewhere.example' };

/** urql's default Accept header. */
const URQL_ACCEPT = 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';

describe.each(engines())('the direct GraphQL path on %s', (engine) => {
  let server: TestServer;
  let alice: string;

  beforeAll(async () => {
    server = await startServer(engine);
    alice = (await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'direct', scopes: ['user:token'] })).secret;
  });
  afterAll(async () => server?.close());

  const json = (value: unknown) => JSON.stringify(value);
  const cases: [string, () => string, () => Record<string, string>][] = [
    ['a query, no Accept', () => json({ query: '{ viewer { username scopes } }' }), () => ({ authorization: `Bearer ${alice}` })],
    ['a query, Accept */*', () => json({ query: '{ viewer { username } }' }), () => ({ authorization: `Bearer ${alice}`, accept: '*/*' })],
    [
      'a query, Accept application/graphql-response+json',
      () => json({ query: '{ viewer { username } }' }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/graphql-response+json' }),
    ],
    ["a query, urql's Accept", () => json({ query: '{ viewer { username } }' }), () => ({ authorization: `Bearer ${alice}`, accept: URQL_ACCEPT })],
    [
      'a query, Accept application/json first',
      () => json({ query: '{ viewer { username } }' }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/json, application/graphql-response+json' }),
    ],
    [
      'a query with variables and an operation name among two',
      () =>
        json({
          query: 'query Mine($first: Int) { tokens(first: $first) { totalCount } } query Me { viewer { username } }',
          variables: { first: 5 },
          operationName: 'Mine',
        }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/graphql-response+json' }),
    ],
    [
      'two operations and no operation name',
      () => json({ query: 'query A { viewer { username } } query B { viewer { isAdmin } }' }),
      () => ({ authorization: `Bearer ${alice}` }),
    ],
    [
      'a page size over the limit (an error in the result), application/json',
      () => json({ query: '{ tokens(first: 5000) { totalCount } }' }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/json' }),
    ],
    [
      'a page size over the limit, application/graphql-response+json',
      () => json({ query: '{ tokens(first: 5000) { totalCount } }' }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/graphql-response+json' }),
    ],
    [
      'a variable that cannot be coerced',
      () => json({ query: 'query ($first: Int) { tokens(first: $first) { totalCount } }', variables: { first: 'many' } }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/graphql-response+json' }),
    ],
    [
      'a mutation refused by the domain (a typed error payload)',
      () => json({ query: 'mutation { generateToken(input: { name: "" }) { __typename ... on Error { code message } } }' }),
      () => ({ authorization: `Bearer ${alice}` }),
    ],
    [
      'a permission refused by the domain (an error in the result)',
      () => json({ query: '{ tokens(username: "bob") { totalCount } }' }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/graphql-response+json' }),
    ],
    ['a field that does not exist', () => json({ query: '{ viewer { usernam } }' }), () => ({ authorization: `Bearer ${alice}` })],
    ['text that does not parse', () => json({ query: '{ viewer { ' }), () => ({ authorization: `Bearer ${alice}` })],
    ['a body that is a list', () => json([{ query: '{ viewer { username } }' }]), () => ({ authorization: `Bearer ${alice}` })],
    ['a query that is not a string', () => json({ query: 1 }), () => ({ authorization: `Bearer ${alice}` })],
    ['an unknown parameter', () => json({ query: '{ viewer { username } }', extra: 1 }), () => ({ authorization: `Bearer ${alice}` })],
    ['extensions', () => json({ query: '{ viewer { username } }', extensions: {} }), () => ({ authorization: `Bearer ${alice}` })],
    ['a body that is not JSON', () => '{ viewer', () => ({ authorization: `Bearer ${alice}` })],
    [
      'a subscription',
      () => json({ query: 'subscription { tokenChanges { cursor } }' }),
      () => ({ authorization: `Bearer ${alice}`, accept: 'application/json' }),
    ],
    ['an Accept no JSON type matches', () => json({ query: '{ viewer { username } }' }), () => ({ authorization: `Bearer ${alice}`, accept: 'text/html' })],
    ['no credentials', () => json({ query: '{ viewer { username } }' }), () => ({})],
    ['an unknown token', () => json({ query: '{ viewer { username } }' }), () => ({ authorization: `Bearer ${unknownToken()}` })],
  ];

  it.each(cases)('answers %s as yoga does', async (_name, body, headers) => {
    // The first request of a query text goes to yoga, which teaches the direct path the document.
    await send(server, body(), headers());
    const direct = await send(server, body(), headers());
    const throughYoga = await send(server, body(), { ...headers(), ...BROWSER });
    expect(direct).toEqual(throughYoga);
  });

  it('answers a query from its own cache of documents after the first time, the same each time', async () => {
    const query = json({ query: '{ viewer { username isAdmin } }' });
    const first = await send(server, query, { authorization: `Bearer ${alice}` });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ data: { viewer: { username: 'alice', isAdmin: false } } });
    expect(await send(server, query, { authorization: `Bearer ${alice}` })).toEqual(first);
  });

  it('authenticates a request it hands over to yoga once, not twice', async () => {
    const scrape = async () => {
      const response = await fetch(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` } });
      const line = (await response.text()).split('\n').find((text) => text.startsWith('tessera_authentications_total{outcome="ok"}'));
      return Number(line?.split(' ')[1]);
    };
    const before = await scrape();
    // Authenticated by the direct path, then handed over: the document does not validate.
    for (let index = 0; index < 3; index += 1) {
      expect((await send(server, json({ query: '{ viewer { nope } }' }), { authorization: `Bearer ${alice}` })).status).toBe(200);
    }
    // The scrape after counts itself.
    expect((await scrape()) - before).toBe(3 + 1);
  });
});

describe('which requests the direct path takes', () => {
  it('answers the media type yoga would for a single result, or none where yoga would not answer JSON', () => {
    expect(jsonMediaType(undefined)).toBe('application/json');
    expect(jsonMediaType('*/*')).toBe('application/json');
    expect(jsonMediaType('application/*')).toBe('application/json');
    expect(jsonMediaType('application/json')).toBe('application/json');
    expect(jsonMediaType('application/graphql-response+json')).toBe('application/graphql-response+json');
    expect(jsonMediaType(URQL_ACCEPT)).toBe('application/graphql-response+json');
    expect(jsonMediaType('text/event-stream, application/json')).toBe('application/json');
    expect(jsonMediaType('application/graphql-response+json; charset=latin1, application/json')).toBe('application/json');
    expect(jsonMediaType('text/event-stream')).toBeNull();
    expect(jsonMediaType('text/html')).toBeNull();
  });

  it('leaves GET, browsers, other paths and other content types to yoga', () => {
    const request = (method: string, url: string, headers: Record<string, string>) => ({ method, url, headers }) as unknown as IncomingMessage;
    const plain = { 'content-type': 'application/json', 'content-length': '30' };
    expect(servedDirectly(request('POST', '/graphql', plain), '/graphql')).toBe(true);
    expect(servedDirectly(request('POST', '/graphql', { ...plain, 'content-type': 'application/json; charset=utf-8' }), '/graphql')).toBe(true);
    expect(servedDirectly(request('GET', '/graphql', plain), '/graphql')).toBe(false);
    expect(servedDirectly(request('POST', '/graphql', { ...plain, origin: 'https://app.example' }), '/graphql')).toBe(false);
    expect(servedDirectly(request('POST', '/graphql?x=1', plain), '/graphql')).toBe(false);
    expect(servedDirectly(request('POST', '/graphql', { ...plain, 'content-type': 'application/graphql' }), '/graphql')).toBe(false);
    expect(servedDirectly(request('POST', '/graphql', { ...plain, 'content-type': 'Application/JSON' }), '/graphql')).toBe(false);
    expect(servedDirectly(request('POST', '/graphql', { 'content-type': 'application/json' }), '/graphql')).toBe(false);
    expect(servedDirectly(request('POST', '/graphql', { ...plain, 'content-length': String(10 * 1024 * 1024) }), '/graphql')).toBe(false);
  });
});
