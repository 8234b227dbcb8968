/**
 * rotateToken with a grace period (SPEC "Lifecycle", "Expiry"): the old token
 * keeps working until min(its expiry, now + grace), recorded by an EDIT entry
 * (none when nothing changes), its descendants never outlive it, and once the
 * period is over it stops authenticating and the sweep records its expiry.
 * Real server over HTTP, every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  expectTypename,
  historyEntries,
  lookup,
  minutesFromNow,
  mint,
  rotateToken,
  VIEWER,
  type Cast,
  type HistoryEntry,
  type TokenChange,
} from '../support/operations.ts';

const from = (address: string) => ({ 'x-forwarded-for': address });

describe.each(engines())('rotateToken with a grace period on %s', (engine) => {
  let server: TestServer;
  let people: Cast;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  async function status(secret: string): Promise<number> {
    return (await server.request(VIEWER, {}, { token: secret })).status;
  }

  async function entriesOf(key: string, action: TokenChange): Promise<HistoryEntry[]> {
    return (await historyEntries(server, { key, action })).filter((entry) => entry.token === key);
  }

  async function expiryOf(key: string): Promise<string | null | undefined> {
    return (await lookup(server, key))?.expiresAt;
  }

  async function rotateWithGrace(key: string, gracePeriodSeconds: number) {
    return expectTypename(await rotateToken(server, people.alice, { key, gracePeriodSeconds }, from('2001:db8::60')), 'RotateTokenPayload');
  }

  it('keeps a non-expiring old token working for 600 s (EDIT entry, shared actor/address/time), shortens outliving descendants, then the sweep expires it', async () => {
    const old = await mint(server, people.alice, { name: 'grace', scopes: ['exec:notebook', 'read:all'] });
    const notebook = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: old.token.key, scopes: ['read:all'] });
    const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: notebook.token.key, service: 'svc', scopes: ['read:all'] });
    const earlyExpiry = minutesFromNow(6, server.clock);
    const early = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: old.token.key, scopes: ['read:all'], expires: earlyExpiry });

    const rotated = await rotateWithGrace(old.token.key, 600);
    expect(rotated.token.expiresAt).toBeNull();
    expect(rotated.replaced).toMatchObject({ key: old.token.key, valid: true });
    expect(await status(old.secret)).toBe(200);
    expect(await status(rotated.secret)).toBe(200);

    const [created] = await entriesOf(rotated.token.key, 'CREATE');
    const edits = await entriesOf(old.token.key, 'EDIT');
    expect(edits).toHaveLength(1);
    const edit = edits[0]!;
    const graceEnd = new Date(Date.parse(created!.eventTime) + 600_000).toISOString();
    expect(rotated.replaced.expiresAt).toBe(graceEnd);
    expect(await expiryOf(old.token.key)).toBe(graceEnd);
    expect(edit).toMatchObject({ expires: graceEnd, oldExpires: null, oldScopes: null, oldTokenName: null, tokenName: 'grace' });
    expect({ actor: edit.actor, ipAddress: edit.ipAddress, eventTime: edit.eventTime }).toEqual({
      actor: 'alice',
      ipAddress: '2001:db8::60',
      eventTime: created!.eventTime,
    });
    expect(created).toMatchObject({ actor: 'alice', ipAddress: '2001:db8::60' });
    expect(await entriesOf(old.token.key, 'REVOKE')).toHaveLength(0);

    // Descendants never outlive the old token; the one expiring earlier is left alone.
    for (const child of [notebook, internal]) {
      expect(await expiryOf(child.token.key)).toBe(graceEnd);
      const childEdits = await entriesOf(child.token.key, 'EDIT');
      expect(childEdits).toHaveLength(1);
      expect(childEdits[0]).toMatchObject({ expires: graceEnd, oldExpires: null, eventTime: created!.eventTime, actor: 'alice' });
    }
    expect(await expiryOf(early.token.key)).toBe(earlyExpiry);
    expect(await entriesOf(early.token.key, 'EDIT')).toHaveLength(0);

    // Just before the end it still works; after it, it does not, and the sweep records the expiry.
    server.clock.set(new Date(Date.parse(graceEnd) - 5_000));
    expect(await status(old.secret)).toBe(200);
    server.clock.set(new Date(Date.parse(graceEnd) + 1_000));
    expect(await status(old.secret)).toBe(401);
    expect(await status(notebook.secret)).toBe(401);
    expect(await status(rotated.secret)).toBe(200);
    expect(await entriesOf(old.token.key, 'EXPIRE')).toHaveLength(0);
    const report = await server.tessera.tokens.runMaintenance();
    expect(report.expired).toBeGreaterThanOrEqual(4);
    const expiries = await entriesOf(old.token.key, 'EXPIRE');
    expect(expiries).toHaveLength(1);
    expect(expiries[0]).toMatchObject({ actor: '<internal>', ipAddress: null, expires: graceEnd, tokenName: 'grace' });
    for (const child of [notebook, internal]) expect(await entriesOf(child.token.key, 'EXPIRE')).toHaveLength(1);
    expect(await entriesOf(rotated.token.key, 'EXPIRE')).toHaveLength(0);
  });

  it('shortens a later expiry to the grace end, recording oldExpires; the new token keeps the original expiry', async () => {
    const original = daysFromNow(10, server.clock);
    const old = await mint(server, people.alice, { name: 'later', scopes: ['read:all'], expires: original });
    const rotated = await rotateWithGrace(old.token.key, 3600);
    expect(rotated.token.expiresAt).toBe(original);
    const [edit] = await entriesOf(old.token.key, 'EDIT');
    expect(edit).toMatchObject({ oldExpires: original, expires: new Date(Date.parse(edit!.eventTime) + 3_600_000).toISOString() });
    expect(edit!.reduced).toMatchObject({ action: 'edit', old_expires: Math.floor(Date.parse(original) / 1000) });
    expect(await expiryOf(old.token.key)).toBe(edit!.expires);
  });

  it('leaves an expiry already earlier than the grace end alone, with no EDIT entry', async () => {
    const original = minutesFromNow(8, server.clock);
    const old = await mint(server, people.alice, { name: 'sooner', scopes: ['read:all'], expires: original });
    const rotated = await rotateWithGrace(old.token.key, 3600);
    expect(rotated.replaced).toMatchObject({ valid: true, expiresAt: original });
    expect(rotated.token.expiresAt).toBe(original);
    expect(await expiryOf(old.token.key)).toBe(original);
    expect(await entriesOf(old.token.key, 'EDIT')).toHaveLength(0);
    expect(await entriesOf(rotated.token.key, 'CREATE')).toHaveLength(1);
    expect(await status(old.secret)).toBe(200);
  });
});
