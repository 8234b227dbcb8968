/**
 * RFC 7662 introspection, asked in GraphQL (`introspectToken`) and at
 * POST /oauth/introspect: the same answers on both, `{ "active": false }` and
 * nothing else for every token that is not active, at the same SQL cost as an
 * active one, a use of the introspected token, and the access question
 * answered from the token's policy.
 */
import type { ResultOf } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendorChecksum } from '../../src/domain/generators/vendor-checksum.ts';
import { graphql } from '../generated/index.ts';
import type { AccessQuery } from '../generated/graphql.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  expectNoErrors,
  INTROSPECT_PATH,
  lookup,
  mint,
  minutesFromNow,
  oauthPost,
  revoke,
  type Cast,
  epochSeconds,
} from '../support/operations.ts';

const INTROSPECT = graphql(`
  query Introspect($token: String!, $access: AccessQuery) {
    introspectToken(token: $token, access: $access) {
      active scope username exp iat key tokenClass policy service parent deprecated allowed
    }
  }
`);

type Answer = ResultOf<typeof INTROSPECT>['introspectToken'];

/** GraphQL's answer for a token that is not active: every member but `active` null. */
const INACTIVE: Answer = {
  active: false,
  scope: null,
  username: null,
  exp: null,
  iat: null,
  key: null,
  tokenClass: null,
  policy: null,
  service: null,
  parent: null,
  deprecated: null,
  allowed: null,
};

/** GET and PUT anywhere, nothing else; on `repository`, GET is blocked except on item 42, where DELETE is allowed too. */
const POLICY = {
  resources: {
    '*': { allow: ['GET', 'PUT'], block: ['*'] },
    repository: { '*': { block: ['GET'] }, '42': { allow: ['GET', 'DELETE'] } },
  },
};

/** What the endpoint must say when GraphQL says `answer`: RFC 7662's members (sub, jti, token_type) and Tessera's, snake_case. */
function asEndpointAnswer(answer: Answer): Record<string, unknown> {
  if (!answer.active) return { active: false };
  return {
    active: true,
    scope: answer.scope,
    username: answer.username,
    sub: answer.username,
    ...(answer.exp === null ? {} : { exp: answer.exp }),
    iat: answer.iat,
    jti: answer.key,
    token_type: 'Bearer',
    key: answer.key,
    token_class: answer.tokenClass,
    policy: answer.policy,
    service: answer.service,
    parent: answer.parent,
    deprecated: answer.deprecated,
    ...(answer.allowed === null ? {} : { allowed: answer.allowed }),
  };
}

function accessFields(access?: AccessQuery): Record<string, string> {
  if (!access) return {};
  return { resource: access.resource, method: access.method, ...(access.resourceId ? { resource_id: access.resourceId } : {}) };
}

