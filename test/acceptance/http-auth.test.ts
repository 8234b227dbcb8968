import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, cast, engines, mint, startServer, type TestServer } from '../support/harness.ts';
import { minutesFromNow, revoke } from '../support/generation.ts';
import { vendorChecksum } from '../../src/domain/generators/vendor-checksum.ts';

type Cast = Awaited<ReturnType<typeof cast>>;

const VIEWER = '{ viewer { username tokenKey } }';

/** A raw POST, so that the test decides every header (the harness always sends Bearer when given a token). */
async function post(url: string, headers: Record<string, string>, query = VIEWER) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Record<string, unknown> };
}

function expectUnauthenticated(response: Awaited<ReturnType<typeof post>>, invalidToken: boolean) {
  expect(response.status).toBe(401);
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge.startsWith('Bearer')).toBe(true);
  if (invalidToken) expect(challenge).toContain('error="invalid_token"');
  const errors = response.body.errors as { extensions?: { code?: string } }[] | undefined;
  expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  // Never a partial answer.
  expect(response.body).not.toHaveProperty('data');
}

describe.each(engines())('HTTP authentication on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** SQL statements since the last reset, from Prisma's query events. */
  let statements: string[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.tessera.db.$on('query', (event) => {
      statements.push(event.query);
    });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  describe('refusals', () => {
    it('answers a request without Authorization with 401 and a Bearer challenge', async () => {
      const response = await post(server.url, {});
      expectUnauthenticated(response, false);
    });

    it('refuses a string no generator could have made without a database lookup', async () => {
      // One character of the entropy changed: the CRC32 checksum no longer matches.
      const typo = people.alice.slice(0, 10) + (people.alice[10] === 'A' ? 'B' : 'A') + people.alice.slice(11);
      for (const presented of ['tsr_not-a-token-we-ever-made', typo, 'x'.repeat(513)]) {
        statements = [];
        const response = await post(server.url, { authorization: `Bearer ${presented}` });
        expectUnauthenticated(response, true);
        expect(response.headers.get('www-authenticate')).toContain('not in a format Tessera issues');
        expect(statements).toEqual([]);
      }
    });

    it('looks up a well-formed token and refuses it when it was never issued', async () => {
      const entropy = people.alice.slice(4, -6).replace(/^./, (first) => (first === 'A' ? 'B' : 'A'));
      const forgedVendor = `tsr_${entropy}${vendorChecksum(entropy)}`;
      for (const presented of [forgedVendor, 'f'.repeat(40), 'gt-AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBQ']) {
        statements = [];
        const response = await post(server.url, { authorization: `Bearer ${presented}` });
        expectUnauthenticated(response, true);
        expect(response.headers.get('www-authenticate')).toContain('The token is not recognized');
        expect(statements.length).toBeGreaterThan(0);
      }
    });

    it('answers an unknown Authorization scheme with 401', async () => {
      expectUnauthenticated(await post(server.url, { authorization: `Basic ${Buffer.from(`alice:${people.alice}`).toString('base64')}` }), false);
    });

    it('stops a revoked token at once', async () => {
      const minted = await mint(server, people.alice, { name: 'to-revoke', scopes: ['read:all'] });
      expect((await post(server.url, { authorization: `Bearer ${minted.secret}` })).status).toBe(200);
      await revoke(server, people.alice, minted.token.key);
      expectUnauthenticated(await post(server.url, { authorization: `Bearer ${minted.secret}` }), true);
    });

    it('stops an expired token at once', async () => {
      const minted = await mint(server, people.alice, { name: 'to-expire', scopes: ['read:all'], expires: minutesFromNow(10) });
      const before = await post(server.url, { authorization: `Bearer ${minted.secret}` });
      expect(before.status).toBe(200);
      await server.tessera.db.token.update({ where: { key: minted.token.key }, data: { expiresAt: new Date(Date.now() - 60_000) } });
      expectUnauthenticated(await post(server.url, { authorization: `Bearer ${minted.secret}` }), true);
    });

    it('also refuses a child token whose parent was revoked', async () => {
      const parent = await mint(server, people.alice, { name: 'parent-to-revoke', scopes: ['read:all'] });
      const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
      expect((await post(server.url, { authorization: `Bearer ${child.secret}` })).status).toBe(200);
      await revoke(server, people.alice, parent.token.key);
      expectUnauthenticated(await post(server.url, { authorization: `Bearer ${child.secret}` }), true);
    });
  });

  it("accepts djblets' `Authorization: token <token>` like Bearer", async () => {
    const response = await post(server.url, { authorization: `token ${people.alice}` });
    expect(response.status).toBe(200);
    expect((response.body.data as { viewer: unknown }).viewer).toEqual({ username: 'alice', tokenKey: people.aliceKey });
  });

  it('sets lastUsedAt when a token authenticates', async () => {
    const minted = await mint(server, people.alice, { name: 'last-used', scopes: ['read:all'] });
    const query = 'query ($key: String!) { token(key: $key) { lastUsedAt } }';
    const fresh = await server.graphql<{ token: { lastUsedAt: string | null } }>(people.admin, query, { key: minted.token.key });
    expect(fresh.data?.token).toEqual({ lastUsedAt: null });

    const before = Date.now();
    const used = await server.graphql(minted.secret, VIEWER);
    const after = Date.now();
    expect(used.status).toBe(200);

    const seen = await server.graphql<{ token: { lastUsedAt: string | null } }>(people.admin, query, { key: minted.token.key });
    const lastUsedAt = seen.data?.token.lastUsedAt;
    expect(lastUsedAt).toBeTruthy();
    const time = Date.parse(lastUsedAt as string);
    // Same clock for the test and the server: the use happened inside this window.
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
    const response = await fetch(`${server.url}?query=${encodeURIComponent(VIEWER)}`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(401);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('data');
  });

  it('never runs a query for a browser GET without a token, even one carrying a query', async () => {
    const response = await fetch(`${server.url}?query=${encodeURIComponent(VIEWER)}`, { headers: { accept: 'text/html' } });
    const text = await response.text();
    expect(text).not.toContain('"viewer"');
    expect(text).not.toContain('alice');
  });

  describe('deprecation', () => {
    it('warns on every response authenticated by a legacy_sha1 token', async () => {
      const legacy = await mint(server, people.alice, { name: 'legacy-auth', scopes: ['read:all'], tokenGeneratorId: 'legacy_sha1' });
      const response = await server.graphql<{ viewer: { username: string } }>(legacy.secret, VIEWER);
      expect(response.status).toBe(200);
      expect(response.data?.viewer.username).toBe('alice');
      expect(response.headers.get('deprecation')).toBeTruthy();
      const warnings = response.extensions?.warnings as { code: string; message: string }[] | undefined;
      expect(warnings?.[0]?.code).toBe('DEPRECATED_TOKEN');
    });

    it('does not warn for a vendor_checksum token', async () => {
      const response = await server.graphql<{ viewer: { username: string } }>(people.alice, VIEWER);
      expect(response.status).toBe(200);
      expect(response.headers.get('deprecation')).toBeNull();
      expect(response.extensions?.warnings).toBeUndefined();
    });
  });

  it('answers a GraphQL syntax error with a GraphQL error and keeps serving', async () => {
    const response = await server.graphql(people.alice, '{ viewer { username ');
    expect([200, 400]).toContain(response.status);
    expect(response.errors?.length).toBeGreaterThan(0);
    expect(response.data).toBeNull();
    const after = await server.graphql<{ viewer: { username: string } }>(people.alice, VIEWER);
    expect(after.data?.viewer.username).toBe('alice');
  });

  it('rate limits an address after repeated failures, even for a good token, and only that address', async () => {
    const limited = await startServer(engine, { env: { TESSERA_AUTH_FAILURES_PER_MINUTE: '3' } });
    try {
      const good = await mint(limited, BOOTSTRAP_TOKEN, { username: 'alice', name: 'good', scopes: ['user:token'] });
      const from = (address: string, token: string) => post(limited.url, { authorization: `Bearer ${token}`, 'x-forwarded-for': address });

      for (let attempt = 0; attempt < 3; attempt += 1) {
        expectUnauthenticated(await from('203.0.113.9', `tsr_bad-guess-${attempt}`), true);
      }
      const blocked = await from('203.0.113.9', good.secret);
      expect(blocked.status).toBe(429);
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(blocked.body).not.toHaveProperty('data');

      const elsewhere = await from('198.51.100.7', good.secret);
      expect(elsewhere.status).toBe(200);
      expect((elsewhere.body.data as { viewer: { username: string } }).viewer.username).toBe('alice');
    } finally {
      await limited.close();
    }
  });
});
