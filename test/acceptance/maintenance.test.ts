/**
 * Maintenance (SPEC "Expiry"): one EXPIRE entry per expired valid token
 * (actor `<internal>`, no address, `expires` = its expiry), never two; none
 * for revoked tokens; expired names freed; history older than the retention
 * period deleted; and the periodic sweep inside the server. Concurrent sweeps
 * are in maintenance-concurrency.test.ts. The clock is moved, never slept on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  historyEntries,
  historyEntriesSoFar,
  lookup,
  minutesFromNow,
  mint,
  revoke,
  VIEWER,
  type Cast,
  type HistoryEntry,
} from '../support/operations.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe.each(engines())('maintenance on %s', (engine) => {
  let server: TestServer;
  let people: Cast;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  const expireEntries = async (key: string): Promise<HistoryEntry[]> =>
    (await historyEntries(server, { key, action: 'EXPIRE' })).filter((entry) => entry.token === key);

  it('writes one EXPIRE entry per expired valid token (descendants included), none for revoked or unexpired ones, and never two', async () => {
    const expires = minutesFromNow(6, server.clock);
    const user = await mint(server, people.alice, { name: 'soon', scopes: ['exec:notebook', 'read:all'], expires });
    const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: user.token.key, scopes: ['read:all'] });
    const session = await mint(server, people.admin, { username: 'alice', tokenType: 'SESSION', scopes: ['read:all'], expires });
    const revoked = await mint(server, people.alice, { name: 'revoked-soon', scopes: ['read:all'], expires });
    await revoke(server, people.alice, revoked.token.key);
    const later = await mint(server, people.alice, { name: 'later', scopes: ['read:all'], expires: daysFromNow(2, server.clock) });
    const never = await mint(server, people.alice, { name: 'never', scopes: ['read:all'] });

    // Not yet expired: nothing to record.
    expect(await server.tessera.tokens.runMaintenance()).toMatchObject({ expired: 0 });
    server.clock.advance(7 * MINUTE);
    expect((await server.request(VIEWER, {}, { token: user.secret })).status).toBe(401);
    const before = server.clock.now().getTime();
    const report = await server.tessera.tokens.runMaintenance();
    const after = server.clock.now().getTime();
    expect(report.expired).toBe(3);

    for (const token of [user, child, session]) {
      const entries = await expireEntries(token.token.key);
      expect(entries, token.token.key).toHaveLength(1);
      const entry = entries[0]!;
      expect(entry).toMatchObject({
        token: token.token.key,
        username: 'alice',
        tokenType: token.token.tokenType,
        actor: '<internal>',
        action: 'EXPIRE',
        ipAddress: null,
        expires,
        oldTokenName: null,
        oldScopes: null,
        oldExpires: null,
      });
      expect(Date.parse(entry.eventTime)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(entry.eventTime)).toBeLessThanOrEqual(after);
      expect(entry.reduced).toMatchObject({ action: 'expire', actor: '<internal>', ip_address: null, expires: Math.floor(Date.parse(expires) / 1000) });
      expect(Object.keys(entry.reduced).filter((name) => name.startsWith('old_'))).toEqual([]);
    }
    expect((await expireEntries(user.token.key))[0]?.tokenName).toBe('soon');
    for (const token of [revoked, later, never]) expect(await expireEntries(token.token.key), token.token.key).toHaveLength(0);

    // A second run finds nothing new.
    expect(await server.tessera.tokens.runMaintenance()).toMatchObject({ expired: 0 });
    for (const token of [user, child, session]) expect(await expireEntries(token.token.key)).toHaveLength(1);
    expect(await historyEntries(server, { action: 'EXPIRE' })).toHaveLength(3);
  });

  it('frees an expired USER token’s name, which the expired token keeps as its record', async () => {
    const old = await mint(server, people.alice, { name: 'reused', scopes: ['read:all'], expires: minutesFromNow(6, server.clock) });
    server.clock.advance(7 * MINUTE);
    expect((await server.tessera.tokens.runMaintenance()).expired).toBe(1);
    const successor = await mint(server, people.alice, { name: 'reused', scopes: ['read:all'] });
    expect(successor.token.name).toBe('reused');
    expect(await lookup(server, old.token.key)).toMatchObject({ name: 'reused' });
    const [expired] = await expireEntries(old.token.key);
    expect(expired).toMatchObject({ tokenName: 'reused' });
  });

  // Last in this block: it moves the clock a year on.
  it('by default keeps an entry a minute younger than 365 days and deletes one a minute older', async () => {
    await expectRetention(server, 365);
  });
});

/**
 * Entries `days` and a minute old and `days` less a minute old (made by moving
 * the clock), one maintenance run: the first is deleted, the second kept, the
 * tokens themselves stay; two minutes later the second goes too.
 */
async function expectRetention(server: TestServer, days: number) {
  const old = await mint(server, BOOTSTRAP_TOKEN, { username: 'carol', name: `old-${days}`, scopes: ['read:all'] });
  server.clock.advance(2 * MINUTE);
  const recent = await mint(server, BOOTSTRAP_TOKEN, { username: 'carol', name: `recent-${days}`, scopes: ['read:all'] });
  server.clock.advance(days * DAY - MINUTE);
  const report = await server.tessera.tokens.runMaintenance();
  expect(report.pruned).toBeGreaterThanOrEqual(1);
  expect(await historyEntries(server, { key: old.token.key })).toHaveLength(0);
  expect(await historyEntries(server, { key: recent.token.key })).toHaveLength(1);
  expect(await lookup(server, old.token.key)).toMatchObject({ name: `old-${days}`, valid: true });
  expect(await server.tessera.tokens.runMaintenance()).toEqual({ expired: 0, pruned: 0 });
  server.clock.advance(2 * MINUTE);
  expect(await server.tessera.tokens.runMaintenance()).toEqual({ expired: 0, pruned: 1 });
  expect(await historyEntries(server, { key: recent.token.key })).toHaveLength(0);
}

describe.each(engines())('history retention set to 30 days on %s', (engine) => {
  it('keeps an entry a minute younger than 30 days and deletes one a minute older', async () => {
    const server = await startServer(engine, { env: { TESSERA_HISTORY_RETENTION_DAYS: '30' } });
    try {
      await expectRetention(server, 30);
    } finally {
      await server.close();
    }
  });
});

describe.each(engines())('the periodic sweep inside the server on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine, { env: { TESSERA_SWEEP_INTERVAL_SECONDS: '1' } });
  });
  afterAll(async () => server?.close());

  it('records an expiry by itself, within a few intervals', async () => {
    const token = await mint(server, BOOTSTRAP_TOKEN, { username: 'carol', name: 'swept', scopes: ['read:all'], expires: minutesFromNow(6, server.clock) });
    server.clock.advance(7 * MINUTE);
    // Waiting for the server's timer, polling the history: not a timed assertion (a loaded machine can hold a run
    // back for seconds, so the deadline is generous; a sweep that never runs still fails).
    let entries: HistoryEntry[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      entries = await historyEntriesSoFar(server, { key: token.token.key, action: 'EXPIRE' });
      if (entries.length > 0) break;
    }
    expect(entries).toHaveLength(1);
    // Once it is there, later runs add nothing: read again with the count checked against the rows.
    entries = await historyEntries(server, { key: token.token.key, action: 'EXPIRE' });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: '<internal>', ipAddress: null, token: token.token.key });
  });
});
