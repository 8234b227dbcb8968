/**
 * The authorization matrix (SPEC "Who may do what"): for every kind of caller
 * and every operation, the exact outcome — allowed (and the effect happened),
 * a typed PermissionDeniedError for mutations, a PERMISSION_DENIED GraphQL
 * error for queries, null (no existence leak) for someone else's token, and
 * HTTP 401 without a token. Real server over HTTP, real database, every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  EDIT,
  everyValidKey,
  expectNoErrors,
  expectTypename,
  generate,
  GENERATE,
  HISTORY,
  INTROSPECT_ACCESS,
  INVALIDATE,
  lookup,
  mint,
  REVOKE,
  ROTATE,
  TOKEN,
  TOKENS,
  VIEWER,
  type TokenView,
} from '../support/operations.ts';
import { CREATE_WEBHOOK, createWebhook, DELETE_WEBHOOK, WEBHOOKS } from '../support/webhooks.ts';

/** alice-narrow: a token of alice's holding only user:token, aimed at alice's broader tokens. ivan: token:introspect only. scraper: metrics:read only. */
type Caller = 'admin' | 'alice' | 'alice-narrow' | 'carol' | 'bob' | 'ivan' | 'scraper' | 'bootstrap' | 'none';
type Operation =
  | 'generateToken'
  | 'invalidateTokens'
  | 'revokeToken'
  | 'token'
  | 'tokens'
  | 'tokenHistory'
  | 'viewer'
  | 'editToken'
  | 'rotateToken'
  | 'introspectToken'
  | 'node'
  | 'createWebhook'
  | 'webhooks'
  | 'deleteWebhook';
/**
 * allowed: the operation succeeds and its effect is visible.
 * denied: PermissionDeniedError (mutations) or a PERMISSION_DENIED GraphQL error (queries); nothing changed.
 * hidden: the answer for a key that does not exist (token(key) → null, revokeToken → TokenNotFoundError); nothing changed.
 * unauthenticated: HTTP 401 with WWW-Authenticate and no data; nothing changed.
 */
type Outcome = 'allowed' | 'denied' | 'hidden' | 'unauthenticated';

interface Row {
  caller: Caller;
  /** Whose tokens the operations are aimed at. */
  target: 'alice' | 'carol';
  outcomes: Record<Operation, Outcome>;
}

const TABLE_OPERATIONS: Operation[] = [
  'generateToken',
  'invalidateTokens',
  'revokeToken',
  'token',
  'tokens',
  'tokenHistory',
  'viewer',
  'editToken',
  'rotateToken',
  'introspectToken',
  'node',
];

/** Webhooks are administrators' alone: one outcome per caller for createWebhook, webhooks and deleteWebhook alike. */
const WEBHOOK_OPERATIONS: Operation[] = ['createWebhook', 'webhooks', 'deleteWebhook'];
const WEBHOOK_OUTCOMES: Record<Caller, Outcome> = {
  admin: 'allowed',
  alice: 'denied',
  // A narrow token of an owner is no more an administrator than the owner.
  'alice-narrow': 'denied',
  carol: 'denied',
  bob: 'denied',
  ivan: 'denied',
  scraper: 'denied',
  bootstrap: 'allowed',
  none: 'unauthenticated',
};
const OPERATIONS: Operation[] = [...TABLE_OPERATIONS, ...WEBHOOK_OPERATIONS];

