import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendorChecksum } from '../../src/domain/generators/vendor-checksum.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, TestClock, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import { cast, GENERATE, INTROSPECT_PATH, lookup, mint, minutesFromNow, oauthPost, revoke, REVOKE_PATH, VIEWER, type Cast } from '../support/operations.ts';

/** The viewer query with exactly these headers: no token is added, so that the test decides the Authorization header. */
function viewerWith(server: TestServer, headers: Record<string, string>) {
  return server.request(VIEWER, {}, { headers });
}

/** What every presented string that fails gets, whatever the reason: the reason is not the caller's to know. */
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="tessera", error="invalid_token", error_description="The access token is invalid"';

function expectUnauthenticated(response: GraphQLResponse, invalidToken: boolean) {
  expect(response.status).toBe(401);
  // RFC 6750 §3.1: no error attribute when no credentials were presented.
  expect(response.headers.get('www-authenticate')).toBe(invalidToken ? INVALID_TOKEN_CHALLENGE : 'Bearer realm="tessera"');
  if (invalidToken) expect(response.errors).toEqual([{ message: 'The access token is invalid', extensions: { code: 'UNAUTHENTICATED' } }]);
  expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  // Never a partial answer.
  expect(response.body).not.toHaveProperty('data');
}

describe.each(engines())('HTTP authentication on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** The server's clock: moved to expire a token. */
  const clock = new TestClock();
  /** SQL statements since the last reset, from Prisma's query events. */
  let statements: string[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true, clock });
    server.onStatement((sql) => {
      statements.push(sql);
    });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  describe('refusals', () => {
    it('answers a request without Authorization with 401 and a Bearer challenge', async () => {
      const response = await viewerWith(server, {});
      expectUnauthenticated(response, false);
    });

    it('refuses a string no generator could have made without a database lookup', async () => {
      // One character of the entropy changed: the CRC32 checksum no longer matches.
      const typo = people.alice.slice(0, 10) + (people.alice[10] === 'A' ? 'B' : 'A') + people.alice.slice(11);
      for (const presented of ['tsr_not-a-token-we-ever-made', typo, 'x'.repeat(513)]) {
        statements = [];
        const response = await viewerWith(server, { authorization: `Bearer ${presented}` });
        expectUnauthenticated(response, true);
        // No token is looked up. On PostgreSQL the failure is counted in the database, shared by every process: one statement.
        const counted = statements.filter((sql) => sql.includes('auth_failure_windows'));
        expect(statements.filter((sql) => !counted.includes(sql))).toEqual([]);
        expect(counted).toHaveLength(engine === 'postgresql' ? 1 : 0);
      }
    });

    it('looks up a well-formed token and refuses it when it was never issued', async () => {
      const entropy = people.alice.slice(4, -6).replace(/^./, (first) => (first === 'A' ? 'B' : 'A'));
      const forgedVendor = `tsr_${entropy}${vendorChecksum(entropy)}`;
      for (const presented of [forgedVendor, 'f'.repeat(40), 'gt-AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBQ']) {
        statements = [];
        const response = await viewerWith(server, { authorization: `Bearer ${presented}` });
        expectUnauthenticated(response, true);
        expect(statements.length).toBeGreaterThan(0);
      }
    });

    it('answers an unknown Authorization scheme with 401', async () => {
      expectUnauthenticated(await viewerWith(server, { authorization: `Basic ${Buffer.from(`alice:${people.alice}`).toString('base64')}` }), false);
    });

    it('stops a revoked token at once', async () => {
      const minted = await mint(server, people.alice, { name: 'to-revoke', scopes: ['read:all'] });
      expect((await viewerWith(server, { authorization: `Bearer ${minted.secret}` })).status).toBe(200);
      await revoke(server, people.alice, minted.token.key);
      expectUnauthenticated(await viewerWith(server, { authorization: `Bearer ${minted.secret}` }), true);
    });

    it('stops an expired token at once', async () => {
      const minted = await mint(server, people.alice, { name: 'to-expire', scopes: ['read:all'], expires: minutesFromNow(10, clock) });
      const before = await viewerWith(server, { authorization: `Bearer ${minted.secret}` });
      expect(before.status).toBe(200);
      // The server's clock moves past the expiry (the tests below take their times from the same clock).
      clock.advance(11 * 60_000);
      expectUnauthenticated(await viewerWith(server, { authorization: `Bearer ${minted.secret}` }), true);
    });

    it('also refuses a child token whose parent was revoked', async () => {
      const parent = await mint(server, people.alice, { name: 'parent-to-revoke', scopes: ['read:all'] });
      const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
      expect((await viewerWith(server, { authorization: `Bearer ${child.secret}` })).status).toBe(200);
      await revoke(server, people.alice, parent.token.key);
      expectUnauthenticated(await viewerWith(server, { authorization: `Bearer ${child.secret}` }), true);
    });
  });

  it("accepts djblets' `Authorization: token <token>` like Bearer", async () => {
    const response = await viewerWith(server, { authorization: `token ${people.alice}` });
    expect(response.status).toBe(200);
    expect(response.data?.viewer).toEqual({
      username: 'alice',
      scopes: ['exec:notebook', 'read:all', 'user:token'],
      isAdmin: false,
      tokenKey: people.aliceKey,
    });
  });

  it('sets lastUsedAt when a token authenticates', async () => {
    const minted = await mint(server, people.alice, { name: 'last-used', scopes: ['read:all'] });
    expect(await lookup(server, minted.token.key, people.admin)).toMatchObject({ lastUsedAt: null });

    const before = clock.now().getTime();
    const used = await server.request(VIEWER, {}, { token: minted.secret });
    const after = clock.now().getTime();
    expect(used.status).toBe(200);
    // Uses are written in batches, not on the request's path.
    expect((await lookup(server, minted.token.key, people.admin))?.lastUsedAt).toBeNull();
    await server.tessera.flushUsage();

    const lastUsedAt = (await lookup(server, minted.token.key, people.admin))?.lastUsedAt;
    expect(lastUsedAt).toBeTruthy();
    const time = Date.parse(lastUsedAt ?? '');
    // The server's own clock, read by the test too: the use happened inside this window.
    expect(time).toBeGreaterThanOrEqual(before - 1000);
    expect(time).toBeLessThanOrEqual(after + 1000);
  });

  it('serves GraphiQL to a browser without a token, from local assets only', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type') ?? '').toContain('text/html');
    const html = await response.text();
    expect(html).toMatch(/graphiql/i);
    expect(html).not.toMatch(/<script[^>]*\ssrc=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link[^>]*\shref=["']?(https?:)?\/\//i);
    expect(html).not.toContain('https://unpkg');
    expect(html).not.toContain('cdn.jsdelivr');
  });

  it('does not let a GET without a token run a query', async () => {
    const response = await fetch(`${server.url}?query=${encodeURIComponent(print(VIEWER))}`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(401);
    const body: unknown = await response.json();
    expect(body).not.toHaveProperty('data');
  });

  it('never runs a query for a browser GET without a token, even one carrying a query', async () => {
    const response = await fetch(`${server.url}?query=${encodeURIComponent(print(VIEWER))}`, { headers: { accept: 'text/html' } });
    const text = await response.text();
    expect(text).not.toContain('"viewer"');
    expect(text).not.toContain('alice');
  });

  describe('deprecation', () => {
    /** djblets' X-API-Token-Deprecated text, word for word. */
    const DJBLETS_WARNING =
      'This token uses a deprecated format. The token can still be used, but you should remove it and generate a new one to take advantage of security improvements.';

    it('warns on every response authenticated by a legacy_sha1 token, in GraphQL and at the OAuth endpoints', async () => {
      const legacy = await mint(server, people.alice, { name: 'legacy-auth', scopes: ['read:all'], tokenGeneratorId: 'legacy_sha1' });
      expect(legacy.secret).toMatch(/^[0-9a-f]{40}$/);
      expect(legacy.token.deprecated).toBe(true);
      const response = await server.request(VIEWER, {}, { token: legacy.secret });
      expect(response.status).toBe(200);
      expect(response.data?.viewer.username).toBe('alice');
      expect(response.headers.get('x-api-token-deprecated')).toBe(DJBLETS_WARNING);
      expect(response.headers.get('deprecation')).toBeTruthy();
      expect(response.extensions?.warnings).toEqual([{ code: 'DEPRECATED_TOKEN', message: DJBLETS_WARNING }]);

      // A refusal is a response too (no user:token here).
      const refused = await server.request(GENERATE, { input: { name: 'refused' } }, { token: legacy.secret });
      expect(refused.data?.generateToken.__typename).toBe('PermissionDeniedError');
      expect(refused.headers.get('x-api-token-deprecated')).toBe(DJBLETS_WARNING);

      // At the OAuth endpoints: introspection by a legacy introspector, its refusals, and revocation by value.
      const introspector = await mint(server, BOOTSTRAP_TOKEN, {
        username: 'alice',
        name: 'legacy-introspector',
        scopes: ['token:introspect'],
        tokenGeneratorId: 'legacy_sha1',
      });
      const answers = [
        await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: introspector.secret }),
        await oauthPost(server, INTROSPECT_PATH, {}, { token: introspector.secret }),
        await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: legacy.secret }),
        await oauthPost(server, REVOKE_PATH, { token: 'garbage' }, { token: legacy.secret }),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([200, 400, 403, 200]);
      expect(answers[0]?.body).toMatchObject({ active: true, username: 'bob', deprecated: false });
      for (const answer of answers) expect(answer.headers.get('x-api-token-deprecated')).toBe(DJBLETS_WARNING);
    });

    it('does not warn for a vendor_checksum token, not even about a legacy_sha1 token it introspects', async () => {
      const vendor = await mint(server, people.alice, { name: 'vendor-auth', scopes: ['read:all'] });
      expect(vendor.token.deprecated).toBe(false);
      const response = await server.request(VIEWER, {}, { token: vendor.secret });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-api-token-deprecated')).toBeNull();
      expect(response.headers.get('deprecation')).toBeNull();
      expect(response.extensions?.warnings).toBeUndefined();

      const legacy = await mint(server, people.alice, { name: 'legacy-introspected', scopes: ['read:all'], tokenGeneratorId: 'legacy_sha1' });
      const introspected = await oauthPost(server, INTROSPECT_PATH, { token: legacy.secret }, { token: people.admin });
      expect(introspected.body).toMatchObject({ active: true, key: legacy.token.key, deprecated: true });
      expect(introspected.headers.get('x-api-token-deprecated')).toBeNull();
    });
  });

  it('answers a GraphQL syntax error with a GraphQL error and keeps serving', async () => {
    // Untyped on purpose: text that does not parse.
    const response = await server.requestText('{ viewer { username ', { token: people.alice });
    expect([200, 400]).toContain(response.status);
    expect(response.errors?.length).toBeGreaterThan(0);
    expect(response.data).toBeNull();
    const after = await server.request(VIEWER, {}, { token: people.alice });
    expect(after.data?.viewer.username).toBe('alice');
  });

  it('rate limits failing credentials from an address after repeated failures, never a good token, and only that address', async () => {
    const limited = await startServer(engine, { env: { TESSERA_AUTH_FAILURES_PER_MINUTE: '3' } });
    try {
      const good = await mint(limited, BOOTSTRAP_TOKEN, { username: 'alice', name: 'good', scopes: ['user:token'] });
      const from = (address: string, token: string) => viewerWith(limited, { authorization: `Bearer ${token}`, 'x-forwarded-for': address });

      for (let attempt = 0; attempt < 3; attempt += 1) {
        expectUnauthenticated(await from('203.0.113.9', `tsr_bad-guess-${attempt}`), true);
      }
      // More than 3 failures in the minute: the next failing credential is slowed down.
      const blocked = await from('203.0.113.9', 'tsr_bad-guess-3');
      expect(blocked.status).toBe(429);
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(blocked.body).not.toHaveProperty('data');

      // A valid credential from the same address is answered normally.
      const valid = await from('203.0.113.9', good.secret);
      expect(valid.status).toBe(200);
      expect(valid.data?.viewer.username).toBe('alice');
      expect((await from('203.0.113.9', 'tsr_bad-guess-4')).status).toBe(429);

      // Other addresses are unaffected.
      expectUnauthenticated(await from('198.51.100.7', 'tsr_bad-guess-0'), true);
      const elsewhere = await from('198.51.100.7', good.secret);
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.data?.viewer.username).toBe('alice');
    } finally {
      await limited.close();
    }
  });
});
