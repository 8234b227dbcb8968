/**
 * The OAuth endpoints are served beside yoga, straight from node:http
 * (src/http/oauth.ts), and must still behave as one server with GraphQL: the
 * same authentication and the same count of failed credentials per address,
 * the same security headers, the same use recording, and no answer kept
 * between requests, so that a revocation made through one process is seen by
 * the next introspection through another.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, INTROSPECT_PATH, lookup, mint, oauthPost, REVOKE_PATH, VIEWER, type Cast } from '../support/operations.ts';
import { startPeerProcess, type PeerProcess } from '../support/peer-process.ts';

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request as node:http sends it, so that headers a fetch would add or hide (Content-Length, Transfer-Encoding) are the test's. */
function send(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const FORM = 'application/x-www-form-urlencoded';
let nextAddress = 0;
/** An address no other test has failed from (the harness trusts one proxy, so X-Forwarded-For is the client's address). */
const freshAddress = () => `192.0.2.${(nextAddress += 1)}`;

describe.each(engines())('the OAuth endpoints beside yoga on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** A resource server's token: it may introspect, nothing else. */
  let introspector: string;

  beforeAll(async () => {
    server = await startServer(engine, { env: { TESSERA_AUTH_FAILURES_PER_MINUTE: '3' } });
    people = await cast(server);
    introspector = (await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'resource-server', scopes: ['token:introspect'] })).secret;
  });
  afterAll(async () => server?.close());

  const endpoint = (path: string) => new URL(path, server.url);

  describe('one count of failed credentials for GraphQL and OAuth', () => {
    /** A failing credential at /oauth/introspect; its status. */
    const failAtOAuth = async (address: string, attempt: number) =>
      (await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: `tsr_bad-guess-${attempt}`, headers: { 'x-forwarded-for': address } })).status;
    /** A failing credential at /graphql; its status. */
    const failAtGraphQL = async (address: string, attempt: number) =>
      (await server.request(VIEWER, {}, { token: `tsr_bad-guess-${attempt}`, headers: { 'x-forwarded-for': address } })).status;

    it('limits an address after 2 failures at /oauth/introspect and 2 at /graphql, on either path, and still lets a good credential through', async () => {
      const address = freshAddress();
      expect([await failAtOAuth(address, 0), await failAtOAuth(address, 1), await failAtGraphQL(address, 2)]).toEqual([401, 401, 401]);
      // The 4th failure is over the limit of 3, whichever path the others took.
      const limited = await server.request(VIEWER, {}, { token: 'tsr_bad-guess-3', headers: { 'x-forwarded-for': address } });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      const limitedAtOAuth = await oauthPost(
        server,
        INTROSPECT_PATH,
        { token: people.bob },
        { token: 'tsr_bad-guess-4', headers: { 'x-forwarded-for': address } },
      );
      expect(limitedAtOAuth.status).toBe(429);
      expect(limitedAtOAuth.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many failed authentication attempts; try again later' });
      expect(Number(limitedAtOAuth.headers.get('retry-after'))).toBeGreaterThan(0);

      // A valid credential from the same address passes on both paths.
      const introspected = await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: introspector, headers: { 'x-forwarded-for': address } });
      expect(introspected.status).toBe(200);
      expect(introspected.body).toMatchObject({ active: true, username: 'bob' });
      const viewer = await server.request(VIEWER, {}, { token: people.bob, headers: { 'x-forwarded-for': address } });
      expect(viewer.status).toBe(200);
      expect(viewer.data?.viewer.username).toBe('bob');
    });

    it('counts failures at /graphql first toward a 429 at /oauth/revoke', async () => {
      const address = freshAddress();
      expect([await failAtGraphQL(address, 0), await failAtGraphQL(address, 1), await failAtOAuth(address, 2)]).toEqual([401, 401, 401]);
      const limited = await oauthPost(server, REVOKE_PATH, { token: people.bob }, { token: 'tsr_bad-guess-3', headers: { 'x-forwarded-for': address } });
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ error: 'temporarily_unavailable' });
      // Nothing was revoked by the refused request.
      expect((await server.request(VIEWER, {}, { token: people.bob })).status).toBe(200);
    });
  });

  it('sends the security headers and Cache-Control: no-store with every answer, JSON ones with Pragma: no-cache too', async () => {
    const admin = { authorization: `Bearer ${people.admin}`, 'content-type': FORM };
    const victim = await mint(server, people.bob, { name: 'headers-victim', scopes: ['read:all'] });
    const address = freshAddress();
    const answers: [string, RawAnswer][] = [
      ['active', await send(endpoint(INTROSPECT_PATH), 'POST', admin, `token=${people.bob}`)],
      ['inactive', await send(endpoint(INTROSPECT_PATH), 'POST', admin, 'token=garbage')],
      ['bad access question', await send(endpoint(INTROSPECT_PATH), 'POST', admin, `token=${people.bob}&resource=r&method=G+T`)],
      ['no token parameter', await send(endpoint(INTROSPECT_PATH), 'POST', admin, 'nothing=here')],
      ['not permitted', await send(endpoint(INTROSPECT_PATH), 'POST', { ...admin, authorization: `Bearer ${people.bob}` }, `token=${people.alice}`)],
      ['revoked by value', await send(endpoint(REVOKE_PATH), 'POST', { ...admin, authorization: `Bearer ${people.bob}` }, `token=${victim.secret}`)],
      ['revoke refused', await send(endpoint(REVOKE_PATH), 'POST', { ...admin, authorization: `Bearer ${people.alice}` }, `token=${people.bob}`)],
      ['preflight', await send(endpoint(INTROSPECT_PATH), 'OPTIONS', { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' })],
      ['no credentials', await send(endpoint(INTROSPECT_PATH), 'POST', { 'content-type': FORM }, 'token=x')],
      [
        'bad credentials',
        await send(endpoint(INTROSPECT_PATH), 'POST', { 'content-type': FORM, authorization: 'Bearer tsr_bad', 'x-forwarded-for': freshAddress() }, 'token=x'),
      ],
      ['no such endpoint', await send(endpoint('/oauth/token'), 'POST', admin, 'token=x')],
      ['GET', await send(endpoint(INTROSPECT_PATH), 'GET', { authorization: admin.authorization })],
      ['too large', await send(endpoint(INTROSPECT_PATH), 'POST', admin, `token=${'x'.repeat(300 * 1024)}`)],
      ['not a form', await send(endpoint(INTROSPECT_PATH), 'POST', { ...admin, 'content-type': 'application/json' }, '{}')],
    ];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      answers.push([
        `guess ${attempt}`,
        await send(endpoint(INTROSPECT_PATH), 'POST', { 'content-type': FORM, authorization: 'Bearer tsr_bad', 'x-forwarded-for': address }, 'token=x'),
      ]);
    }
    expect(answers.map(([label, answer]) => [label, answer.status])).toEqual([
      ['active', 200],
      ['inactive', 200],
      ['bad access question', 400],
      ['no token parameter', 400],
      ['not permitted', 403],
      ['revoked by value', 200],
      ['revoke refused', 400],
      ['preflight', 204],
      ['no credentials', 401],
      ['bad credentials', 401],
      ['no such endpoint', 404],
      ['GET', 405],
      ['too large', 413],
      ['not a form', 415],
      ['guess 0', 401],
      ['guess 1', 401],
      ['guess 2', 401],
      ['guess 3', 429],
    ]);
    for (const [label, { headers, text }] of answers) {
      const security = {
        label,
        nosniff: headers['x-content-type-options'],
        frame: headers['x-frame-options'],
        referrer: headers['referrer-policy'],
        cache: headers['cache-control'],
      };
      expect(security).toEqual({ label, nosniff: 'nosniff', frame: 'DENY', referrer: 'no-referrer', cache: 'no-store' });
      if (text !== '')
        expect({ label, pragma: headers.pragma, type: headers['content-type'] }).toEqual({
          label,
          pragma: 'no-cache',
          type: 'application/json; charset=utf-8',
        });
    }
  });

  it('answers without going through yoga: a Host header from which no URL can be built is no obstacle', async () => {
    // Yoga's server adapter builds a WHATWG Request, whose URL it makes from the Host header, before any plugin runs;
    // node:http's handler reads only the request target. So a request whose Host no URL can hold tells them apart.
    const host = 'exa%mple';
    const introspected = await send(
      endpoint(INTROSPECT_PATH),
      'POST',
      { host, authorization: `Bearer ${introspector}`, 'content-type': FORM },
      `token=${people.bob}`,
    );
    expect(introspected.status).toBe(200);
    expect(JSON.parse(introspected.text)).toMatchObject({ active: true, username: 'bob' });
    // The same Host at /graphql, which yoga serves, is refused before yoga (whose adapter would answer a 500 with a stack).
    const query = JSON.stringify({ query: '{ viewer { username } }' });
    const graphql = await send(new URL(server.url), 'POST', { host, authorization: `Bearer ${people.bob}`, 'content-type': 'application/json' }, query);
    expect(graphql.status).toBe(400);
    expect(graphql.text).toBe('Bad Host header\n');
    expect(graphql.headers['x-content-type-options']).toBe('nosniff');
  });

  it("records the use of both the caller's token and the introspected token", async () => {
    const caller = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'use-recording-introspector', scopes: ['token:introspect'] });
    const target = await mint(server, people.bob, { name: 'use-recording-target', scopes: ['read:all'] });
    const before = Date.now();
    const answer = await oauthPost(server, INTROSPECT_PATH, { token: target.secret }, { token: caller.secret });
    expect(answer.body).toMatchObject({ active: true, key: target.token.key });
    await server.tessera.flushUsage();
    for (const key of [caller.token.key, target.token.key]) {
      const used = (await lookup(server, key, people.admin))?.lastUsedAt ?? null;
      expect(used === null ? null : Date.parse(used)).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  describe('with a second process on the same database', () => {
    let peer: PeerProcess;

    beforeAll(async () => {
      peer = await startPeerProcess(server);
    });
    afterAll(async () => peer?.close());

    /** POSTs a form to an OAuth endpoint of the process at `base`. */
    async function formPost(base: string, path: string, token: string, caller: string): Promise<{ status: number; text: string }> {
      const response = await fetch(new URL(path, base), {
        method: 'POST',
        headers: { 'content-type': FORM, authorization: `Bearer ${caller}` },
        body: new URLSearchParams({ token }).toString(),
      });
      return { status: response.status, text: await response.text() };
    }
    const introspectAt = async (base: string, token: string) =>
      JSON.parse((await formPost(base, INTROSPECT_PATH, token, introspector)).text) as { active: boolean };

    it.each([
      ['the peer', 'this server'],
      ['this server', 'the peer'],
    ])('sees a revocation through %s at the very next introspection through %s', async (revoker, _asker) => {
      const [revokeAt, askAt] = revoker === 'the peer' ? [peer.url, server.url] : [server.url, peer.url];
      const target = await mint(server, people.bob, { name: `revoked-through-${revoker.replaceAll(' ', '-')}`, scopes: ['read:all'] });
      // Both processes have just answered active: anything they kept would answer so again.
      expect((await introspectAt(askAt, target.secret)).active).toBe(true);
      expect((await introspectAt(revokeAt, target.secret)).active).toBe(true);
      expect(await formPost(revokeAt, REVOKE_PATH, target.secret, people.bob)).toEqual({ status: 200, text: '' });
      expect(await introspectAt(askAt, target.secret)).toEqual({ active: false });
      expect(await introspectAt(revokeAt, target.secret)).toEqual({ active: false });
    });
  });
});
