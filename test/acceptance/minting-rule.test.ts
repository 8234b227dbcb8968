/**
 * The minting rule (SPEC "Who may do what"): whatever mints a secret
 * (generate, derive, rotate) or changes a token (edit) follows one rule. A
 * narrow token of a user cannot rotate, extend or lift the policy of that
 * user's broader token, nor rotate a SESSION token; what a restricted token
 * mints is never less restricted than it; a child's scopes follow its
 * parent's down; a token replaced by rotation cannot outlive its grace
 * period. Real server over HTTP, every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  editToken,
  expectNoErrors,
  expectTypename,
  generate,
  historyEntries,
  INTROSPECT_ACCESS,
  lookup,
  mint,
  minutesFromNow,
  revoke,
  rotateToken,
  rowCounts,
  VIEWER,
  type Cast,
} from '../support/operations.ts';

/** Blocks every method on every resource. */
const BLOCK_ALL = { resources: { '*': { block: ['*'] } } };
/** Blocks everything too, written differently: at least as restrictive as BLOCK_ALL without being equal to it. */
const BLOCK_ALL_TWICE = { resources: { '*': { block: ['*'] }, repos: { '*': { block: ['*'] } } } };
/** Blocks only DELETE on repos. */
const NO_DELETE_REPOS = { resources: { repos: { '*': { block: ['DELETE'] } } } };