describe.each(engines())('token introspection on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** SQL statements since the last reset, from Prisma's query events. */
  let statements: string[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.onStatement((sql) => {
      statements.push(sql);
    });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  /** Asks both surfaces as `caller`; insists they agree and are not cacheable; returns GraphQL's answer and the endpoint's body. */
  async function introspect(token: string, access?: AccessQuery, caller = people.admin): Promise<{ answer: Answer; endpoint: unknown }> {
    const response = await server.request(INTROSPECT, { token, access }, { token: caller });
    const answer = expectNoErrors(response).introspectToken;
    expect(response.headers.get('cache-control')).toMatch(/\bno-store\b/);
    const endpoint = await oauthPost(server, INTROSPECT_PATH, { token, ...accessFields(access) }, { token: caller });
    expect(endpoint.status).toBe(200);
    expect(endpoint.headers.get('content-type')).toContain('application/json');
    expect(endpoint.headers.get('cache-control')).toMatch(/\bno-store\b/);
    expect(endpoint.body).toStrictEqual(asEndpointAnswer(answer));
    return { answer, endpoint: endpoint.body };
  }

  /** GraphQL's answer for an active token, from what `token(key)` shows of it. */
  async function activeAnswer(key: string, members: Partial<Answer> = {}): Promise<Answer> {
    const view = await lookup(server, key, people.admin);
    if (!view) throw new Error(`no token ${key}`);
    return {
      active: true,
      scope: view.scopes.join(' '),
      username: view.username,
      exp: view.expiresAt === null ? null : epochSeconds(view.expiresAt),
      iat: epochSeconds(view.createdAt),
      key,
      tokenClass: view.tokenType.toLowerCase(),
      policy: {},
      service: view.service,
      parent: view.parentKey,
      deprecated: false,
      allowed: null,
      ...members,
    };
  }

  describe('an active token', () => {
    it('is described with every member, the same in GraphQL and at the endpoint', async () => {
      const expires = daysFromNow(30, server.clock);
      const minted = await mint(server, people.alice, { name: 'described', scopes: ['read:all', 'exec:notebook'], expires, policy: POLICY });
      const view = await lookup(server, minted.token.key, people.admin);
      const { answer, endpoint } = await introspect(minted.secret);
      expect(answer).toStrictEqual({
        active: true,
        scope: 'exec:notebook read:all',
        username: 'alice',
        exp: Date.parse(expires) / 1000,
        iat: epochSeconds(view?.createdAt ?? ''),
        key: minted.token.key,
        tokenClass: 'user',
        policy: POLICY,
        service: null,
        parent: null,
        deprecated: false,
        allowed: null,
      });
      expect(endpoint).toStrictEqual({
        active: true,
        scope: 'exec:notebook read:all',
        username: 'alice',
        sub: 'alice',
        exp: Date.parse(expires) / 1000,
        iat: answer.iat,
        jti: minted.token.key,
        token_type: 'Bearer',
        key: minted.token.key,
        token_class: 'user',
        policy: POLICY,
        service: null,
        parent: null,
        deprecated: false,
      });
      // token_type_hint is ignored.
      const hinted = await oauthPost(server, INTROSPECT_PATH, { token: minted.secret, token_type_hint: 'refresh_token' }, { token: people.admin });
      expect(hinted.body).toStrictEqual(endpoint);
    });

    it('leaves exp out (null in GraphQL) when the token never expires', async () => {
      const { answer, endpoint } = await introspect(people.bob);
      expect(answer).toStrictEqual(await activeAnswer(people.bobKey, { scope: 'read:all user:token', exp: null }));
      expect(endpoint).not.toHaveProperty('exp');
    });

    it("gives Gafaelfawr's type in lowercase, with the parent of a NOTEBOOK child and the service of an INTERNAL one", async () => {
      const parent = await mint(server, people.alice, { name: 'parent', scopes: ['read:all', 'exec:notebook'], expires: daysFromNow(10, server.clock) });
      const notebook = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
      const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: notebook.token.key, service: 'portal', scopes: ['read:all'] });
      const session = await mint(server, people.admin, { username: 'carol', tokenType: 'SESSION', scopes: ['read:all'] });
      const service = await mint(server, people.admin, { username: 'bot-indexer', tokenType: 'SERVICE', scopes: ['read:all'] });

      const notebookAnswer = (await introspect(notebook.secret)).answer;
      expect(notebookAnswer).toStrictEqual(await activeAnswer(notebook.token.key, { tokenClass: 'notebook', parent: parent.token.key }));
      expect((await introspect(internal.secret)).answer).toStrictEqual(
        await activeAnswer(internal.token.key, { tokenClass: 'internal', parent: notebook.token.key, service: 'portal' }),
      );
      expect((await introspect(session.secret)).answer).toMatchObject({ active: true, tokenClass: 'session', username: 'carol' });
      expect((await introspect(service.secret)).answer).toMatchObject({ active: true, tokenClass: 'service', username: 'bot-indexer' });
    });

    it('gives exp for a token that expires after 2038, past what a 32-bit GraphQL Int holds', async () => {
      const expires = '2040-01-01T00:00:00.000Z';
      const minted = await mint(server, people.alice, { name: 'far-future', scopes: ['read:all'], expires });
      expect((await introspect(minted.secret)).answer.exp).toBe(Date.parse(expires) / 1000);
    });

    it('marks a legacy_sha1 token deprecated', async () => {
      const legacy = await mint(server, people.alice, { name: 'legacy', scopes: ['read:all'], tokenGeneratorId: 'legacy_sha1' });
      expect((await introspect(legacy.secret)).answer).toStrictEqual(await activeAnswer(legacy.token.key, { deprecated: true }));
    });

    it('counts as a use of the introspected token, on either surface', async () => {
      const minted = await mint(server, people.alice, { name: 'used-by-introspection', scopes: ['read:all'] });
      expect((await lookup(server, minted.token.key, people.admin))?.lastUsedAt).toBeNull();

      const before = server.clock.now().getTime();
      expectNoErrors(await server.request(INTROSPECT, { token: minted.secret }, { token: people.admin }));
      await server.tessera.flushUsage();
      const first = Date.parse((await lookup(server, minted.token.key, people.admin))?.lastUsedAt ?? '');
      expect(first).toBeGreaterThanOrEqual(before - 1000);
      expect(first).toBeLessThanOrEqual(server.clock.now().getTime() + 1000);

      server.clock.advance(60 * 60_000);
      expect((await oauthPost(server, INTROSPECT_PATH, { token: minted.secret }, { token: people.admin })).status).toBe(200);
      await server.tessera.flushUsage();
      const second = Date.parse((await lookup(server, minted.token.key, people.admin))?.lastUsedAt ?? '');
      expect(second - first).toBeGreaterThanOrEqual(60 * 60_000 - 1000);
    });
  });

  describe('a token that is not active', () => {
    it('answers { "active": false } and nothing else for an unknown, malformed, revoked or expired token', async () => {
      const entropy = 'Z'.repeat(255 - 'tsr_'.length - 6);
      const revoked = await mint(server, people.alice, { name: 'revoked', scopes: ['read:all'] });
      await revoke(server, people.alice, revoked.token.key);
      const expired = await mint(server, people.alice, { name: 'expired', scopes: ['read:all'], expires: minutesFromNow(10, server.clock) });
      expect((await introspect(expired.secret)).answer.active).toBe(true);
      server.clock.advance(11 * 60_000);

      const presented = [`tsr_${entropy}${vendorChecksum(entropy)}`, 'f'.repeat(40), 'garbage', revoked.secret, expired.secret];
      for (const token of presented) {
        for (const access of [undefined, { resource: 'repository', method: 'GET' }]) {
          const { answer, endpoint } = await introspect(token, access);
          expect(answer, token.slice(0, 8)).toStrictEqual(INACTIVE);
          expect(endpoint).toStrictEqual({ active: false });
        }
      }
    });

    it('costs the same SQL statements as an active token (one indexed SELECT, no write), and none when malformed', async () => {
      const active = await mint(server, people.alice, { name: 'cost-active', scopes: ['read:all'] });
      const revoked = await mint(server, people.alice, { name: 'cost-revoked', scopes: ['read:all'] });
      await revoke(server, people.alice, revoked.token.key);
      const expired = await mint(server, people.alice, { name: 'cost-expired', scopes: ['read:all'], expires: minutesFromNow(10, server.clock) });
      server.clock.advance(11 * 60_000);
      const entropy = 'Y'.repeat(255 - 'tsr_'.length - 6);
      const unknown = `tsr_${entropy}${vendorChecksum(entropy)}`;

      /** The statements one introspection costs on each surface; the bootstrap secret authenticates without SQL. */
      async function cost(token: string): Promise<{ graphql: string[]; endpoint: string[] }> {
        statements = [];
        expectNoErrors(await server.request(INTROSPECT, { token }, { token: BOOTSTRAP_TOKEN }));
        const graphqlStatements = statements;
        statements = [];
        expect((await oauthPost(server, INTROSPECT_PATH, { token }, { token: BOOTSTRAP_TOKEN })).status).toBe(200);
        return { graphql: graphqlStatements, endpoint: statements };
      }

      const activeCost = await cost(active.secret);
      expect(activeCost.graphql).toHaveLength(1);
      expect(activeCost.graphql[0]).toMatch(/^\s*SELECT\b[\s\S]*\bsecret_hash"? = /i);
      expect(activeCost.endpoint).toEqual(activeCost.graphql);
      const forged = [unknown, 'f'.repeat(40), 'gt-AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBQ'];
      for (const token of [...forged, revoked.secret, expired.secret]) expect(await cost(token), token.slice(0, 8)).toEqual(activeCost);
      expect(await cost('garbage')).toEqual({ graphql: [], endpoint: [] });
    });
  });

  it("answers the access question from the token's policy (item rule, then the resource's *, then the global *)", async () => {
    const minted = await mint(server, people.alice, { name: 'with-policy', scopes: ['read:all'], policy: POLICY });
    const cases: [AccessQuery, boolean][] = [
      [{ resource: 'user', method: 'GET' }, true],
      [{ resource: 'user', method: 'put' }, true],
      [{ resource: 'user', method: 'DELETE' }, false],
      [{ resource: 'repository', method: 'GET', resourceId: '7' }, false],
      [{ resource: 'repository', method: 'GET', resourceId: '42' }, true],
      [{ resource: 'repository', method: 'DELETE', resourceId: '42' }, true],
      [{ resource: 'repository', method: 'DELETE', resourceId: '7' }, false],
      [{ resource: 'repository', method: 'PUT', resourceId: '7' }, true],
    ];
    for (const [access, allowed] of cases) {
      const { answer, endpoint } = await introspect(minted.secret, access);
      expect(answer.allowed, JSON.stringify(access)).toBe(allowed);
      expect(endpoint).toMatchObject({ active: true, allowed });
    }
    // The empty policy is full access.
    expect((await introspect(people.bob, { resource: 'repository', method: 'DELETE', resourceId: '7' })).answer.allowed).toBe(true);
  });

  describe('who may ask', () => {
    it('lets a token holding only token:introspect introspect', async () => {
      const introspector = await mint(server, people.admin, { username: 'resource-server', name: 'introspector', scopes: ['token:introspect'] });
      expect((await introspect(people.bob, undefined, introspector.secret)).answer).toStrictEqual(
        await activeAnswer(people.bobKey, { scope: 'read:all user:token', exp: null }),
      );
    });

    it('refuses a user:token holder without token:introspect: 403 insufficient_scope, PERMISSION_DENIED, and no use recorded', async () => {
      const target = await mint(server, people.bob, { name: 'not-introspected', scopes: ['read:all'] });
      const response = await server.request(INTROSPECT, { token: target.secret }, { token: people.alice });
      expect(response.errors?.[0]?.extensions?.code).toBe('PERMISSION_DENIED');
      expect(response.data?.introspectToken).toBeFalsy();
      const endpoint = await oauthPost(server, INTROSPECT_PATH, { token: target.secret }, { token: people.alice });
      expect(endpoint.status).toBe(403);
      expect(endpoint.body).toMatchObject({ error: 'insufficient_scope' });
      expect(endpoint.body).not.toHaveProperty('active');
      expect(endpoint.headers.get('cache-control')).toMatch(/\bno-store\b/);
      await server.tessera.flushUsage();
      expect((await lookup(server, target.token.key, people.admin))?.lastUsedAt).toBeNull();
    });

    it('answers a missing token field with 400 invalid_request', async () => {
      const response = await oauthPost(server, INTROSPECT_PATH, { token_type_hint: 'access_token' }, { token: people.admin });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_request' });
    });

    it('answers a caller without a token, or with a wrong one, with 401 and WWW-Authenticate', async () => {
      const entropy = 'X'.repeat(255 - 'tsr_'.length - 6);
      for (const caller of [null, `tsr_${entropy}${vendorChecksum(entropy)}`, 'garbage']) {
        const response = await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: caller });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer\b/);
        expect(response.body).not.toHaveProperty('active');
      }
    });
  });
});
