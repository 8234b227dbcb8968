import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, TestClock, type TestServer } from '../support/harness.ts';
import { expectedVendorChecksum, registryWithCollisions } from '../support/generation.ts';
import {
  cast,
  expectNoErrors,
  generate,
  GENERATE,
  mint,
  minutesFromNow,
  revoke,
  rowCounts,
  VIEWER,
  type Cast,
  type GenerateResult,
  type GenerateTokenInput,
  type Minted,
} from '../support/operations.ts';

/** A generateToken result that is one of the typed errors. */
type GenerateError = Exclude<GenerateResult, Minted>;

function isError(result: GenerateResult): result is GenerateError {
  return result.__typename !== 'GenerateTokenPayload';
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Every value of a row as text, so that a search for the secret covers every column whatever its type. */
function columnTexts(row: object): string[] {
  return Object.values(row).map((value) =>
    value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : typeof value === 'bigint' ? value.toString() : JSON.stringify(value),
  );
}

describe.each(engines())('generateToken on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** The server's clock: moved to expire a token. */
  const clock = new TestClock();

  beforeAll(async () => {
    server = await startServer(engine, { clock });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  async function expectAuthenticates(minted: Minted, username: string) {
    const response = await server.request(VIEWER, {}, { token: minted.secret });
    expect(response.status).toBe(200);
    expect(response.data?.viewer).toEqual({ username, scopes: minted.token.scopes, isAdmin: false, tokenKey: minted.token.key });
  }

  /** Calls generateToken, expects the given typed error, and that neither table gained a row. */
  async function expectRejected(
    actor: string,
    input: GenerateTokenInput,
    expected: { __typename: GenerateError['__typename']; code: string; message?: string | RegExp; field?: string },
  ): Promise<GenerateError> {
    const before = await rowCounts(server);
    const error = await generate(server, actor, input);
    expect(error.__typename).toBe(expected.__typename);
    if (!isError(error)) throw new Error(`expected ${expected.__typename}, got a token`);
    expect(error.code).toBe(expected.code);
    if (typeof expected.message === 'string') expect(error.message).toBe(expected.message);
    if (expected.message instanceof RegExp) expect(error.message).toMatch(expected.message);
    if (expected.field !== undefined) expect(error.__typename === 'InvalidInputError' ? error.field : undefined).toBe(expected.field);
    expect(await rowCounts(server)).toEqual(before);
    return error;
  }

  describe('generator formats', () => {
    it('makes a 255-character vendor_checksum token by default, with a CRC32 base-62 checksum, that authenticates', async () => {
      const minted = await mint(server, people.alice, { name: 'vendor-default', scopes: ['read:all'] });
      const { secret } = minted;
      expect(secret).toHaveLength(255);
      expect(secret.startsWith('tsr_')).toBe(true);
      const body = secret.slice('tsr_'.length);
      expect(body).toMatch(/^[0-9A-Za-z]+$/);
      const entropy = body.slice(0, -6);
      expect(body.slice(-6)).toBe(expectedVendorChecksum(entropy));
      expect(minted.token.generatorId).toBe('vendor_checksum');
      await expectAuthenticates(minted, 'alice');
    });

    it('uses token_info.token_type as the vendor_checksum prefix', async () => {
      const minted = await mint(server, people.alice, { name: 'vendor-abc', tokenGeneratorId: 'vendor_checksum', tokenInfo: { token_type: 'abc' } });
      expect(minted.secret).toHaveLength(255);
      expect(minted.secret.startsWith('abc_')).toBe(true);
      const body = minted.secret.slice('abc_'.length);
      expect(body).toMatch(/^[0-9A-Za-z]+$/);
      expect(body.slice(-6)).toBe(expectedVendorChecksum(body.slice(0, -6)));
      await expectAuthenticates(minted, 'alice');
    });

    it('makes gt-{key}.{secret} gafaelfawr tokens whose key is the token key', async () => {
      const minted = await mint(server, people.alice, { name: 'gafaelfawr', tokenGeneratorId: 'gafaelfawr' });
      const match = /^gt-([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(minted.secret);
      expect(match, minted.secret).not.toBeNull();
      expect(match?.[1]).toBe(minted.token.key);
      expect(minted.token.generatorId).toBe('gafaelfawr');
      await expectAuthenticates(minted, 'alice');
    });

    it('makes 40-hex legacy_sha1 tokens, marked deprecated, that still authenticate', async () => {
      const minted = await mint(server, people.alice, { name: 'legacy', tokenGeneratorId: 'legacy_sha1' });
      expect(minted.secret).toMatch(/^[0-9a-f]{40}$/);
      expect(minted.token.deprecated).toBe(true);
      expect(minted.token.generatorId).toBe('legacy_sha1');
      await expectAuthenticates(minted, 'alice');
    });

    it('marks tokens of the other generators as not deprecated', async () => {
      const vendor = await mint(server, people.alice, { name: 'not-deprecated-1' });
      const gafaelfawr = await mint(server, people.alice, { name: 'not-deprecated-2', tokenGeneratorId: 'gafaelfawr' });
      expect(vendor.token.deprecated).toBe(false);
      expect(gafaelfawr.token.deprecated).toBe(false);
    });
  });

  it('stores only the SHA-256 of each secret, never the secret itself, in the token and history rows', async () => {
    const minted = [
      await mint(server, people.alice, { name: 'stored-vendor' }),
      await mint(server, people.alice, { name: 'stored-gafaelfawr', tokenGeneratorId: 'gafaelfawr' }),
      await mint(server, people.alice, { name: 'stored-legacy', tokenGeneratorId: 'legacy_sha1' }),
    ];
    const history = await server.tessera.db.tokenChangeHistoryEntry.findMany();
    expect(history.length).toBeGreaterThan(0);
    for (const { secret, token } of minted) {
      const row = await server.tessera.db.token.findUnique({ where: { key: token.key } });
      expect(row).not.toBeNull();
      expect(row?.secretHash).toBe(sha256(secret));
      for (const text of columnTexts(row!)) expect(text).not.toContain(secret);
      expect(history.some((entry) => entry.token === token.key && entry.action === 'create')).toBe(true);
      for (const entry of history) {
        for (const text of columnTexts(entry)) expect(text).not.toContain(secret);
      }
    }
  });

  describe('typed errors, with nothing written', () => {
    it('rejects an unknown generator', async () => {
      await expectRejected(
        people.alice,
        { name: 'unknown-generator', tokenGeneratorId: 'no_such_generator' },
        {
          __typename: 'UnknownTokenGeneratorError',
          code: 'UNKNOWN_TOKEN_GENERATOR',
          message: 'Could not find the token generator to generate the token.',
        },
      );
    });

    it('rejects token_info without the key vendor_checksum needs', async () => {
      await expectRejected(
        people.alice,
        { name: 'missing-info', tokenGeneratorId: 'vendor_checksum', tokenInfo: {} },
        {
          __typename: 'MissingTokenInfoKeyError',
          code: 'MISSING_TOKEN_INFO_KEY',
          message: 'The token_info dictionary must contain a token_type key.',
        },
      );
    });

    it('rejects token_info a generator cannot use', async () => {
      await expectRejected(
        people.alice,
        { name: 'legacy-missing-info', tokenGeneratorId: 'legacy_sha1', tokenInfo: {} },
        {
          __typename: 'MissingTokenInfoKeyError',
          code: 'MISSING_TOKEN_INFO_KEY',
          message: 'The token_info dictionary must contain a user key.',
        },
      );
      await expectRejected(
        people.alice,
        { name: 'bad-prefix', tokenInfo: { token_type: 'Not A Prefix' } },
        { __typename: 'InvalidInputError', code: 'INVALID_INPUT' },
      );
    });

    it("rejects a non-admin acting on someone else's tokens, or without user:token", async () => {
      await expectRejected(people.alice, { username: 'bob', name: 'not-yours' }, { __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      const readOnly = await mint(server, people.alice, { name: 'read-only', scopes: ['read:all'] });
      await expectRejected(
        readOnly.secret,
        { name: 'from-read-only', scopes: ['read:all'] },
        { __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' },
      );
    });

    it('rejects unknown scopes', async () => {
      await expectRejected(
        people.admin,
        { username: 'alice', name: 'unknown-scope', scopes: ['read:all', 'launch:rockets'] },
        {
          __typename: 'UnknownScopeError',
          code: 'UNKNOWN_SCOPE',
        },
      );
    });

    it('rejects scopes broader than a non-admin caller holds', async () => {
      const error = await expectRejected(
        people.alice,
        { name: 'too-broad', scopes: ['read:all', 'write:all'] },
        {
          __typename: 'ScopesTooBroadError',
          code: 'SCOPES_TOO_BROAD',
        },
      );
      expect(error.message).toContain('broader than your current scopes');
      // And the admin scope itself, which a non-admin must never be able to grant itself.
      await expectRejected(people.alice, { name: 'escalate', scopes: ['admin:token'] }, { __typename: 'ScopesTooBroadError', code: 'SCOPES_TOO_BROAD' });
    });

    it('rejects a USER token name already used by a valid token of the owner, and frees it once that token is revoked', async () => {
      const first = await mint(server, people.alice, { name: 'reusable' });
      await expectRejected(people.alice, { name: 'reusable' }, { __typename: 'DuplicateTokenNameError', code: 'DUPLICATE_TOKEN_NAME' });
      // The same name for another owner is fine.
      await mint(server, people.bob, { name: 'reusable' });
      await revoke(server, people.alice, first.token.key);
      const second = await mint(server, people.alice, { name: 'reusable' });
      expect(second.token.name).toBe('reusable');
      expect(second.token.key).not.toBe(first.token.key);
    });

    it('frees the name of an expired USER token for a new one, leaving the expired token as it was', async () => {
      const old = await mint(server, people.alice, { name: 'expiring', expires: minutesFromNow(10, clock) });
      await expectRejected(people.alice, { name: 'expiring' }, { __typename: 'DuplicateTokenNameError', code: 'DUPLICATE_TOKEN_NAME' });
      // Time passes: the server's clock moves past the expiry (later tests take their times from the same clock).
      clock.advance(11 * 60_000);
      expect((await server.request(VIEWER, {}, { token: old.secret })).status).toBe(401);
      const fresh = await mint(server, people.alice, { name: 'expiring' });
      expect(fresh.token.name).toBe('expiring');
      expect(await server.tessera.db.token.findUnique({ where: { key: old.token.key } })).toMatchObject({ name: 'expiring', valid: true });
      // The new holder is usable, so the name is taken again.
      await expectRejected(people.alice, { name: 'expiring' }, { __typename: 'DuplicateTokenNameError', code: 'DUPLICATE_TOKEN_NAME' });
    });

    it('rejects an expiry less than 5 minutes ahead', async () => {
      await expectRejected(
        people.alice,
        { name: 'too-soon', expires: minutesFromNow(4, clock) },
        { __typename: 'ExpiryTooSoonError', code: 'EXPIRY_TOO_SOON' },
      );
      await expectRejected(
        people.alice,
        { name: 'in-the-past', expires: minutesFromNow(-60, clock) },
        { __typename: 'ExpiryTooSoonError', code: 'EXPIRY_TOO_SOON' },
      );
      const later = await mint(server, people.alice, { name: 'later-enough', expires: minutesFromNow(10, clock) });
      expect(later.token.expiresAt).not.toBeNull();
    });

    it.each(['Bad_User', '123', 'trailing-', 'double--dash', 'a'.repeat(65)])('rejects the username %j', async (username) => {
      await expectRejected(people.admin, { username, name: 'bad-user' }, { __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'username' });
    });

    it('rejects a USER token without a name', async () => {
      await expectRejected(people.alice, { tokenType: 'USER' }, { __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'name' });
    });

    it('rejects a SERVICE token for a username that does not start with bot-', async () => {
      await expectRejected(
        people.admin,
        { username: 'carol', tokenType: 'SERVICE' },
        { __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'username' },
      );
      const bot = await mint(server, people.admin, { username: 'bot-builder', tokenType: 'SERVICE', scopes: ['read:all'] });
      expect(bot.token.tokenType).toBe('SERVICE');
    });

    it('rejects SERVICE and SESSION tokens requested by a non-admin', async () => {
      await expectRejected(people.alice, { tokenType: 'SERVICE' }, { __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      await expectRejected(people.alice, { tokenType: 'SESSION' }, { __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      const session = await mint(server, people.admin, { username: 'alice', tokenType: 'SESSION' });
      expect(session.token.tokenType).toBe('SESSION');
    });

    it('rejects a name on a non-USER token and an INTERNAL token without a service', async () => {
      const parent = await mint(server, people.alice, { name: 'internal-parent', scopes: ['read:all'] });
      await expectRejected(
        people.alice,
        { tokenType: 'NOTEBOOK', parent: parent.token.key, name: 'named-notebook' },
        {
          __typename: 'InvalidInputError',
          code: 'INVALID_INPUT',
          field: 'name',
        },
      );
      await expectRejected(
        people.alice,
        { tokenType: 'INTERNAL', parent: parent.token.key },
        { __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'service' },
      );
    });

    it('rejects a NOTEBOOK token without a parent', async () => {
      await expectRejected(people.alice, { tokenType: 'NOTEBOOK' }, { __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'parent' });
    });

    it("rejects a NOTEBOOK token whose parent is someone else's or revoked", async () => {
      await expectRejected(
        people.alice,
        { tokenType: 'NOTEBOOK', parent: people.bobKey },
        { __typename: 'InvalidParentTokenError', code: 'INVALID_PARENT_TOKEN' },
      );
      // Even an admin cannot hang alice's notebook token under bob's token.
      await expectRejected(
        people.admin,
        { username: 'alice', tokenType: 'NOTEBOOK', parent: people.bobKey },
        {
          __typename: 'InvalidParentTokenError',
          code: 'INVALID_PARENT_TOKEN',
        },
      );
      const doomed = await mint(server, people.alice, { name: 'doomed-parent', scopes: ['read:all'] });
      await revoke(server, people.alice, doomed.token.key);
      await expectRejected(
        people.alice,
        { tokenType: 'NOTEBOOK', parent: doomed.token.key },
        { __typename: 'InvalidParentTokenError', code: 'INVALID_PARENT_TOKEN' },
      );
      await expectRejected(
        people.alice,
        { tokenType: 'NOTEBOOK', parent: 'no-such-key-0123456789' },
        { __typename: 'InvalidParentTokenError', code: 'INVALID_PARENT_TOKEN' },
      );
    });

    it("rejects a child token with scopes beyond its parent's, even ones the caller holds", async () => {
      const parent = await mint(server, people.alice, { name: 'narrow-parent', scopes: ['read:all'] });
      // alice holds exec:notebook herself, so only the parent rule can refuse it.
      const error = await expectRejected(
        people.alice,
        { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['exec:notebook'] },
        {
          __typename: 'ScopesTooBroadError',
          code: 'SCOPES_TOO_BROAD',
        },
      );
      expect(error.message).toContain('exec:notebook');
      const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
      expect(child.token.parentKey).toBe(parent.token.key);
      expect(child.token.scopes).toEqual(['read:all']);
    });

    it('rejects a child expiring after its parent, and gives a child without expiry its parent’s', async () => {
      const parent = await mint(server, people.alice, { name: 'expiring-parent', scopes: ['read:all'], expires: minutesFromNow(60, clock) });
      expect(parent.token.expiresAt).not.toBeNull();
      await expectRejected(
        people.alice,
        { tokenType: 'NOTEBOOK', parent: parent.token.key, expires: minutesFromNow(120, clock) },
        {
          __typename: 'InvalidParentTokenError',
          code: 'INVALID_PARENT_TOKEN',
        },
      );
      const inheriting = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key });
      expect(inheriting.token.expiresAt).toBe(parent.token.expiresAt);
      const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', service: 'portal', parent: parent.token.key, scopes: ['read:all'] });
      expect(internal.token.expiresAt).toBe(parent.token.expiresAt);
    });

    it.each([0, 101, -1])('rejects maxAttempts %i', async (maxAttempts) => {
      await expectRejected(
        people.alice,
        { name: `attempts-${maxAttempts}`, maxAttempts },
        { __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'maxAttempts' },
      );
    });

    it('accepts maxAttempts at both ends of 1 to 100', async () => {
      await mint(server, people.alice, { name: 'attempts-1', maxAttempts: 1 });
      await mint(server, people.alice, { name: 'attempts-100', maxAttempts: 100 });
    });
  });

  it('gives up after maxAttempts collisions with TokenGenerationError, writing nothing', async () => {
    const { generators, collider } = registryWithCollisions();
    const colliding = await startServer(engine, { generators });
    try {
      const first = await mint(colliding, BOOTSTRAP_TOKEN, { username: 'alice', name: 'collide-1', tokenGeneratorId: 'always_collides' });
      expect(collider.calls).toBe(1);
      expect(first.token.generatorId).toBe('always_collides');
      const before = await rowCounts(colliding);
      expect(before).toEqual({ tokens: 1, history: 1 });

      collider.calls = 0;
      const result = await generate(colliding, BOOTSTRAP_TOKEN, { username: 'alice', name: 'collide-2', tokenGeneratorId: 'always_collides', maxAttempts: 3 });
      expect(result).toMatchObject({
        __typename: 'TokenGenerationError',
        code: 'TOKEN_GENERATION_FAILED',
        message: 'Could not create a unique API token. Please try again.',
      });
      expect(collider.calls).toBe(3);
      expect(await rowCounts(colliding)).toEqual(before);
      expect(await colliding.tessera.db.token.count({ where: { name: 'collide-2' } })).toBe(0);

      // The default of 20 attempts applies when maxAttempts is omitted.
      collider.calls = 0;
      const defaulted = await generate(colliding, BOOTSTRAP_TOKEN, { username: 'alice', name: 'collide-3', tokenGeneratorId: 'always_collides' });
      expect(defaulted.__typename).toBe('TokenGenerationError');
      expect(collider.calls).toBe(20);
      expect(await rowCounts(colliding)).toEqual(before);
    } finally {
      await colliding.close();
    }
  });

  it('lets exactly one of 20 concurrent requests for the same name win', async () => {
    const before = await rowCounts(server);
    const results = await Promise.all(Array.from({ length: 20 }, () => server.request(GENERATE, { input: { name: 'race' } }, { token: people.alice })));
    for (const response of results) expectNoErrors(response);
    const typenames = results.map((response) => response.data?.generateToken.__typename);
    expect(typenames.filter((name) => name === 'GenerateTokenPayload')).toHaveLength(1);
    expect(typenames.filter((name) => name === 'DuplicateTokenNameError')).toHaveLength(19);
    expect(await server.tessera.db.token.count({ where: { username: 'alice', name: 'race' } })).toBe(1);
    expect(await server.tessera.db.tokenChangeHistoryEntry.count({ where: { username: 'alice', tokenName: 'race', action: 'create' } })).toBe(1);
    expect(await rowCounts(server)).toEqual({ tokens: before.tokens + 1, history: before.history + 1 });
  });

  it('writes neither the token nor its history entry when the history insert fails, and masks the error', async () => {
    const db = server.tessera.db;
    if (engine === 'sqlite') {
      await db.$executeRawUnsafe(`CREATE TRIGGER reject_history BEFORE INSERT ON token_change_history BEGIN SELECT RAISE(ABORT, 'forced failure'); END;`);
    } else {
      await db.$executeRawUnsafe(
        `CREATE OR REPLACE FUNCTION reject_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END; $$`,
      );
      await db.$executeRawUnsafe(`CREATE TRIGGER reject_history BEFORE INSERT ON token_change_history FOR EACH ROW EXECUTE FUNCTION reject_history()`);
    }
    let dropped = false;
    const dropTrigger = async () => {
      if (dropped) return;
      dropped = true;
      if (engine === 'sqlite') {
        await db.$executeRawUnsafe('DROP TRIGGER IF EXISTS reject_history');
      } else {
        await db.$executeRawUnsafe('DROP TRIGGER IF EXISTS reject_history ON token_change_history');
        await db.$executeRawUnsafe('DROP FUNCTION IF EXISTS reject_history()');
      }
    };
    try {
      const before = await rowCounts(server);
      const response = await server.request(GENERATE, { input: { name: 'atomic' } }, { token: people.alice });
      expect(response.data).toBeNull();
      expect(response.errors?.length).toBeGreaterThan(0);
      expect(response.errors?.[0]?.message).toBe('Unexpected error.');
      expect(JSON.stringify(response.errors)).not.toContain('forced failure');
      expect(await db.token.count({ where: { name: 'atomic' } })).toBe(0);
      expect(await rowCounts(server)).toEqual(before);

      await dropTrigger();
      const retried = await mint(server, people.alice, { name: 'atomic' });
      expect(retried.token.name).toBe('atomic');
      expect(await db.tokenChangeHistoryEntry.count({ where: { token: retried.token.key, action: 'create' } })).toBe(1);
    } finally {
      await dropTrigger();
    }
  });
});