describe.each(engines())('the minting rule on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  let serial = 0;
  const unique = (prefix: string) => `${prefix}-${(serial += 1)}`;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  /** A token of alice's made by the bootstrap secret (as an admin may), with whatever scopes, type and policy. */
  function issued(input: { scopes: string[]; policy?: Record<string, unknown>; expires?: string; tokenType?: 'SESSION' | 'USER' }) {
    const { tokenType = 'USER', ...rest } = input;
    return mint(server, BOOTSTRAP_TOKEN, { username: 'alice', tokenType, ...(tokenType === 'USER' ? { name: unique('issued') } : {}), ...rest });
  }

  /** The token's row as stored, with its scope rows. */
  async function stored(key: string) {
    const row = await server.tessera.db.token.findUniqueOrThrow({ where: { key } });
    const scopeRows = await server.tessera.db.tokenScope.findMany({ where: { tokenKey: key }, orderBy: { scope: 'asc' } });
    return { ...row, scopeRows: scopeRows.map((scopeRow) => scopeRow.scope) };
  }

  async function status(secret: string): Promise<number> {
    return (await server.request(VIEWER, {}, { token: secret })).status;
  }

  describe('a narrow token of a user and that user’s broad token', () => {
    it('the narrow token cannot rotate the broad one: PermissionDeniedError, no new secret, nothing written', async () => {
      const broad = await issued({ scopes: ['admin:token', 'read:all', 'user:token'] });
      const narrow = await issued({ scopes: ['user:token'] });
      const before = await rowCounts(server);
      const rowBefore = await stored(broad.token.key);

      const result = await rotateToken(server, narrow.secret, { key: broad.token.key });
      expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      expect(result).not.toHaveProperty('secret');
      expect(await rowCounts(server)).toEqual(before);
      expect(await stored(broad.token.key)).toEqual(rowBefore);
      expect(await status(broad.secret)).toBe(200);
      // With a grace period as well.
      expect(await rotateToken(server, narrow.secret, { key: broad.token.key, gracePeriodSeconds: 3600 })).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect(await rowCounts(server)).toEqual(before);
    });

    it('the narrow token cannot edit the broad one to live forever or lift its policy: refused, nothing changed', async () => {
      const broad = await issued({ scopes: ['admin:token', 'read:all', 'user:token'], policy: NO_DELETE_REPOS, expires: daysFromNow(7, server.clock) });
      const narrow = await issued({ scopes: ['user:token'] });
      const before = await rowCounts(server);
      const rowBefore = await stored(broad.token.key);

      for (const input of [{ expires: null, policy: {} }, { expires: null }, { policy: {} }, { note: 'harmless?' }]) {
        const result = await editToken(server, narrow.secret, { key: broad.token.key, ...input });
        expect(result, JSON.stringify(input)).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      }
      expect(await rowCounts(server)).toEqual(before);
      expect(await stored(broad.token.key)).toEqual(rowBefore);
    });

    it('the narrow token may still revoke the broad one (an owner revokes any of its own)', async () => {
      const broad = await issued({ scopes: ['read:all', 'user:token'] });
      const narrow = await issued({ scopes: ['user:token'] });
      expect(await revoke(server, narrow.secret, broad.token.key)).toEqual([broad.token.key]);
      expect(await status(broad.secret)).toBe(401);
    });

    it('a token within the caller’s scopes is still edited and rotated as before', async () => {
      const narrow = await issued({ scopes: ['read:all', 'user:token'] });
      const within = await issued({ scopes: ['read:all'] });
      expectTypename(await editToken(server, narrow.secret, { key: within.token.key, note: 'fine' }), 'EditTokenPayload');
      const rotated = expectTypename(await rotateToken(server, narrow.secret, { key: within.token.key }), 'RotateTokenPayload');
      expect(rotated.token.scopes).toEqual(['read:all']);
    });
  });

  describe('SESSION tokens', () => {
    it('a non-admin cannot rotate its own SESSION token, with it or with another of its tokens', async () => {
      const session = await issued({ tokenType: 'SESSION', scopes: ['read:all', 'user:token'] });
      const before = await rowCounts(server);
      for (const caller of [session.secret, people.alice]) {
        const result = await rotateToken(server, caller, { key: session.token.key });
        expect(result).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      }
      expect(await rowCounts(server)).toEqual(before);
      expect(await status(session.secret)).toBe(200);
      // An admin still may.
      expectTypename(await rotateToken(server, people.admin, { key: session.token.key }), 'RotateTokenPayload');
    });
  });

  describe('a caller whose token carries a policy', () => {
    it('mints USER tokens that carry its policy, or one at least as restrictive; {} or a looser one is refused', async () => {
      const blocked = await issued({ scopes: ['read:all', 'user:token'], policy: BLOCK_ALL });
      const before = await rowCounts(server);
      for (const policy of [{}, NO_DELETE_REPOS, { resources: { '*': { block: ['*'], allow: ['GET'] } } }]) {
        const refused = await generate(server, blocked.secret, { name: unique('loose'), scopes: ['read:all'], policy });
        expect(refused, JSON.stringify(policy)).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      }
      expect(await rowCounts(server)).toEqual(before);

      const inherited = await mint(server, blocked.secret, { name: unique('inherits'), scopes: ['read:all'] });
      expect(inherited.token.policy).toEqual(BLOCK_ALL);
      expect((await stored(inherited.token.key)).policy).toEqual(BLOCK_ALL);
      const stricter = await mint(server, blocked.secret, { name: unique('stricter'), scopes: ['read:all'], policy: BLOCK_ALL_TWICE });
      expect(stricter.token.policy).toEqual(BLOCK_ALL_TWICE);
    });

    it('derives a NOTEBOOK child that inherits its policy: introspection says DELETE repos is not allowed', async () => {
      const blocked = await issued({ scopes: ['read:all', 'user:token'], policy: BLOCK_ALL });
      const child = await mint(server, blocked.secret, { tokenType: 'NOTEBOOK', parent: blocked.token.key, scopes: ['read:all'] });
      expect(child.token.policy).toEqual(BLOCK_ALL);
      const answer = expectNoErrors(
        await server.request(INTROSPECT_ACCESS, { token: child.secret, access: { resource: 'repos', method: 'DELETE' } }, { token: people.admin }),
      ).introspectToken;
      expect(answer).toMatchObject({ active: true, key: child.token.key, policy: BLOCK_ALL, allowed: false });

      const before = await rowCounts(server);
      const loose = await generate(server, blocked.secret, { tokenType: 'NOTEBOOK', parent: blocked.token.key, scopes: ['read:all'], policy: {} });
      expect(loose).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
      expect(await rowCounts(server)).toEqual(before);
    });

    it('a child inherits its parent’s policy even when the caller’s own token has none, and may not lift it', async () => {
      const parent = await issued({ scopes: ['read:all', 'user:token'], policy: NO_DELETE_REPOS });
      const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
      expect(child.token.policy).toEqual(NO_DELETE_REPOS);
      const answer = expectNoErrors(
        await server.request(INTROSPECT_ACCESS, { token: child.secret, access: { resource: 'repos', method: 'DELETE' } }, { token: people.admin }),
      ).introspectToken;
      expect(answer.allowed).toBe(false);
      const lifted = await generate(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'], policy: {} });
      expect(lifted).toMatchObject({ __typename: 'PermissionDeniedError', code: 'PERMISSION_DENIED' });
    });

    it('cannot rotate, or edit, a token of its owner that is less restricted than itself, nor edit its own policy away', async () => {
      const blocked = await issued({ scopes: ['read:all', 'user:token'], policy: BLOCK_ALL });
      const open = await issued({ scopes: ['read:all'] });
      const before = await rowCounts(server);
      expect(await rotateToken(server, blocked.secret, { key: open.token.key })).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect(await editToken(server, blocked.secret, { key: open.token.key, note: 'n' })).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect(await editToken(server, blocked.secret, { key: blocked.token.key, policy: {} })).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect(await rowCounts(server)).toEqual(before);
      expect((await stored(blocked.token.key)).policy).toEqual(BLOCK_ALL);
      // Tightening is fine, and so is rotating itself: the new token keeps the policy.
      expectTypename(await editToken(server, blocked.secret, { key: open.token.key, policy: BLOCK_ALL_TWICE }), 'EditTokenPayload');
      const rotated = expectTypename(await rotateToken(server, blocked.secret, { key: blocked.token.key, gracePeriodSeconds: 600 }), 'RotateTokenPayload');
      expect(rotated.token.policy).toEqual(BLOCK_ALL);
    });
  });

  describe('narrowing a parent’s scopes', () => {
    it('narrows every descendant to what its parent keeps, in its row and its scope rows, each with an EDIT entry', async () => {
      const parent = await mint(server, people.alice, { name: unique('parent'), scopes: ['exec:notebook', 'read:all'] });
      const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['exec:notebook', 'read:all'] });
      const grandchild = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: child.token.key, scopes: ['exec:notebook'] });
      const untouched = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });

      const edited = expectTypename(await editToken(server, people.alice, { key: parent.token.key, scopes: ['read:all'] }), 'EditTokenPayload');
      expect(edited.token.scopes).toEqual(['read:all']);

      expect(await stored(child.token.key)).toMatchObject({ scopes: ['read:all'], scopeRows: ['read:all'], valid: true });
      expect(await stored(grandchild.token.key)).toMatchObject({ scopes: [], scopeRows: [], valid: true });
      expect(await stored(untouched.token.key)).toMatchObject({ scopes: ['read:all'], scopeRows: ['read:all'] });
      expect((await lookup(server, child.token.key))?.scopes).toEqual(['read:all']);

      const edits = (await historyEntries(server, { username: 'alice', action: 'EDIT' })).filter((entry) =>
        [parent.token.key, child.token.key, grandchild.token.key, untouched.token.key].includes(entry.token),
      );
      const byToken = Object.fromEntries(edits.map((entry) => [entry.token, entry]));
      expect(edits).toHaveLength(3);
      expect(byToken[child.token.key]).toMatchObject({ actor: 'alice', scopes: ['read:all'], oldScopes: ['exec:notebook', 'read:all'], oldExpires: null });
      expect(byToken[grandchild.token.key]).toMatchObject({ actor: 'alice', scopes: [], oldScopes: ['exec:notebook'], parent: child.token.key });
      expect(byToken[child.token.key]!.eventTime).toBe(byToken[parent.token.key]!.eventTime);
      expect(byToken[child.token.key]!.reduced).toMatchObject({ action: 'edit', scopes: ['read:all'], old_scopes: ['exec:notebook', 'read:all'] });

      // The narrowed child now authenticates with what it kept.
      const viewer = expectNoErrors(await server.request(VIEWER, {}, { token: child.secret })).viewer;
      expect(viewer.scopes).toEqual(['read:all']);
    });
  });

  describe('a token replaced by rotation', () => {
    it('cannot be edited to outlive its grace period, by itself or an admin; shortening it still works', async () => {
      const old = await mint(server, people.alice, { name: unique('rotating'), scopes: ['read:all', 'user:token'], expires: daysFromNow(10, server.clock) });
      const rotated = expectTypename(await rotateToken(server, people.alice, { key: old.token.key, gracePeriodSeconds: 3600 }), 'RotateTokenPayload');
      const graceEnd = rotated.replaced.expiresAt;
      const before = await rowCounts(server);

      for (const [caller, expires] of [
        [old.secret, null],
        [old.secret, daysFromNow(5, server.clock)],
        [people.admin, null],
        [people.admin, minutesFromNow(120, server.clock)],
      ] as const) {
        const result = await editToken(server, caller, { key: old.token.key, expires });
        expect(result, String(expires)).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'expires' });
      }
      expect(await rowCounts(server)).toEqual(before);
      expect((await lookup(server, old.token.key))?.expiresAt).toBe(graceEnd);

      const shorter = minutesFromNow(30, server.clock);
      const shortened = expectTypename(await editToken(server, old.secret, { key: old.token.key, expires: shorter }), 'EditTokenPayload');
      expect(shortened.token.expiresAt).toBe(shorter);
      // Its successor is not replaced and lives as it is told.
      expectTypename(await editToken(server, rotated.secret, { key: rotated.token.key, expires: null }), 'EditTokenPayload');
    });
  });
});
