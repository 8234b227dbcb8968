/**
 * editToken (SPEC "Lifecycle", "Token change history entry", `reduced`): the
 * EDIT entry with Gafaelfawr's old values and its model_dump_reduced() form,
 * fields left out, edits that change nothing, names, expiry flowing down to
 * descendants, and atomicity with the history. Authorization and input
 * errors are in edit-token-rules.test.ts. Real server over HTTP, every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  EDIT,
  editToken,
  expectTypename,
  historyEntries,
  lookup,
  minutesFromNow,
  mint,
  revoke,
  rowCounts,
  type Cast,
  type EditTokenInput,
  type HistoryEntry,
  type TokenChange,
  type TokenView,
  epochSeconds,
} from '../support/operations.ts';

const from = (address: string) => ({ 'x-forwarded-for': address });

describe.each(engines())('editToken on %s', (engine) => {
  let server: TestServer;
  let people: Cast;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  /** The entries recorded for `key` itself (not its children), newest first. */
  async function entriesOf(key: string, action?: TokenChange): Promise<HistoryEntry[]> {
    return (await historyEntries(server, { key, ...(action ? { action } : {}) })).filter((entry) => entry.token === key);
  }

  async function tokenOf(key: string): Promise<TokenView> {
    const token = await lookup(server, key);
    if (!token) throw new Error(`no token ${key}`);
    return token;
  }

  /** Edits as `actor` and insists on success; returns the edited token. */
  async function edit(actor: string, input: EditTokenInput, headers?: Record<string, string>) {
    return expectTypename(await editToken(server, actor, input, headers), 'EditTokenPayload').token;
  }

  /** The one EDIT entry of `key`; there must be exactly one. */
  async function onlyEdit(key: string): Promise<HistoryEntry> {
    const edits = await entriesOf(key, 'EDIT');
    expect(edits).toHaveLength(1);
    return edits[0]!;
  }

  it('renames a non-expiring token: tokenName new, oldTokenName old, no old scopes or expiry; actor and address recorded', async () => {
    const laptop = await mint(server, people.alice, { name: 'laptop', scopes: ['read:all'] });
    const before = server.clock.now().getTime();
    const edited = await edit(people.alice, { key: laptop.token.key, name: 'desktop' }, from('198.51.100.9'));
    const after = server.clock.now().getTime();
    expect(edited).toMatchObject({ key: laptop.token.key, name: 'desktop', scopes: ['read:all'], expiresAt: null });
    expect((await tokenOf(laptop.token.key)).name).toBe('desktop');

    const entry = await onlyEdit(laptop.token.key);
    expect(entry).toMatchObject({
      token: laptop.token.key,
      username: 'alice',
      tokenType: 'USER',
      tokenName: 'desktop',
      oldTokenName: 'laptop',
      scopes: ['read:all'],
      oldScopes: null,
      expires: null,
      oldExpires: null,
      actor: 'alice',
      action: 'EDIT',
      ipAddress: '198.51.100.9',
    });
    expect(Date.parse(entry.eventTime)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(entry.eventTime)).toBeLessThanOrEqual(after);
    // The seed's model_dump_reduced(): old_scopes dropped (null), old_expires dropped (it and expires both null).
    expect(entry.reduced).toStrictEqual({
      token: laptop.token.key,
      username: 'alice',
      token_type: 'user',
      token_name: 'desktop',
      scopes: ['read:all'],
      expires: null,
      actor: 'alice',
      action: 'edit',
      old_token_name: 'laptop',
      ip_address: '198.51.100.9',
      event_time: epochSeconds(entry.eventTime),
    });
  });

  it('changes scopes and expiry together: oldScopes and oldExpires set, no oldTokenName', async () => {
    const oldExpires = daysFromNow(30, server.clock);
    const newExpires = daysFromNow(10, server.clock);
    const pair = await mint(server, people.alice, { name: 'pair', scopes: ['read:all', 'exec:notebook'], expires: oldExpires });
    const edited = await edit(people.alice, { key: pair.token.key, scopes: ['read:all'], expires: newExpires }, from('2001:db8::7'));
    expect(edited).toMatchObject({ name: 'pair', scopes: ['read:all'], expiresAt: newExpires });

    const entry = await onlyEdit(pair.token.key);
    expect(entry).toMatchObject({
      tokenName: 'pair',
      oldTokenName: null,
      scopes: ['read:all'],
      oldScopes: ['exec:notebook', 'read:all'],
      expires: newExpires,
      oldExpires,
      ipAddress: '2001:db8::7',
    });
    expect(entry.reduced).toStrictEqual({
      token: pair.token.key,
      username: 'alice',
      token_type: 'user',
      token_name: 'pair',
      scopes: ['read:all'],
      expires: epochSeconds(newExpires),
      actor: 'alice',
      action: 'edit',
      old_scopes: ['exec:notebook', 'read:all'],
      old_expires: epochSeconds(oldExpires),
      ip_address: '2001:db8::7',
      event_time: epochSeconds(entry.eventTime),
    });
  });

  it('clears the expiry with expires: null; reduced keeps old_expires beside expires: null', async () => {
    const oldExpires = daysFromNow(7, server.clock);
    const token = await mint(server, people.alice, { name: 'clear', scopes: ['read:all'], expires: oldExpires });
    expect(await edit(people.alice, { key: token.token.key, expires: null })).toMatchObject({ expiresAt: null });
    expect((await tokenOf(token.token.key)).expiresAt).toBeNull();

    const entry = await onlyEdit(token.token.key);
    expect(entry).toMatchObject({ expires: null, oldExpires, oldTokenName: null, oldScopes: null, tokenName: 'clear' });
    expect(entry.reduced).toMatchObject({ expires: null, old_expires: epochSeconds(oldExpires), ip_address: entry.ipAddress });
    expect(Object.keys(entry.reduced).sort()).toEqual(
      ['action', 'actor', 'event_time', 'expires', 'ip_address', 'old_expires', 'scopes', 'token', 'token_name', 'token_type', 'username'].sort(),
    );
  });

  it('renaming a token that expires keeps old_expires: null in reduced (dropped only when expires is null too)', async () => {
    const expires = daysFromNow(5, server.clock);
    const token = await mint(server, people.alice, { name: 'quirk', scopes: ['read:all'], expires });
    await edit(people.alice, { key: token.token.key, name: 'quirk2' });
    const entry = await onlyEdit(token.token.key);
    expect(entry).toMatchObject({ expires, oldExpires: null, oldTokenName: 'quirk' });
    expect(entry.reduced).toMatchObject({ expires: epochSeconds(expires), old_expires: null, old_token_name: 'quirk' });
    expect(entry.reduced).not.toHaveProperty('old_scopes');
  });

  it('leaves out what is left out: a note-only and a policy-only edit keep name, scopes, expiry and each other', async () => {
    const expires = daysFromNow(9, server.clock);
    const policy = { resources: { '*': { allow: ['GET'] } } };
    const token = await mint(server, people.alice, { name: 'keep', scopes: ['exec:notebook', 'read:all'], expires, note: 'n1', policy });
    const noted = await edit(people.alice, { key: token.token.key, note: 'n2' });
    expect(noted).toMatchObject({ name: 'keep', scopes: ['exec:notebook', 'read:all'], expiresAt: expires, note: 'n2', policy });
    const newPolicy = { resources: { '*': { block: ['DELETE'] } } };
    const policed = await edit(people.alice, { key: token.token.key, policy: newPolicy });
    expect(policed).toMatchObject({ name: 'keep', scopes: ['exec:notebook', 'read:all'], expiresAt: expires, note: 'n2', policy: newPolicy });

    const edits = await entriesOf(token.token.key, 'EDIT');
    expect(edits).toHaveLength(2);
    for (const entry of edits) {
      expect(entry).toMatchObject({ tokenName: 'keep', oldTokenName: null, scopes: ['exec:notebook', 'read:all'], oldScopes: null, expires, oldExpires: null });
    }
  });

  it('writes no entry and changes nothing for an edit that changes nothing', async () => {
    const expires = daysFromNow(12, server.clock);
    const policy = { resources: { '*': { allow: ['*'] } } };
    const token = await mint(server, people.alice, { name: 'same', scopes: ['exec:notebook', 'read:all'], expires, note: 'x', policy });
    const before = await tokenOf(token.token.key);
    const counts = await rowCounts(server);
    for (const input of [
      { key: token.token.key },
      { key: token.token.key, name: 'same', scopes: ['read:all', 'exec:notebook', 'read:all'], expires, note: 'x', policy },
      { key: token.token.key, name: '  same ' },
    ]) {
      expect(await edit(people.alice, input)).toMatchObject({ name: 'same', expiresAt: expires });
    }
    expect(await rowCounts(server)).toEqual(counts);
    expect(await tokenOf(token.token.key)).toEqual(before);
  });

  it('trims names and refuses a blank one', async () => {
    const token = await mint(server, people.alice, { name: 'untrimmed', scopes: ['read:all'] });
    expect((await edit(people.alice, { key: token.token.key, name: '  trimmed\t' })).name).toBe('trimmed');
    expect((await onlyEdit(token.token.key)).tokenName).toBe('trimmed');
    const blank = await editToken(server, people.alice, { key: token.token.key, name: '   ' });
    expect(expectTypename(blank, 'InvalidInputError')).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    expect((await tokenOf(token.token.key)).name).toBe('trimmed');
  });

  it('refuses a name another valid token of the owner holds, but takes one from a revoked, an expired or another owner’s token', async () => {
    const one = await mint(server, people.alice, { name: 'one', scopes: ['read:all'] });
    const two = await mint(server, people.alice, { name: 'two', scopes: ['read:all'] });
    const counts = await rowCounts(server);
    for (const name of ['one', ' one ']) {
      const duplicate = await editToken(server, people.alice, { key: two.token.key, name });
      expect(expectTypename(duplicate, 'DuplicateTokenNameError')).toMatchObject({ code: 'DUPLICATE_TOKEN_NAME', name: 'one' });
    }
    expect(await rowCounts(server)).toEqual(counts);
    expect((await tokenOf(two.token.key)).name).toBe('two');

    await mint(server, people.bob, { name: 'bobs', scopes: ['read:all'] });
    expect((await edit(people.alice, { key: two.token.key, name: 'bobs' })).name).toBe('bobs');
    const revoked = await mint(server, people.alice, { name: 'gone', scopes: ['read:all'] });
    await revoke(server, people.alice, revoked.token.key);
    expect((await edit(people.alice, { key: two.token.key, name: 'gone' })).name).toBe('gone');
    await mint(server, people.alice, { name: 'lapsed', scopes: ['read:all'], expires: minutesFromNow(6, server.clock) });
    server.clock.advance(7 * 60_000);
    expect((await edit(people.alice, { key: two.token.key, name: 'lapsed' })).name).toBe('lapsed');
    expect((await tokenOf(one.token.key)).name).toBe('one');
  });

  it('shortens every descendant that would outlive a new or shorter expiry, each with its own EDIT entry; extending leaves them', async () => {
    const top = await mint(server, people.alice, { name: 'family', scopes: ['exec:notebook', 'read:all'] });
    const notebook = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: top.token.key, scopes: ['read:all'] });
    const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: notebook.token.key, service: 'svc', scopes: ['read:all'] });
    const earlyExpiry = daysFromNow(2, server.clock);
    const early = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: top.token.key, scopes: ['read:all'], expires: earlyExpiry });
    const chain = [top, notebook, internal].map((token) => token.token.key);
    for (const key of chain) expect((await tokenOf(key)).expiresAt).toBeNull();

    // Setting an expiry where there was none.
    const first = daysFromNow(10, server.clock);
    await edit(people.alice, { key: top.token.key, expires: first }, from('203.0.113.8'));
    for (const key of chain) expect((await tokenOf(key)).expiresAt, key).toBe(first);
    const topEntry = await onlyEdit(top.token.key);
    for (const key of chain.slice(1)) {
      expect(await onlyEdit(key)).toMatchObject({
        expires: first,
        oldExpires: null,
        oldScopes: null,
        oldTokenName: null,
        actor: 'alice',
        ipAddress: '203.0.113.8',
        eventTime: topEntry.eventTime,
      });
    }
    expect((await tokenOf(early.token.key)).expiresAt).toBe(earlyExpiry);

    // Shortening it: each records the expiry it had.
    const second = daysFromNow(5, server.clock);
    await edit(people.alice, { key: top.token.key, expires: second });
    for (const key of chain) {
      expect((await tokenOf(key)).expiresAt).toBe(second);
      const [latest, ...older] = await entriesOf(key, 'EDIT');
      expect(older).toHaveLength(1);
      expect(latest).toMatchObject({ expires: second, oldExpires: first });
    }
    expect((await tokenOf(early.token.key)).expiresAt).toBe(earlyExpiry);
    expect(await entriesOf(early.token.key, 'EDIT')).toHaveLength(0);

    // Extending it touches no child.
    const counts = await rowCounts(server);
    await edit(people.alice, { key: top.token.key, expires: daysFromNow(20, server.clock) });
    expect((await rowCounts(server)).history).toBe(counts.history + 1);
    for (const key of chain.slice(1)) expect((await tokenOf(key)).expiresAt).toBe(second);
  });

  it('commits the edit with its entries or not at all: a failing history insert changes nothing', async () => {
    const top = await mint(server, people.alice, { name: 'atomic-edit', scopes: ['exec:notebook', 'read:all'] });
    const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: top.token.key, scopes: ['read:all'] });
    const db = server.tessera.db;
    const sqlite = engine === 'sqlite';
    await db.$executeRawUnsafe(
      sqlite
        ? `CREATE TRIGGER reject_edit BEFORE INSERT ON token_change_history BEGIN SELECT RAISE(ABORT, 'forced failure'); END;`
        : `CREATE OR REPLACE FUNCTION reject_edit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END; $$`,
    );
    if (!sqlite) await db.$executeRawUnsafe(`CREATE TRIGGER reject_edit BEFORE INSERT ON token_change_history FOR EACH ROW EXECUTE FUNCTION reject_edit()`);
    try {
      const before = await Promise.all([tokenOf(top.token.key), tokenOf(child.token.key)]);
      const counts = await rowCounts(server);
      const response = await server.request(
        EDIT,
        { input: { key: top.token.key, name: 'renamed', expires: daysFromNow(3, server.clock) } },
        { token: people.alice },
      );
      expect(response.data).toBeNull();
      expect(response.errors?.[0]?.message).toBe('Unexpected error.');
      expect(await rowCounts(server)).toEqual(counts);
      expect(await Promise.all([tokenOf(top.token.key), tokenOf(child.token.key)])).toEqual(before);
    } finally {
      await db.$executeRawUnsafe(sqlite ? 'DROP TRIGGER IF EXISTS reject_edit' : 'DROP TRIGGER IF EXISTS reject_edit ON token_change_history');
      if (!sqlite) await db.$executeRawUnsafe('DROP FUNCTION IF EXISTS reject_edit()');
    }
    expect((await edit(people.alice, { key: top.token.key, name: 'renamed' })).name).toBe('renamed');
  });

  it('lets an admin edit anyone’s token, recorded with the admin as actor', async () => {
    const bobs = await mint(server, BOOTSTRAP_TOKEN, { username: 'bob', name: 'admin-edited', scopes: ['read:all'] });
    await edit(people.admin, { key: bobs.token.key, scopes: ['read:all', 'write:all'] });
    expect(await onlyEdit(bobs.token.key)).toMatchObject({ username: 'bob', actor: 'admin', scopes: ['read:all', 'write:all'], oldScopes: ['read:all'] });
  });
});
