/**
 * invalidateTokens and revokeToken (SPEC "invalidateTokens", "revokeToken",
 * "Who may do what", "Token change history entry"): whose tokens, every filter
 * criterion, descendants, one REVOKE entry per token, idempotence, immediate
 * effect on authentication, allUsers, name reuse, and atomicity with the
 * history. Real server over HTTP, real database, on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  everyValidKey,
  expectTypename,
  generate,
  historyEntries,
  INVALIDATE,
  invalidateTokens,
  lookup,
  mint,
  REVOKE,
  revokeToken,
  VIEWER,
  type Cast,
  type GenerateTokenInput,
  type HistoryEntry,
  type InvalidateResult,
  type Minted,
  type RevokeResult,
  type TokenHistoryFilter,
  type TokenView,
  pause,
} from '../support/operations.ts';

const sorted = (keys: readonly string[]) => [...keys].sort();

describe.each(engines())('invalidateTokens and revokeToken on %s', (engine) => {
  let server: TestServer;
  let people: Cast;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  // ---- helpers -------------------------------------------------------------

  /** Success with exactly these keys (in any order, each once) and a count that matches; returns the payload. */
  function expectInvalidated(result: InvalidateResult | RevokeResult, keys: readonly string[]) {
    const payload = expectTypename(result, 'InvalidateTokensPayload');
    expect(sorted(payload.keys)).toEqual(sorted(keys));
    expect(payload.count).toBe(keys.length);
    return payload;
  }

  /** The token as the bootstrap secret sees it; it must exist. */
  async function tokenOf(key: string): Promise<TokenView> {
    const token = await lookup(server, key);
    if (!token) throw new Error(`no token ${key}`);
    return token;
  }

  async function expectValidity(keys: readonly string[], valid: boolean) {
    for (const key of keys) expect((await tokenOf(key)).valid, `valid of ${key}`).toBe(valid);
  }

  const history = (filter: TokenHistoryFilter): Promise<HistoryEntry[]> => historyEntries(server, filter);

  /** Whether `secret` authenticates: the HTTP status of a viewer query. */
  async function status(secret: string): Promise<number> {
    return (await server.request(VIEWER, {}, { token: secret })).status;
  }

  let serial = 0;
  /** A USER token of `username`, made by the bootstrap secret. */
  function userToken(username: string, input: GenerateTokenInput = {}): Promise<Minted> {
    return mint(server, BOOTSTRAP_TOKEN, { username, name: `t${(serial += 1)}`, scopes: ['read:all'], ...input });
  }

  /** A user with user:token, a USER token `top`, its NOTEBOOK child and that notebook's INTERNAL child. */
  async function family(username: string) {
    const main = await mint(server, BOOTSTRAP_TOKEN, { username, name: 'main', scopes: ['exec:notebook', 'read:all', 'user:token'] });
    const top = await mint(server, main.secret, { name: 'top', scopes: ['exec:notebook', 'read:all'] });
    const notebook = await mint(server, main.secret, { tokenType: 'NOTEBOOK', parent: top.token.key, scopes: ['read:all'] });
    const internal = await mint(server, main.secret, { tokenType: 'INTERNAL', parent: notebook.token.key, service: 'svc', scopes: ['read:all'] });
    expect(notebook.token).toMatchObject({ tokenType: 'NOTEBOOK', parentKey: top.token.key });
    expect(internal.token).toMatchObject({ tokenType: 'INTERNAL', parentKey: notebook.token.key });
    return { main, top, notebook, internal, keys: [top.token.key, notebook.token.key, internal.token.key] };
  }

  // ---- 1. whose tokens -----------------------------------------------------

  it('without usernames invalidates exactly the caller’s own valid tokens, the caller’s token included', async () => {
    const main = await mint(server, BOOTSTRAP_TOKEN, { username: 'dave', name: 'main', scopes: ['exec:notebook', 'read:all', 'user:token'] });
    const second = await userToken('dave');
    const third = await userToken('dave', { scopes: ['exec:notebook'] });
    const notebook = await mint(server, main.secret, { tokenType: 'NOTEBOOK', parent: second.token.key, scopes: ['read:all'] });
    const earlier = await userToken('dave');
    expectInvalidated(await revokeToken(server, BOOTSTRAP_TOKEN, { key: earlier.token.key, reason: 'earlier' }), [earlier.token.key]);
    const earlierState = await tokenOf(earlier.token.key);
    const erin = [await userToken('erin'), await userToken('erin')];

    const result = await invalidateTokens(server, main.secret, { reason: 'rotate' });
    const daves = [main, second, third, notebook].map((token) => token.token.key);
    const payload = expectInvalidated(result, daves);
    expect(new Set(payload.keys).size).toBe(payload.keys.length);
    for (const key of daves) expect(await tokenOf(key)).toMatchObject({ valid: false, invalidReason: 'rotate' });

    // Other users' tokens and the already-invalid one are untouched.
    await expectValidity(
      erin.map((token) => token.token.key),
      true,
    );
    for (const token of erin) expect(await status(token.secret)).toBe(200);
    expect(await tokenOf(earlier.token.key)).toEqual(earlierState);
    expect(await status(people.alice)).toBe(200);

    // The caller's own token is gone with the rest.
    const after = await server.request(VIEWER, {}, { token: main.secret });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  // ---- 2. filters ----------------------------------------------------------

  describe('each filter criterion narrows, and what does not match stays valid', () => {
    it('keys (and usernames still bound them)', async () => {
      const [a, b, c] = [await userToken('fk-user'), await userToken('fk-user'), await userToken('fk-user')];
      const elsewhere = await userToken('fk-other');
      const result = await invalidateTokens(server, people.admin, {
        usernames: ['fk-user'],
        filter: { keys: [a!.token.key, c!.token.key, elsewhere.token.key] },
      });
      expectInvalidated(result, [a!.token.key, c!.token.key]);
      await expectValidity([b!.token.key, elsewhere.token.key], true);
    });

    it('tokenTypes', async () => {
      const parent = await userToken('ft-user', { scopes: ['exec:notebook', 'read:all'] });
      const notebook = await mint(server, BOOTSTRAP_TOKEN, { username: 'ft-user', tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
      const internal = await mint(server, BOOTSTRAP_TOKEN, {
        username: 'ft-user',
        tokenType: 'INTERNAL',
        parent: parent.token.key,
        service: 'svc',
        scopes: ['read:all'],
      });
      const session = await mint(server, BOOTSTRAP_TOKEN, { username: 'ft-user', tokenType: 'SESSION', scopes: ['read:all'] });
      const result = await invalidateTokens(server, people.admin, { usernames: ['ft-user'], filter: { tokenTypes: ['NOTEBOOK', 'SESSION'] } });
      expectInvalidated(result, [notebook.token.key, session.token.key]);
      await expectValidity([parent.token.key, internal.token.key], true);
    });

    it('scopes: any of the given ones', async () => {
      const read = await userToken('fs-user', { scopes: ['read:all'] });
      const write = await userToken('fs-user', { scopes: ['write:all'] });
      const exec = await userToken('fs-user', { scopes: ['exec:notebook'] });
      const both = await userToken('fs-user', { scopes: ['read:all', 'write:all'] });
      const none = await userToken('fs-user', { scopes: [] });
      const result = await invalidateTokens(server, people.admin, { usernames: ['fs-user'], filter: { scopes: ['read:all', 'exec:notebook'] } });
      expectInvalidated(result, [read.token.key, exec.token.key, both.token.key]);
      await expectValidity([write.token.key, none.token.key], true);
    });

    it('note: exact match only', async () => {
      const ci = await userToken('fn-user', { note: 'ci' });
      const ci2 = await userToken('fn-user', { note: 'ci-2' });
      const upper = await userToken('fn-user', { note: 'CI' });
      const empty = await userToken('fn-user');
      expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['fn-user'], filter: { note: 'ci' } }), [ci.token.key]);
      await expectValidity([ci2.token.key, upper.token.key, empty.token.key], true);
      // An empty note is a note like any other: it matches the tokens without one.
      expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['fn-user'], filter: { note: '' } }), [empty.token.key]);
      await expectValidity([ci2.token.key, upper.token.key], true);
    });

    it('createdAfter / createdBefore, inclusive', async () => {
      const made: Minted[] = [];
      for (let index = 0; index < 3; index += 1) {
        if (index > 0) await pause(5); // distinct creation instants
        made.push(await userToken('fc-user'));
      }
      const [first, second, third] = await Promise.all(made.map((token) => tokenOf(token.token.key)));
      // Precondition for the bounds below.
      expect(Date.parse(first!.createdAt)).toBeLessThan(Date.parse(second!.createdAt));
      expect(Date.parse(second!.createdAt)).toBeLessThan(Date.parse(third!.createdAt));

      const both = await invalidateTokens(server, people.admin, {
        usernames: ['fc-user'],
        filter: { createdAfter: second!.createdAt, createdBefore: second!.createdAt },
      });
      expectInvalidated(both, [second!.key]);
      await expectValidity([first!.key, third!.key], true);

      expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['fc-user'], filter: { createdAfter: third!.createdAt } }), [third!.key]);
      await expectValidity([first!.key], true);
      expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['fc-user'], filter: { createdBefore: first!.createdAt } }), [first!.key]);
    });

    it('expiresAfter / expiresBefore, inclusive; a token that never expires matches neither', async () => {
      const [one, two, three] = [daysFromNow(1, server.clock), daysFromNow(2, server.clock), daysFromNow(3, server.clock)];
      const e1 = await userToken('fe-user', { expires: one });
      const e2 = await userToken('fe-user', { expires: two });
      const e3 = await userToken('fe-user', { expires: three });
      const never = await userToken('fe-user');
      expect(e2.token.expiresAt).toBe(two);

      expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['fe-user'], filter: { expiresAfter: two, expiresBefore: two } }), [
        e2.token.key,
      ]);
      await expectValidity([e1.token.key, e3.token.key, never.token.key], true);
      expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['fe-user'], filter: { expiresBefore: daysFromNow(1.5, server.clock) } }), [
        e1.token.key,
      ]);
      expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['fe-user'], filter: { expiresAfter: daysFromNow(2.5, server.clock) } }), [
        e3.token.key,
      ]);
      await expectValidity([never.token.key], true);
    });
    it('an empty list matches nothing, for scopes as for keys and tokenTypes', async () => {
      const tokens = [await userToken('fz-user', { scopes: ['read:all'] }), await userToken('fz-user', { scopes: [] })];
      const keys = tokens.map((token) => token.token.key);
      for (const filter of [{ keys: [] }, { tokenTypes: [] }, { scopes: [] }]) {
        const result = await invalidateTokens(server, people.admin, { usernames: ['fz-user'], filter, reason: 'empty' });
        expect({ filter, result }).toEqual({ filter, result: { __typename: 'InvalidateTokensPayload', count: 0, keys: [] } });
        await expectValidity(keys, true);
      }
    });
  });

  // ---- 3. descendants and history ------------------------------------------

  it('invalidating a token invalidates its descendants, one REVOKE entry each, with the caller as actor', async () => {
    const { main, top, notebook, internal, keys } = await family('hank');
    const result = await invalidateTokens(server, main.secret, { filter: { keys: [top.token.key] }, reason: 'laptop stolen' });
    expectInvalidated(result, keys);

    const entries = await history({ username: 'hank', action: 'REVOKE' });
    expect(entries).toHaveLength(3);
    expect(sorted(entries.map((entry) => entry.token))).toEqual(sorted(keys));
    for (const entry of entries) expect(entry.actor).toBe('hank');
    const like = (fields: Partial<HistoryEntry>) => expect.objectContaining(fields);
    expect(entries).toContainEqual(
      like({ token: top.token.key, username: 'hank', tokenType: 'USER', tokenName: 'top', parent: null, service: null, actor: 'hank', action: 'REVOKE' }),
    );
    expect(entries).toContainEqual(
      like({
        token: notebook.token.key,
        username: 'hank',
        tokenType: 'NOTEBOOK',
        tokenName: null,
        parent: top.token.key,
        service: null,
        actor: 'hank',
        action: 'REVOKE',
      }),
    );
    expect(entries).toContainEqual(
      like({
        token: internal.token.key,
        username: 'hank',
        tokenType: 'INTERNAL',
        tokenName: null,
        parent: notebook.token.key,
        service: 'svc',
        actor: 'hank',
        action: 'REVOKE',
      }),
    );

    for (const key of keys) {
      const token = await tokenOf(key);
      expect(token).toMatchObject({ valid: false, invalidReason: 'laptop stolen' });
      expect(token.invalidatedAt).not.toBeNull();
      expect(Date.parse(token.invalidatedAt!)).toBeGreaterThanOrEqual(Date.parse(token.createdAt));
    }
    // The caller's own token was not among them.
    expect(await tokenOf(main.token.key)).toMatchObject({ valid: true, invalidatedAt: null, invalidReason: '' });
  });

  // ---- 4. already-invalid tokens -------------------------------------------

  it('leaves already-invalid tokens untouched: count 0, no new entries, state unchanged', async () => {
    const { main, top, keys } = await family('ike');
    expectInvalidated(await invalidateTokens(server, main.secret, { filter: { keys: [top.token.key] }, reason: 'first' }), keys);
    const states = await Promise.all(keys.map(tokenOf));
    const entries = await history({ username: 'ike' });

    expectInvalidated(await invalidateTokens(server, main.secret, { filter: { keys }, reason: 'second' }), []);
    expectInvalidated(await invalidateTokens(server, people.admin, { usernames: ['ike'], filter: { keys }, reason: 'third' }), []);
    expectInvalidated(await revokeToken(server, main.secret, { key: top.token.key, reason: 'fourth' }), []);

    expect(await Promise.all(keys.map(tokenOf))).toEqual(states);
    expect(await history({ username: 'ike' })).toEqual(entries);

    // A mix: only the still-valid token is counted.
    const fresh = await userToken('ike');
    expectInvalidated(await invalidateTokens(server, main.secret, { filter: { keys: [...keys, fresh.token.key] }, reason: 'fifth' }), [fresh.token.key]);
    expect(await Promise.all(keys.map(tokenOf))).toEqual(states);
    expect(await history({ username: 'ike', action: 'REVOKE' })).toHaveLength(4);
  });

  // ---- 5. immediate effect -------------------------------------------------

  it('invalidated tokens stop authenticating on the very next request, descendants too', async () => {
    const { main, top, notebook, internal } = await family('jill');
    for (const token of [main, top, notebook, internal]) expect(await status(token.secret)).toBe(200);

    expectInvalidated(
      await invalidateTokens(server, people.admin, { usernames: ['jill'], filter: { keys: [top.token.key] } }),
      [top, notebook, internal].map((t) => t.token.key),
    );
    for (const token of [top, notebook, internal]) {
      const response = await server.request(VIEWER, {}, { token: token.secret });
      expect(response.status).toBe(401);
      expect(response.data).toBeNull();
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    }
    expect(await status(main.secret)).toBe(200);
  });

  // ---- 6. allUsers and empty usernames -------------------------------------

  it('an admin with allUsers and a filter invalidates across users, and only what matches', async () => {
    const kimParent = await userToken('kim', { scopes: ['exec:notebook', 'read:all'], note: 'batch-6' });
    const kimNotebook = await mint(server, BOOTSTRAP_TOKEN, { username: 'kim', tokenType: 'NOTEBOOK', parent: kimParent.token.key, note: 'batch-6' });
    const leeParent = await userToken('lee', { scopes: ['exec:notebook'] });
    const leeNotebook = await mint(server, BOOTSTRAP_TOKEN, { username: 'lee', tokenType: 'NOTEBOOK', parent: leeParent.token.key, note: 'batch-6' });
    const leeOtherNotebook = await mint(server, BOOTSTRAP_TOKEN, { username: 'lee', tokenType: 'NOTEBOOK', parent: leeParent.token.key, note: 'other' });
    const before = await everyValidKey(server);

    const result = await invalidateTokens(server, people.admin, { allUsers: true, filter: { tokenTypes: ['NOTEBOOK'], note: 'batch-6' }, reason: 'sweep' });
    const { keys } = expectInvalidated(result, [kimNotebook.token.key, leeNotebook.token.key]);
    expect(await everyValidKey(server)).toEqual(before.filter((key) => !keys.includes(key)));
    await expectValidity([kimParent.token.key, leeParent.token.key, leeOtherNotebook.token.key], true);
    expect((await history({ action: 'REVOKE', actor: 'admin' })).filter((entry) => keys.includes(entry.token))).toHaveLength(2);
  });

  it('usernames: [] is an InvalidInputError, never all users (nor is leaving them out for the bootstrap secret)', async () => {
    const kim = await mint(server, BOOTSTRAP_TOKEN, { username: 'kim', name: 'main', scopes: ['user:token'] });
    const before = await everyValidKey(server);
    for (const actor of [people.admin, BOOTSTRAP_TOKEN, kim.secret]) {
      const result = await invalidateTokens(server, actor, { usernames: [], reason: 'empty' });
      expect(result).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'usernames' });
      expect(await everyValidKey(server)).toEqual(before);
    }
    // The bootstrap secret owns no tokens: leaving usernames out does not mean everyone's either.
    expect(await invalidateTokens(server, BOOTSTRAP_TOKEN, { reason: 'omitted' })).toMatchObject({
      __typename: 'InvalidInputError',
      code: 'INVALID_INPUT',
      field: 'usernames',
    });
    expect(await everyValidKey(server)).toEqual(before);
  });

  // ---- 7. revokeToken --------------------------------------------------------

  it('revokeToken revokes one token and its descendants, nothing else', async () => {
    const { main, top, keys } = await family('mo');
    const sibling = await mint(server, main.secret, { name: 'sibling', scopes: ['read:all'] });
    const result = await revokeToken(server, main.secret, { key: top.token.key, reason: 'done' });
    expectInvalidated(result, keys);
    for (const key of keys) expect(await tokenOf(key)).toMatchObject({ valid: false, invalidReason: 'done' });
    await expectValidity([main.token.key, sibling.token.key], true);
    const entries = await history({ username: 'mo', action: 'REVOKE' });
    expect(sorted(entries.map((entry) => entry.token))).toEqual(sorted(keys));
    for (const entry of entries) expect(entry.actor).toBe('mo');
  });

  it('revokeToken of an unknown key is a TokenNotFoundError (a member of RevokeTokenResult), for admins and owners alike', async () => {
    const missing = 'AAAAAAAAAAAAAAAAAAAAAA';
    const before = await everyValidKey(server);
    for (const actor of [people.admin, BOOTSTRAP_TOKEN, people.alice]) {
      expect(await revokeToken(server, actor, { key: missing })).toMatchObject({ __typename: 'TokenNotFoundError', code: 'TOKEN_NOT_FOUND', key: missing });
    }
    expect(await everyValidKey(server)).toEqual(before);
  });

  it('revoked and invalidated USER tokens free their names for new USER tokens', async () => {
    const main = await mint(server, BOOTSTRAP_TOKEN, { username: 'ned', name: 'main', scopes: ['read:all', 'user:token'] });
    const laptop = await mint(server, main.secret, { name: 'laptop', scopes: ['read:all'] });
    const desktop = await mint(server, main.secret, { name: 'desktop', scopes: ['read:all'] });
    // While they are valid, the names are taken.
    expect(await generate(server, main.secret, { name: 'laptop' })).toMatchObject({ __typename: 'DuplicateTokenNameError', code: 'DUPLICATE_TOKEN_NAME' });
    expect(await generate(server, main.secret, { name: 'desktop' })).toMatchObject({ __typename: 'DuplicateTokenNameError', code: 'DUPLICATE_TOKEN_NAME' });

    expectInvalidated(await revokeToken(server, main.secret, { key: laptop.token.key }), [laptop.token.key]);
    expectInvalidated(await invalidateTokens(server, main.secret, { filter: { keys: [desktop.token.key] } }), [desktop.token.key]);

    const newLaptop = await mint(server, main.secret, { name: 'laptop', scopes: ['read:all'] });
    const newDesktop = await mint(server, main.secret, { name: 'desktop', scopes: ['read:all'] });
    expect(newLaptop.token).toMatchObject({ name: 'laptop', username: 'ned' });
    expect(newDesktop.token).toMatchObject({ name: 'desktop', username: 'ned' });
    expect(newLaptop.token.key).not.toBe(laptop.token.key);
    // The old tokens keep their names in the record.
    expect(await tokenOf(laptop.token.key)).toMatchObject({ name: 'laptop', valid: false });
  });

  // ---- 8. atomicity ---------------------------------------------------------

  it('when the history cannot be written, nothing is invalidated and the error is masked', async () => {
    const { main, top, notebook, internal, keys } = await family('olga');
    const other = await userToken('olga');
    const all = [main, top, notebook, internal, other];
    const historyBefore = await history({ username: 'olga' });
    const db = server.tessera.db;

    if (engine === 'sqlite') {
      await db.$executeRawUnsafe(`CREATE TRIGGER reject_history BEFORE INSERT ON token_change_history BEGIN SELECT RAISE(ABORT, 'forced failure'); END;`);
    } else {
      await db.$executeRawUnsafe(`CREATE FUNCTION reject_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END; $$`);
      await db.$executeRawUnsafe(`CREATE TRIGGER reject_history BEFORE INSERT ON token_change_history FOR EACH ROW EXECUTE FUNCTION reject_history()`);
    }
    const failures: GraphQLResponse[] = [];
    try {
      failures.push(await server.request(INVALIDATE, { input: { usernames: ['olga'], reason: 'doomed' } }, { token: people.admin }));
      failures.push(await server.request(INVALIDATE, { input: { filter: { keys: [top.token.key] }, reason: 'doomed' } }, { token: main.secret }));
      failures.push(await server.request(REVOKE, { input: { key: top.token.key, reason: 'doomed' } }, { token: main.secret }));
    } finally {
      if (engine === 'sqlite') {
        await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS reject_history`);
      } else {
        await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS reject_history ON token_change_history`);
        await db.$executeRawUnsafe(`DROP FUNCTION IF EXISTS reject_history()`);
      }
    }

    for (const response of failures) {
      expect(response.status).toBe(200);
      expect(response.data).toBeNull();
      expect(response.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
      expect(JSON.stringify(response.errors)).not.toMatch(/forced failure|token_change_history|prisma/i);
    }

    for (const token of all) {
      expect(await tokenOf(token.token.key)).toMatchObject({ valid: true, invalidatedAt: null, invalidReason: '' });
      expect(await status(token.secret)).toBe(200);
    }
    expect(await history({ username: 'olga' })).toEqual(historyBefore);

    // With the history writable again, the same request goes through.
    expectInvalidated(await invalidateTokens(server, main.secret, { filter: { keys: [top.token.key] }, reason: 'now' }), keys);
  });
});