// prettier-ignore
const MATRIX_TABLE: [Caller, Row['target'], ...Outcome[]][] = [
  //  caller           target    generateToken      invalidateTokens   revokeToken        token(key)         tokens             tokenHistory       viewer             editToken          rotateToken        introspectToken    node(id)
  ['admin', 'alice', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed'],
  ['alice', 'alice', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'denied', 'allowed'],
  // The minting rule: a narrow token of alice's mints within its scopes and reads and revokes all of hers, but edits and rotates none broader than itself.
  ['alice-narrow', 'alice', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'denied', 'denied', 'denied', 'allowed'],
  // An owner without user:token may not manage even its own tokens.
  ['carol', 'carol', 'denied', 'denied', 'denied', 'denied', 'denied', 'denied', 'allowed', 'denied', 'denied', 'denied', 'denied'],
  ['carol', 'alice', 'denied', 'denied', 'denied', 'denied', 'denied', 'denied', 'allowed', 'denied', 'denied', 'denied', 'denied'],
  // Another user: denied outright where asking reveals nothing, answered as "no such token" where a key is named.
  ['bob', 'alice', 'denied', 'denied', 'hidden', 'hidden', 'denied', 'denied', 'allowed', 'hidden', 'hidden', 'denied', 'hidden'],
  // token:introspect grants introspection and nothing else.
  ['ivan', 'alice', 'denied', 'denied', 'denied', 'denied', 'denied', 'denied', 'allowed', 'denied', 'denied', 'allowed', 'denied'],
  // metrics:read grants GET /metrics and nothing else (viewer only says who the caller is, as for any token).
  ['scraper', 'alice', 'denied', 'denied', 'denied', 'denied', 'denied', 'denied', 'allowed', 'denied', 'denied', 'denied', 'denied'],
  ['bootstrap', 'alice', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed'],
  [
    'none',
    'alice',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
    'unauthenticated',
  ],
];

const MATRIX: Row[] = MATRIX_TABLE.map(([caller, target, ...outcomes]) => ({
  caller,
  target,
  outcomes: Object.fromEntries([
    ...TABLE_OPERATIONS.map((operation, index) => [operation, outcomes[index]]),
    ...WEBHOOK_OPERATIONS.map((operation) => [operation, WEBHOOK_OUTCOMES[caller]]),
  ]) as Record<Operation, Outcome>,
}));

/** One test per cell: [caller, operation, target, outcome]. */
const CELLS = MATRIX.flatMap((row) => OPERATIONS.map((operation) => [row.caller, operation, row.target, row.outcomes[operation]] as const));

const USERNAMES: Record<Exclude<Caller, 'none'>, string> = {
  admin: 'admin',
  alice: 'alice',
  'alice-narrow': 'alice',
  carol: 'carol',
  bob: 'bob',
  ivan: 'ivan',
  scraper: 'prometheus',
  bootstrap: '<bootstrap>',
};

const NODE = graphql(`
  query TokenNode($id: ID!) {
    node(id: $id) { __typename id ... on Token { key username } }
  }
`);

function expectUnauthenticated(response: GraphQLResponse) {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  expect(response.data).toBeNull();
  expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
}

function expectPermissionDeniedError<Data extends object>(response: GraphQLResponse<Data>, field: keyof Data) {
  expect(response.status).toBe(200);
  expect(response.errors, `expected PERMISSION_DENIED, got ${JSON.stringify(response.data)}`).toBeDefined();
  expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['PERMISSION_DENIED']);
  expect(response.data?.[field] ?? null).toBeNull();
}

describe.each(engines())('authorization on %s', (engine) => {
  let server: TestServer;
  let secrets: Record<Caller, string | null>;
  /** The token that authenticates each user (key), for viewer and listings. */
  let mainKeys: Record<Exclude<Caller, 'bootstrap' | 'none'>, string>;
  let serial = 0;
  const unique = (prefix: string) => `${prefix}-${(serial += 1)}`;

  beforeAll(async () => {
    server = await startServer(engine);
    const people = await cast(server);
    const carol = await mint(server, BOOTSTRAP_TOKEN, { username: 'carol', name: 'main', scopes: ['read:all'] });
    const aliceNarrow = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'narrow', scopes: ['user:token'] });
    const ivan = await mint(server, BOOTSTRAP_TOKEN, { username: 'ivan', name: 'main', scopes: ['token:introspect'] });
    const scraper = await mint(server, BOOTSTRAP_TOKEN, { username: 'prometheus', name: 'main', scopes: ['metrics:read'] });
    secrets = {
      admin: people.admin,
      alice: people.alice,
      'alice-narrow': aliceNarrow.secret,
      carol: carol.secret,
      bob: people.bob,
      ivan: ivan.secret,
      scraper: scraper.secret,
      bootstrap: BOOTSTRAP_TOKEN,
      none: null,
    };
    mainKeys = {
      admin: people.adminKey,
      alice: people.aliceKey,
      'alice-narrow': aliceNarrow.token.key,
      bob: people.bobKey,
      carol: carol.token.key,
      ivan: ivan.token.key,
      scraper: scraper.token.key,
    };
  });
  afterAll(async () => server?.close());

  /** The token as the bootstrap secret sees it (or null when there is no such token). */
  const tokenOf = (key: string) => lookup(server, key);

  /** A fresh USER token of `username`, made by the bootstrap secret, for a cell to act on. */
  async function victim(username: string) {
    return mint(server, BOOTSTRAP_TOKEN, { username, name: unique('victim'), scopes: ['read:all'] });
  }

  /** Whether `secret` authenticates: the HTTP status of a viewer query. */
  async function status(secret: string): Promise<number> {
    return (await server.request(VIEWER, {}, { token: secret })).status;
  }

  async function expectStillValid(key: string, secret: string) {
    expect((await tokenOf(key))?.valid).toBe(true);
    expect(await status(secret)).toBe(200);
  }

  async function validTokensOf(username: string): Promise<TokenView[]> {
    const { tokens } = expectNoErrors(await server.request(TOKENS, { username, first: 200 }, { token: BOOTSTRAP_TOKEN }));
    return tokens.edges.map((edge) => edge.node);
  }

  const checks: Record<Operation, (caller: Caller, target: string, outcome: Outcome) => Promise<void>> = {
    async generateToken(caller, target, outcome) {
      const name = unique('generated');
      // Within the caller's own scopes, so that only who may generate for whom is at stake.
      const scopes = caller === 'alice-narrow' ? ['user:token'] : ['read:all'];
      const response = await server.request(GENERATE, { input: { username: target, name, scopes } }, { token: secrets[caller] });
      const made = (await validTokensOf(target)).filter((token) => token.name === name);
      if (outcome === 'unauthenticated') {
        expectUnauthenticated(response);
        expect(made).toEqual([]);
        return;
      }
      const result = expectNoErrors(response).generateToken;
      if (outcome === 'allowed') {
        const payload = expectTypename(result, 'GenerateTokenPayload');
        expect(payload.token).toMatchObject({ username: target, name, tokenType: 'USER', valid: true });
        expect(made.map((token) => token.key)).toEqual([payload.token.key]);
        const viewer = await server.request(VIEWER, {}, { token: payload.secret });
        expect(viewer.data?.viewer.username).toBe(target);
      } else {
        expect(outcome).toBe('denied');
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
        expect(made).toEqual([]);
      }
    },

    async invalidateTokens(caller, target, outcome) {
      const target1 = await victim(target);
      const response = await server.request(
        INVALIDATE,
        { input: { usernames: [target], filter: { keys: [target1.token.key] }, reason: 'matrix' } },
        { token: secrets[caller] },
      );
      if (outcome === 'unauthenticated') {
        expectUnauthenticated(response);
        return expectStillValid(target1.token.key, target1.secret);
      }
      const result = expectNoErrors(response).invalidateTokens;
      if (outcome === 'allowed') {
        expect(result).toEqual({ __typename: 'InvalidateTokensPayload', count: 1, keys: [target1.token.key] });
        expect(await tokenOf(target1.token.key)).toMatchObject({ valid: false, invalidReason: 'matrix' });
        expect(await status(target1.secret)).toBe(401);
      } else {
        expect(outcome).toBe('denied');
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
        await expectStillValid(target1.token.key, target1.secret);
      }
    },

    async revokeToken(caller, target, outcome) {
      const target1 = await victim(target);
      const response = await server.request(REVOKE, { input: { key: target1.token.key, reason: 'matrix' } }, { token: secrets[caller] });
      if (outcome === 'unauthenticated') {
        expectUnauthenticated(response);
        return expectStillValid(target1.token.key, target1.secret);
      }
      const result = expectNoErrors(response).revokeToken;
      if (outcome === 'allowed') {
        expect(result).toEqual({ __typename: 'InvalidateTokensPayload', count: 1, keys: [target1.token.key] });
        expect(await tokenOf(target1.token.key)).toMatchObject({ valid: false, invalidReason: 'matrix' });
        expect(await status(target1.secret)).toBe(401);
        return;
      }
      if (outcome === 'denied') {
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      } else {
        expect(outcome).toBe('hidden');
        // Exactly what a key that does not exist gets, so the caller learns nothing.
        const missingKey = 'AAAAAAAAAAAAAAAAAAAAAA';
        const missing = await server.request(REVOKE, { input: { key: missingKey } }, { token: secrets[caller] });
        const notFound = expectTypename(missing.data?.revokeToken, 'TokenNotFoundError');
        expect(notFound).toMatchObject({ code: 'TOKEN_NOT_FOUND', key: missingKey });
        expect(result).toEqual({ ...notFound, key: target1.token.key, message: notFound.message.replace(missingKey, target1.token.key) });
      }
      await expectStillValid(target1.token.key, target1.secret);
    },

    async token(caller, target, outcome) {
      const key = mainKeys[target as 'alice' | 'carol'];
      const response = await server.request(TOKEN, { key }, { token: secrets[caller] });
      if (outcome === 'unauthenticated') return expectUnauthenticated(response);
      if (outcome === 'denied') return expectPermissionDeniedError(response, 'token');
      expectNoErrors(response);
      if (outcome === 'hidden') {
        expect(response.data).toEqual({ token: null });
        // The same answer as for a key that does not exist.
        const missing = await server.request(TOKEN, { key: 'AAAAAAAAAAAAAAAAAAAAAA' }, { token: secrets[caller] });
        expect(missing.data).toEqual({ token: null });
        expect(missing.errors).toBeUndefined();
      } else {
        expect(outcome).toBe('allowed');
        expect(response.data?.token).toMatchObject({ key, username: target, valid: true });
      }
    },

    async tokens(caller, target, outcome) {
      const response = await server.request(TOKENS, { username: target, first: 200 }, { token: secrets[caller] });
      if (outcome === 'unauthenticated') return expectUnauthenticated(response);
      if (outcome === 'denied') return expectPermissionDeniedError(response, 'tokens');
      expect(outcome).toBe('allowed');
      const { tokens } = expectNoErrors(response);
      const nodes = tokens.edges.map((edge) => edge.node);
      expect(nodes.map((node) => node.key)).toContain(mainKeys[target as 'alice' | 'carol']);
      expect(new Set(nodes.map((node) => node.username))).toEqual(new Set([target]));
      expect(tokens.totalCount).toBe(nodes.length);
    },

    async tokenHistory(caller, target, outcome) {
      const response = await server.request(HISTORY, { filter: { username: target }, first: 200 }, { token: secrets[caller] });
      if (outcome === 'unauthenticated') return expectUnauthenticated(response);
      if (outcome === 'denied') return expectPermissionDeniedError(response, 'tokenHistory');
      expect(outcome).toBe('allowed');
      const nodes = expectNoErrors(response).tokenHistory.edges.map((edge) => edge.node);
      expect(nodes).toContainEqual(
        expect.objectContaining({ token: mainKeys[target as 'alice' | 'carol'], username: target, actor: '<bootstrap>', action: 'CREATE' }),
      );
      expect(new Set(nodes.map((node) => node.username))).toEqual(new Set([target]));
    },

    async viewer(caller, _target, outcome) {
      const response = await server.request(VIEWER, {}, { token: secrets[caller] });
      if (outcome === 'unauthenticated') return expectUnauthenticated(response);
      expect(outcome).toBe('allowed');
      expectNoErrors(response);
      const expected = {
        admin: { username: 'admin', scopes: ['admin:token', 'user:token'], isAdmin: true, tokenKey: mainKeys.admin },
        alice: { username: 'alice', scopes: ['exec:notebook', 'read:all', 'user:token'], isAdmin: false, tokenKey: mainKeys.alice },
        'alice-narrow': { username: 'alice', scopes: ['user:token'], isAdmin: false, tokenKey: mainKeys['alice-narrow'] },
        ivan: { username: 'ivan', scopes: ['token:introspect'], isAdmin: false, tokenKey: mainKeys.ivan },
        scraper: { username: 'prometheus', scopes: ['metrics:read'], isAdmin: false, tokenKey: mainKeys.scraper },
        carol: { username: 'carol', scopes: ['read:all'], isAdmin: false, tokenKey: mainKeys.carol },
        bob: { username: 'bob', scopes: ['read:all', 'user:token'], isAdmin: false, tokenKey: mainKeys.bob },
        bootstrap: { username: USERNAMES.bootstrap, scopes: ['admin:token'], isAdmin: true, tokenKey: null },
      }[caller as Exclude<Caller, 'none'>];
      expect(response.data?.viewer).toEqual(expected);
    },

    async editToken(caller, target, outcome) {
      const target1 = await victim(target);
      const expires = daysFromNow(3, server.clock);
      const response = await server.request(EDIT, { input: { key: target1.token.key, note: 'matrix', expires } }, { token: secrets[caller] });
      const unchanged = async () => expect(await tokenOf(target1.token.key)).toMatchObject({ note: '', expiresAt: null, valid: true });
      if (outcome === 'unauthenticated') {
        expectUnauthenticated(response);
        return unchanged();
      }
      const result = expectNoErrors(response).editToken;
      if (outcome === 'allowed') {
        expect(expectTypename(result, 'EditTokenPayload').token).toMatchObject({ key: target1.token.key, note: 'matrix', expiresAt: expires });
        expect(await tokenOf(target1.token.key)).toMatchObject({ note: 'matrix', expiresAt: expires });
        return;
      }
      if (outcome === 'denied') {
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      } else {
        expect(outcome).toBe('hidden');
        const missingKey = 'AAAAAAAAAAAAAAAAAAAAAA';
        const missing = expectNoErrors(await server.request(EDIT, { input: { key: missingKey, note: 'matrix' } }, { token: secrets[caller] })).editToken;
        const notFound = expectTypename(missing, 'TokenNotFoundError');
        expect(result).toEqual({ ...notFound, key: target1.token.key, message: notFound.message.replace(missingKey, target1.token.key) });
      }
      await unchanged();
    },

    async rotateToken(caller, target, outcome) {
      const target1 = await victim(target);
      const response = await server.request(ROTATE, { input: { key: target1.token.key } }, { token: secrets[caller] });
      const named = async () => (await validTokensOf(target)).filter((token) => token.name === target1.token.name).map((token) => token.key);
      if (outcome === 'unauthenticated') {
        expectUnauthenticated(response);
        await expectStillValid(target1.token.key, target1.secret);
        return expect(await named()).toEqual([target1.token.key]);
      }
      const result = expectNoErrors(response).rotateToken;
      if (outcome === 'allowed') {
        const payload = expectTypename(result, 'RotateTokenPayload');
        expect(payload.replaced).toMatchObject({ key: target1.token.key, valid: false, invalidReason: 'rotated' });
        expect(payload.token).toMatchObject({ username: target, name: target1.token.name, scopes: ['read:all'], valid: true });
        expect(await named()).toEqual([payload.token.key]);
        expect(await status(target1.secret)).toBe(401);
        expect((await server.request(VIEWER, {}, { token: payload.secret })).data?.viewer.tokenKey).toBe(payload.token.key);
        return;
      }
      if (outcome === 'denied') {
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      } else {
        expect(outcome).toBe('hidden');
        const missingKey = 'AAAAAAAAAAAAAAAAAAAAAA';
        const missing = expectNoErrors(await server.request(ROTATE, { input: { key: missingKey } }, { token: secrets[caller] })).rotateToken;
        const notFound = expectTypename(missing, 'TokenNotFoundError');
        expect(result).toEqual({ ...notFound, key: target1.token.key, message: notFound.message.replace(missingKey, target1.token.key) });
      }
      await expectStillValid(target1.token.key, target1.secret);
      expect(await named()).toEqual([target1.token.key]);
    },

    async introspectToken(caller, target, outcome) {
      const target1 = await victim(target);
      const response = await server.request(
        INTROSPECT_ACCESS,
        { token: target1.secret, access: { resource: 'repos', method: 'GET' } },
        { token: secrets[caller] },
      );
      if (outcome === 'unauthenticated') return expectUnauthenticated(response);
      if (outcome === 'denied') return expectPermissionDeniedError(response, 'introspectToken');
      expect(outcome).toBe('allowed');
      expect(expectNoErrors(response).introspectToken).toEqual({
        active: true,
        key: target1.token.key,
        username: target,
        scope: 'read:all',
        policy: {},
        allowed: true,
      });
    },

    async node(caller, target, outcome) {
      const key = mainKeys[target as 'alice' | 'carol'];
      const id = (await tokenOf(key))!.id;
      const response = await server.request(NODE, { id }, { token: secrets[caller] });
      if (outcome === 'unauthenticated') return expectUnauthenticated(response);
      if (outcome === 'denied') return expectPermissionDeniedError(response, 'node');
      expectNoErrors(response);
      if (outcome === 'hidden') return expect(response.data).toEqual({ node: null });
      expect(outcome).toBe('allowed');
      expect(response.data?.node).toEqual({ __typename: 'Token', id, key, username: target });
    },

    async createWebhook(caller, _target, outcome) {
      // token.expiring only, which the matrix never triggers: no delivery is ever attempted to this made-up host.
      const url = `https://${unique('receiver')}.invalid/hook`;
      const response = await server.request(CREATE_WEBHOOK, { input: { url, events: ['TOKEN_EXPIRING'] } }, { token: secrets[caller] });
      const made = (await webhookList()).filter((webhook) => webhook.url === url);
      if (outcome === 'unauthenticated') {
        expectUnauthenticated(response);
        return expect(made).toEqual([]);
      }
      const result = expectNoErrors(response).createWebhook;
      if (outcome === 'allowed') {
        const payload = expectTypename(result, 'CreateWebhookPayload');
        expect(made.map((webhook) => webhook.id)).toEqual([payload.webhook.id]);
        expect(payload.webhook.createdBy).toBe(USERNAMES[caller as Exclude<Caller, 'none'>]);
        await server.request(DELETE_WEBHOOK, { input: { id: payload.webhook.id } }, { token: BOOTSTRAP_TOKEN });
      } else {
        expect(outcome).toBe('denied');
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
        expect(made).toEqual([]);
      }
    },

    async webhooks(caller, _target, outcome) {
      const { id } = await createWebhook(server, `https://${unique('listed')}.invalid/hook`, ['TOKEN_EXPIRING']);
      const response = await server.request(WEBHOOKS, {}, { token: secrets[caller] });
      await server.request(DELETE_WEBHOOK, { input: { id } }, { token: BOOTSTRAP_TOKEN });
      if (outcome === 'unauthenticated') return expectUnauthenticated(response);
      if (outcome === 'denied') return expectPermissionDeniedError(response, 'webhooks');
      expect(outcome).toBe('allowed');
      expect(expectNoErrors(response).webhooks.map((webhook) => webhook.id)).toContain(id);
    },

    async deleteWebhook(caller, _target, outcome) {
      const { id } = await createWebhook(server, `https://${unique('deleted')}.invalid/hook`, ['TOKEN_EXPIRING']);
      const response = await server.request(DELETE_WEBHOOK, { input: { id } }, { token: secrets[caller] });
      const left = (await webhookList()).filter((webhook) => webhook.id === id);
      await server.request(DELETE_WEBHOOK, { input: { id } }, { token: BOOTSTRAP_TOKEN });
      if (outcome === 'unauthenticated') {
        expectUnauthenticated(response);
        return expect(left).toHaveLength(1);
      }
      const result = expectNoErrors(response).deleteWebhook;
      if (outcome === 'allowed') {
        expect(result).toEqual({ __typename: 'DeleteWebhookPayload', id });
        expect(left).toEqual([]);
      } else {
        expect(outcome).toBe('denied');
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
        expect(left).toHaveLength(1);
      }
    },
  };

  /** Every webhook, as the bootstrap secret sees them. */
  async function webhookList() {
    return expectNoErrors(await server.request(WEBHOOKS, {}, { token: BOOTSTRAP_TOKEN })).webhooks;
  }

  describe('the matrix', () => {
    it.each(CELLS)('%s → %s on %s’s tokens: %s', async (caller, operation, target, outcome) => {
      await checks[operation](caller, target, outcome);
    });
  });

  describe('listings without a username', () => {
    it('a non-admin’s tokens lists only their own', async () => {
      const { tokens } = expectNoErrors(await server.request(TOKENS, { first: 200 }, { token: secrets.bob }));
      const nodes = tokens.edges.map((edge) => edge.node);
      expect(nodes.map((node) => node.key)).toContain(mainKeys.bob);
      expect(new Set(nodes.map((node) => node.username))).toEqual(new Set(['bob']));
    });

    it('an admin’s tokens lists everyone’s', async () => {
      const { tokens } = expectNoErrors(await server.request(TOKENS, { first: 200 }, { token: secrets.admin }));
      const keys = tokens.edges.map((edge) => edge.node.key);
      for (const key of Object.values(mainKeys)) expect(keys).toContain(key);
      expect(new Set(tokens.edges.map((edge) => edge.node.username))).toEqual(new Set(['admin', 'alice', 'bob', 'carol', 'ivan', 'prometheus']));
    });

    it('a non-admin’s tokenHistory without a filter shows only their own entries', async () => {
      // Something of alice's happened that bob must not see.
      await victim('alice');
      const { tokenHistory } = expectNoErrors(await server.request(HISTORY, { first: 200 }, { token: secrets.bob }));
      const nodes = tokenHistory.edges.map((edge) => edge.node);
      expect(nodes).toContainEqual(expect.objectContaining({ token: mainKeys.bob, username: 'bob', actor: '<bootstrap>', action: 'CREATE' }));
      expect(new Set(nodes.map((node) => node.username))).toEqual(new Set(['bob']));
      expect(tokenHistory.totalCount).toBe(nodes.length);
    });
  });

  describe('invalidateTokens scope of action', () => {
    it.each(['alice', 'carol'] as const)('allUsers: true by a non-admin (%s) is PermissionDeniedError and changes nothing', async (caller) => {
      const before = await everyValidKey(server);
      const response = await server.request(INVALIDATE, { input: { allUsers: true, reason: 'nope' } }, { token: secrets[caller] });
      expect(expectNoErrors(response).invalidateTokens).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      expect(await everyValidKey(server)).toEqual(before);
      expect(await status(secrets[caller]!)).toBe(200);
    });

    it('allUsers together with usernames is an InvalidInputError, even for an admin, and changes nothing', async () => {
      const before = await everyValidKey(server);
      const response = await server.request(INVALIDATE, { input: { allUsers: true, usernames: ['alice'], reason: 'both' } }, { token: secrets.admin });
      expect(expectNoErrors(response).invalidateTokens).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'usernames' });
      expect(await everyValidKey(server)).toEqual(before);
    });
  });

  describe('generateToken rules', () => {
    it('the bootstrap secret must name the owner: InvalidInputError on field username', async () => {
      const result = await generate(server, BOOTSTRAP_TOKEN, { name: unique('ownerless'), scopes: ['read:all'] });
      expect(result).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'username' });
    });

    it('a non-admin may not request scopes broader than its own: ScopesTooBroadError', async () => {
      const name = unique('broad');
      // bob holds user:token and read:all, not write:all.
      const result = await generate(server, secrets.bob!, { name, scopes: ['read:all', 'write:all'] });
      expect(result).toMatchObject({ __typename: 'ScopesTooBroadError', code: 'SCOPES_TOO_BROAD' });
      const wider = await generate(server, secrets.bob!, { name, scopes: ['read:all', 'write:all', 'exec:admin'] });
      expect(expectTypename(wider, 'ScopesTooBroadError').scopes.slice().sort()).toEqual(['exec:admin', 'write:all']);
      expect((await validTokensOf('bob')).filter((token) => token.name === name)).toEqual([]);
    });
  });

  describe('node(id)', () => {
    it('another user’s token is null for bob, and the token for the admin and for its owner', async () => {
      const owned = await victim('alice');
      const adminView = await lookup(server, owned.token.key, secrets.admin!);
      expect(adminView).not.toBeNull();
      const id = adminView!.id;
      const expected = { __typename: 'Token', id, key: owned.token.key, username: 'alice' };

      const asBob = await server.request(NODE, { id }, { token: secrets.bob });
      expectNoErrors(asBob);
      expect(asBob.data).toEqual({ node: null });

      const asAdmin = await server.request(NODE, { id }, { token: secrets.admin });
      expectNoErrors(asAdmin);
      expect(asAdmin.data?.node).toEqual(expected);

      const asAlice = await server.request(NODE, { id }, { token: secrets.alice });
      expectNoErrors(asAlice);
      expect(asAlice.data?.node).toEqual(expected);
    });
  });
});
