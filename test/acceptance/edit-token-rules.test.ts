/**
 * editToken's refusals (SPEC "Lifecycle", "Who may do what", "Policies"):
 * only USER tokens, only one's own, never wider scopes, known scopes, a far
 * enough expiry, only active tokens, djblets' policy messages. Each refusal
 * is a typed error and changes nothing. Real server over HTTP, every engine.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  editToken,
  expectTypename,
  minutesFromNow,
  mint,
  revoke,
  rowCounts,
  type Cast,
  type EditResult,
  type EditTokenInput,
} from '../support/operations.ts';

describe.each(engines())('editToken refusals on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  let counts: { tokens: number; history: number };

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  /** Every refusal below must leave both tables as they were before the attempt. */
  beforeEach(async () => {
    counts = await rowCounts(server);
  });

  let serial = 0;
  /** A fresh USER token of alice's, made before the counts of the attempt are taken. */
  async function alicesToken(input: { expires?: string } = {}) {
    const token = await mint(server, people.alice, { name: `r${(serial += 1)}`, scopes: ['read:all'], expires: input.expires });
    counts = await rowCounts(server);
    return token.token.key;
  }

  /** Edits as `actor` and expects the refusal `typename` with `code`, and no change at all. */
  async function refused<Name extends NonNullable<EditResult['__typename']>>(actor: string, input: EditTokenInput, typename: Name, code: string) {
    const error = expectTypename(await editToken(server, actor, input), typename);
    expect(error).toMatchObject({ code });
    expect(await rowCounts(server)).toEqual(counts);
    return error;
  }

  it('edits only USER tokens: a NOTEBOOK, INTERNAL, SESSION or SERVICE key is INVALID_INPUT on the key', async () => {
    const parent = await mint(server, people.alice, { name: 'parent', scopes: ['exec:notebook', 'read:all'] });
    const notebook = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
    const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: parent.token.key, service: 'svc', scopes: ['read:all'] });
    const session = await mint(server, people.admin, { username: 'alice', tokenType: 'SESSION', scopes: ['read:all'] });
    const service = await mint(server, people.admin, { username: 'bot-x', tokenType: 'SERVICE', scopes: ['read:all'] });
    counts = await rowCounts(server);
    for (const [actor, key] of [
      [people.alice, notebook.token.key],
      [people.alice, internal.token.key],
      [people.admin, session.token.key],
      [people.admin, service.token.key],
    ] as const) {
      const error = await refused(actor, { key, note: 'edited' }, 'InvalidInputError', 'INVALID_INPUT');
      expect(error.field).toBe('key');
    }
  });

  it('answers TOKEN_NOT_FOUND for someone else’s token (no existence leak) and for a key that does not exist', async () => {
    const bobs = await mint(server, BOOTSTRAP_TOKEN, { username: 'bob', name: 'private', scopes: ['read:all'] });
    counts = await rowCounts(server);
    const someoneElses = await refused(people.alice, { key: bobs.token.key, name: 'mine' }, 'TokenNotFoundError', 'TOKEN_NOT_FOUND');
    expect(someoneElses.key).toBe(bobs.token.key);
    const missing = await refused(people.alice, { key: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'mine' }, 'TokenNotFoundError', 'TOKEN_NOT_FOUND');
    // The same answer for both but the key it echoes.
    expect(someoneElses.message.replace(bobs.token.key, '<key>')).toBe(missing.message.replace('AAAAAAAAAAAAAAAAAAAAAA', '<key>'));
    expect(someoneElses.message).not.toContain('bob');
  });

  it('needs user:token: a token without it may not edit even itself', async () => {
    const plain = await mint(server, people.alice, { name: 'plain', scopes: ['read:all'] });
    counts = await rowCounts(server);
    await refused(plain.secret, { key: plain.token.key, note: 'x' }, 'PermissionDeniedError', 'PERMISSION_DENIED');
  });

  it('refuses scopes broader than the caller’s (SCOPES_TOO_BROAD) but lets an admin grant them', async () => {
    const key = await alicesToken();
    const error = await refused(people.alice, { key, scopes: ['read:all', 'write:all'] }, 'ScopesTooBroadError', 'SCOPES_TOO_BROAD');
    expect(error.scopes).toEqual(['write:all']);
    await refused(people.alice, { key, scopes: ['admin:token'] }, 'ScopesTooBroadError', 'SCOPES_TOO_BROAD');
    const granted = expectTypename(await editToken(server, people.admin, { key, scopes: ['read:all', 'write:all'] }), 'EditTokenPayload');
    expect(granted.token.scopes).toEqual(['read:all', 'write:all']);
  });

  it('refuses unknown scopes (UNKNOWN_SCOPE), naming them', async () => {
    const key = await alicesToken();
    const error = await refused(people.alice, { key, scopes: ['read:all', 'nope:x'] }, 'UnknownScopeError', 'UNKNOWN_SCOPE');
    expect(error.scopes).toEqual(['nope:x']);
    await refused(people.admin, { key, scopes: ['nope:x'] }, 'UnknownScopeError', 'UNKNOWN_SCOPE');
  });

  it('refuses an expiry less than 5 minutes ahead (EXPIRY_TOO_SOON), including one in the past', async () => {
    const key = await alicesToken();
    await refused(people.alice, { key, expires: minutesFromNow(4, server.clock) }, 'ExpiryTooSoonError', 'EXPIRY_TOO_SOON');
    await refused(people.alice, { key, expires: minutesFromNow(-60, server.clock) }, 'ExpiryTooSoonError', 'EXPIRY_TOO_SOON');
    expectTypename(await editToken(server, people.alice, { key, expires: minutesFromNow(6, server.clock) }), 'EditTokenPayload');
  });

  it('refuses to edit a revoked token or an expired one (TOKEN_NOT_ACTIVE)', async () => {
    const revokedKey = await alicesToken();
    await revoke(server, people.alice, revokedKey);
    counts = await rowCounts(server);
    const revoked = await refused(people.alice, { key: revokedKey, name: 'again' }, 'TokenNotActiveError', 'TOKEN_NOT_ACTIVE');
    expect(revoked.key).toBe(revokedKey);
    await refused(people.admin, { key: revokedKey, expires: null }, 'TokenNotActiveError', 'TOKEN_NOT_ACTIVE');

    const expiredKey = await alicesToken({ expires: minutesFromNow(6, server.clock) });
    server.clock.advance(7 * 60_000);
    await refused(people.alice, { key: expiredKey, expires: null }, 'TokenNotActiveError', 'TOKEN_NOT_ACTIVE');
    await refused(people.alice, { key: expiredKey, expires: daysFromNow(3, server.clock) }, 'TokenNotActiveError', 'TOKEN_NOT_ACTIVE');
  });

  it('lets exactly one of 8 concurrent renames of different tokens to one name win; the others are DUPLICATE_TOKEN_NAME', async () => {
    const keys = [];
    for (let index = 0; index < 8; index += 1) keys.push(await alicesToken());
    const results = await Promise.all(keys.map((key) => editToken(server, people.alice, { key, name: 'contested' })));
    const typenames = results.map((result) => result.__typename);
    expect(
      typenames.filter((name) => name === 'EditTokenPayload'),
      JSON.stringify(results),
    ).toHaveLength(1);
    expect(typenames.filter((name) => name === 'DuplicateTokenNameError')).toHaveLength(7);
    expect(await server.tessera.db.token.count({ where: { username: 'alice', name: 'contested' } })).toBe(1);
    expect((await rowCounts(server)).history).toBe(counts.history + 1);
  });

  it.each([
    [{ resources: {} }, 'The policy\'s "resources" section must not be empty.'],
    [{ allow: ['*'] }, 'The policy is missing a "resources" section.'],
    [{ resources: [] }, 'The policy\'s "resources" section must be a JSON object.'],
    [{ resources: { '*': {} } }, 'The "resources.*" section must have "allow" and/or "block" rules.'],
    [{ resources: { '*': { allow: 'GET' } } }, 'The "resources.*" section\'s "allow" rule must be a list.'],
    [{ resources: { someobject: { '42': [] } } }, 'The "resources.someobject.42" section must be a JSON object.'],
  ])('refuses the policy %j with djblets’ message (INVALID_POLICY)', async (policy, message) => {
    const key = await alicesToken();
    const error = await refused(people.alice, { key, policy }, 'InvalidPolicyError', 'INVALID_POLICY');
    expect(error.message).toBe(message);
  });
});
