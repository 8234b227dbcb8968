/**
 * Errors that say neither too much nor too little: no error message quotes
 * a token string; every presented string that fails gets one neutral 401;
 * every answer of /oauth/* is an RFC 6749 error object whose code agrees with
 * its challenge; a request that is not GraphQL-over-HTTP gets 400; a database
 * that is full, read-only or gone is 503 with a code and Retry-After, while
 * reads keep working and writes resume by themselves; and graphql-http's
 * audit of the GraphQL-over-HTTP spec finds nothing to warn about.
 */
import { request as httpRequest } from 'node:http';
import { serverAudits } from 'graphql-http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { vendorChecksum } from '../../src/domain/generators/vendor-checksum.ts';
import { engines, startServer, TestClock, type TestServer } from '../support/harness.ts';
import { type Relay, type ServerBehindRelay, startServerBehindRelay } from '../support/relay.ts';
import {
  cast,
  EDIT,
  expectNoErrors,
  GENERATE,
  INTROSPECT_PATH,
  lookup,
  mint,
  minutesFromNow,
  oauthPost,
  REVOKE,
  revoke,
  REVOKE_PATH,
  VIEWER,
  type Cast,
} from '../support/operations.ts';

const INVALID_TOKEN_CHALLENGE = 'Bearer realm="tessera", error="invalid_token", error_description="The access token is invalid"';

/** A fresh client address per request that presents a bad credential, so the failure limiter (3 a minute here) slows down only the test that means it to. */
let addresses = 0;
const freshAddress = () => `198.51.100.${(addresses += 1)}`;

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

async function rawPost(url: string | URL, body: string, headers: Record<string, string>): Promise<RawResponse> {
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A POST whose body is sent chunked, without Content-Length (fetch always sends one for a string body). */
function chunkedPost(url: URL, headers: Record<string, string>, body: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const received = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') received.set(name, value);
        resolve({ status: response.statusCode ?? 0, headers: received, text });
      });
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

/** RFC 6749 §5.2's error object and nothing else, never cached. */
function expectOAuthError(response: RawResponse, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(response.headers.get('cache-control') ?? '').toMatch(/\bno-store\b/);
  const body = JSON.parse(response.text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
}

/** A policy of some 12 KB: stored, it needs pages of its own. */
const BULKY_POLICY = { resources: { '*': { allow: Array.from({ length: 600 }, (_, index) => `method-${String(index).padStart(12, '0')}`) } } };

describe.each(engines())('errors on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  const clock = new TestClock();

  beforeAll(async () => {
    server = await startServer(engine, { clock, env: { TESSERA_AUTH_FAILURES_PER_MINUTE: '3' } });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  const oauthUrl = (path: string) => new URL(path, server.url);

  describe('no token string in any error message', () => {
    it('quotes none in validation, parse and variable errors', async () => {
      const secret = people.alice;
      const answers = [
        // A field named like the token (a token string is a valid GraphQL name): validation.
        await server.requestText(`{ viewer { ${secret} } }`, { token: people.alice }),
        // An argument that is an enum-like name instead of a string: validation.
        await server.requestText(`{ token(key: ${secret}) { key } }`, { token: people.alice }),
        // A string where a name belongs: parsing.
        await server.requestText(`{ viewer { "${secret}" } }`, { token: people.alice }),
      ];
      const variables = await rawPost(
        server.url,
        JSON.stringify({ query: 'query ($first: Int) { tokens(first: $first) { totalCount } }', variables: { first: secret } }),
        {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${people.alice}`,
        },
      );
      for (const answer of answers) {
        expect(answer.errors?.length).toBeGreaterThan(0);
        expect(answer.errors?.[0]?.extensions?.code).toMatch(/^GRAPHQL_(VALIDATION|PARSE)_FAILED$/);
        expect(JSON.stringify(answer.body)).not.toContain(secret.slice(0, 32));
      }
      expect(answers[0]?.errors?.[0]?.message).toMatch(/^Cannot query field "tsr_\w{3}… on type "Viewer"\.$/);
      expect(variables.text).toContain('BAD_USER_INPUT');
      expect(variables.text).not.toContain(secret.slice(0, 32));
    });
  });

  describe('401: one neutral answer', () => {
    it('answers a malformed, unknown, revoked or expired string alike, and a request without one apart', async () => {
      const revoked = await mint(server, people.alice, { name: 'neutral-revoked', scopes: ['read:all'] });
      await revoke(server, people.alice, revoked.token.key);
      const expiring = await mint(server, people.alice, { name: 'neutral-expired', scopes: ['read:all'], expires: minutesFromNow(10, clock) });
      clock.advance(11 * 60_000);
      const entropy = people.alice.slice(4, -6).replace(/^./, (first) => (first === 'A' ? 'B' : 'A'));
      const failing = {
        malformed: 'tsr_not-a-token-we-ever-made',
        unknown: `tsr_${entropy}${vendorChecksum(entropy)}`,
        revoked: revoked.secret,
        expired: expiring.secret,
      };

      const graphqlAnswers = [];
      const oauthAnswers = [];
      for (const presented of Object.values(failing)) {
        const answer = await server.request(VIEWER, {}, { token: presented, headers: { 'x-forwarded-for': freshAddress() } });
        graphqlAnswers.push({ status: answer.status, challenge: answer.headers.get('www-authenticate'), body: answer.body });
        const oauth = await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: presented, headers: { 'x-forwarded-for': freshAddress() } });
        oauthAnswers.push({ status: oauth.status, challenge: oauth.headers.get('www-authenticate'), body: oauth.body });
      }
      const [first] = graphqlAnswers;
      expect(first).toEqual({
        status: 401,
        challenge: INVALID_TOKEN_CHALLENGE,
        body: { errors: [{ message: 'The access token is invalid', extensions: { code: 'UNAUTHENTICATED' } }] },
      });
      expect(graphqlAnswers).toEqual(Object.values(failing).map(() => first));
      // At the OAuth endpoints the body's code is the challenge's (RFC 6750 §3.1).
      const [oauthFirst] = oauthAnswers;
      expect(oauthFirst).toEqual({
        status: 401,
        challenge: INVALID_TOKEN_CHALLENGE,
        body: { error: 'invalid_token', error_description: 'The access token is invalid' },
      });
      expect(oauthAnswers).toEqual(Object.values(failing).map(() => oauthFirst));

      // No credentials at all: a bare challenge, without an error attribute (RFC 6750 §3.1).
      const missing = await server.request(VIEWER, {}, {});
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
      expect(missing.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const missingAtOAuth = await oauthPost(server, INTROSPECT_PATH, { token: people.bob });
      expect(missingAtOAuth.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
      expectOAuthError(missingAtOAuth, 401, 'invalid_client');
    });
  });

  describe('/oauth/*: RFC 6749 error objects only', () => {
    it('answers 404, 405, 411, 413 and 415 as RFC 6749 errors', async () => {
      const auth = { authorization: `Bearer ${people.admin}` };
      const form = { ...auth, 'content-type': 'application/x-www-form-urlencoded' };
      expectOAuthError(await rawPost(oauthUrl('/oauth/nothing-here'), 'token=x', form), 404, 'invalid_request');

      const get = await fetch(oauthUrl(INTROSPECT_PATH), { headers: { ...auth, accept: 'application/json' } });
      const got = { status: get.status, headers: get.headers, text: await get.text() };
      expectOAuthError(got, 405, 'invalid_request');
      expect(got.headers.get('allow')).toBe('POST');

      expectOAuthError(await chunkedPost(oauthUrl(REVOKE_PATH), form, `token=${people.bob}`), 411, 'invalid_request');
      expectOAuthError(await rawPost(oauthUrl(REVOKE_PATH), `token=${'x'.repeat(300 * 1024)}`, form), 413, 'invalid_request');
      expectOAuthError(
        await rawPost(oauthUrl(INTROSPECT_PATH), JSON.stringify({ token: people.bob }), { ...auth, 'content-type': 'application/json' }),
        415,
        'invalid_request',
      );
      // Nothing was revoked by any of them.
      expect((await server.request(VIEWER, {}, { token: people.bob })).status).toBe(200);
    });

    it('answers failing credentials from one address with 429 and Retry-After, as an RFC 6749 error', async () => {
      const address = freshAddress();
      const statuses = [];
      let last: RawResponse | null = null;
      for (let attempt = 0; attempt < 4; attempt += 1) {
        last = await rawPost(oauthUrl(INTROSPECT_PATH), `token=${people.bob}`, {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer tsr_bad-guess-${attempt}`,
          'x-forwarded-for': address,
        });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      if (!last) throw new Error('no answer');
      expectOAuthError(last, 429, 'temporarily_unavailable');
      expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('/oauth/revoke: a caller that may not revoke an active token is refused (RFC 7009 §2.1)', () => {
    it("refuses someone else's active token with 400 unauthorized_client, and still answers 200 for what is no active token", async () => {
      const bobs = await mint(server, people.bob, { name: 'not-alices', scopes: ['read:all'] });
      const refused = await oauthPost(server, REVOKE_PATH, { token: bobs.secret }, { token: people.alice });
      expectOAuthError(refused, 400, 'unauthorized_client');
      expect((await lookup(server, bobs.token.key))?.valid).toBe(true);

      const revokedOfBobs = await mint(server, people.bob, { name: 'already-revoked', scopes: ['read:all'] });
      await revoke(server, people.bob, revokedOfBobs.token.key);
      const expiredOfBobs = await mint(server, people.bob, { name: 'expired-of-bobs', scopes: ['read:all'], expires: minutesFromNow(10, clock) });
      clock.advance(11 * 60_000);
      for (const token of [revokedOfBobs.secret, expiredOfBobs.secret, 'garbage']) {
        const answer = await oauthPost(server, REVOKE_PATH, { token }, { token: people.alice });
        expect(answer.status).toBe(200);
        expect(answer.text).toBe('');
      }
    });
  });

  describe('a request that is not GraphQL-over-HTTP', () => {
    it.each(['application/json', 'application/graphql-response+json'])('answers a body that is not JSON with 400 when accepting %s', async (accept) => {
      for (const body of ['{not json', '']) {
        const response = await rawPost(server.url, body, { 'content-type': 'application/json', accept, authorization: `Bearer ${people.alice}` });
        expect(response.status).toBe(400);
        const parsed = JSON.parse(response.text) as { errors?: { extensions?: { code?: string } }[] };
        expect(parsed.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
        expect(response.text).not.toContain('originalError');
      }
    });

    it("passes graphql-http's audit of the GraphQL-over-HTTP spec without a failure, a warning or a notice", async () => {
      const fetchFn: typeof fetch = (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('authorization', `Bearer ${people.admin}`);
        return fetch(input, { ...init, headers });
      };
      const results = await Promise.all(serverAudits({ url: server.url, fetchFn }).map((audit) => audit.fn()));
      expect(results.length).toBeGreaterThan(30);
      // Notices too (MAY-level: the audit's GETs): queries over GET need no header besides the token's.
      const failures = results.flatMap((result) => (result.status === 'ok' ? [] : [`${result.status} ${result.id} ${result.name}: ${result.reason}`]));
      expect(failures).toEqual([]);
    });
  });

  describe('a database that is full or read-only', () => {
    /** The SQLite connection Prisma uses (its adapter opens one); the hot path's connection is another. */
    const pragma = (statement: string) => server.tessera.db.$queryRawUnsafe(`PRAGMA ${statement}`);

    function expectUnavailable(
      response: { status: number; headers: Headers; body: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] },
      code: string,
    ) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(response.errors?.[0]?.extensions?.code).toBe(code);
      expect(JSON.stringify(response.body)).not.toContain('Unexpected error');
    }

    it.runIf(engine === 'sqlite')(
      'answers a write that finds the disk full with 503 STORAGE_FULL, keeps reading, and writes again once there is room',
      async () => {
        const target = await mint(server, people.alice, { name: 'full-disk', scopes: ['read:all'] });
        // SQLite's own limit on the file's pages: set at the size it has, it is a disk with no room left.
        await pragma('max_page_count = 1');
        try {
          const edit = await server.request(EDIT, { input: { key: target.token.key, policy: BULKY_POLICY } }, { token: people.alice });
          expectUnavailable(edit, 'STORAGE_FULL');
          // Reads and authentication keep working; nothing was written.
          expect(expectNoErrors(await server.request(VIEWER, {}, { token: people.alice })).viewer.username).toBe('alice');
          const stored = await server.tessera.db.token.findUnique({ where: { key: target.token.key }, select: { policy: true } });
          expect(stored?.policy).toEqual({});
        } finally {
          await pragma('max_page_count = 4294967294');
        }
        const again = expectNoErrors(await server.request(EDIT, { input: { key: target.token.key, policy: BULKY_POLICY } }, { token: people.alice }));
        expect(again.editToken.__typename).toBe('EditTokenPayload');
      },
    );

    /** Makes the database read-only for Tessera's connections, as a failover to a standby or a read-only mount would. */
    async function readOnly(on: boolean): Promise<void> {
      if (engine === 'sqlite') {
        await pragma(`query_only = ${on ? 1 : 0}`);
        return;
      }
      const admin = new pg.Client({ connectionString: server.tessera.config.databaseUrl });
      await admin.connect();
      try {
        // This session may itself have opened read-only (when the setting is being lifted).
        await admin.query('SET default_transaction_read_only = off');
        const { rows } = await admin.query<{ name: string }>('SELECT current_database() AS name');
        const name = rows[0]?.name ?? '';
        await admin.query(`ALTER DATABASE ${name} ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
        // Connections take the setting when they open: every open one is closed, as a failover would.
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      } finally {
        await admin.end();
      }
      // Let the terminations reach the pools before the next request.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    it('answers writes to a read-only database with 503 DATABASE_READ_ONLY in GraphQL and at /oauth/revoke, keeps reading, and writes again once it is writable', async () => {
      const target = await mint(server, people.alice, { name: 'read-only', scopes: ['read:all'] });
      await readOnly(true);
      try {
        expectUnavailable(await server.request(REVOKE, { input: { key: target.token.key } }, { token: people.alice }), 'DATABASE_READ_ONLY');
        const byValue = await oauthPost(server, REVOKE_PATH, { token: target.secret }, { token: people.alice });
        expectOAuthError({ status: byValue.status, headers: byValue.headers, text: byValue.text }, 503, 'temporarily_unavailable');
        expect(byValue.headers.get('retry-after')).toMatch(/^\d+$/);
        if (engine === 'postgresql') {
          // A USER token is minted through the hot path's own statements (on SQLite its connection is not the one made read-only here).
          expectUnavailable(await server.request(GENERATE, { input: { name: 'while-read-only' } }, { token: people.alice }), 'DATABASE_READ_ONLY');
        }
        expect(expectNoErrors(await server.request(VIEWER, {}, { token: target.secret })).viewer.username).toBe('alice');
        expect((await lookup(server, target.token.key))?.valid).toBe(true);
      } finally {
        await readOnly(false);
      }
      expect(await revoke(server, people.alice, target.token.key)).toEqual([target.token.key]);
    });
  });
});

describe.runIf(engines().includes('postgresql'))('a PostgreSQL that is gone', () => {
  const baseUrl = inject('postgresUrl') ?? '';
  const name = `tessera_t_gone_${process.pid}`;
  let behind: ServerBehindRelay;
  let relay: Relay;
  let server: TestServer;

  beforeAll(async () => {
    behind = await startServerBehindRelay(baseUrl, name);
    ({ relay, server } = behind);
  });
  afterAll(async () => behind?.close());

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After, in GraphQL and at /oauth/*, and serves again when it is back', async () => {
    const people = await cast(server);
    await relay.cut();
    const graphql = await server.request(VIEWER, {}, { token: people.alice });
    expect(graphql.status).toBe(503);
    expect(graphql.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(graphql.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    expect(graphql.body).not.toHaveProperty('data');
    const oauth = await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: people.admin });
    expectOAuthError({ status: oauth.status, headers: oauth.headers, text: oauth.text }, 503, 'temporarily_unavailable');
    expect(oauth.headers.get('retry-after')).toMatch(/^\d+$/);

    await relay.open();
    expect(expectNoErrors(await server.request(VIEWER, {}, { token: people.alice })).viewer.username).toBe('alice');
  });
});
