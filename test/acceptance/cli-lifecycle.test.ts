/**
 * The lifecycle commands, run as an operator runs them (bin/tessera.js in a
 * child process, beside a running server on the same SQLite file): `tessera
 * maintenance`, `tessera token revoke` and `tessera token rotate`, recorded
 * with actor `<cli>`, and their one-line failures. SQLite only: the commands
 * are the same on both engines, and the children read the real clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintenanceCounts, runTessera, type CliRun } from '../support/cli.ts';
import { BOOTSTRAP_TOKEN, startServer, type TestServer } from '../support/harness.ts';
import { cast, historyEntries, lookup, mint, rowCounts, VIEWER, type Cast, type HistoryEntry, type Minted, pause } from '../support/operations.ts';

const DAY = 86_400_000;

function expectOneLineFailure(run: CliRun) {
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.code).not.toBeNull();
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tessera: /);
  expect(run.stdout).toBe('');
}

describe('lifecycle commands of the CLI (SQLite)', () => {
  let server: TestServer;
  let people: Cast;
  let env: Record<string, string>;
  /** A token that expires by the real clock 2 s after the server starts, made first so that the wait overlaps the set-up. */
  let short: Minted;
  let shortExpires: Date;

  beforeAll(async () => {
    // A 1-second minimum expiry, so that a token can expire by the children's real clock within the test.
    server = await startServer('sqlite', { env: { TESSERA_MIN_EXPIRY_SECONDS: '1' } });
    env = { DATABASE_URL: server.tessera.config.databaseUrl, TESSERA_MIN_EXPIRY_SECONDS: '1' };
    expect(env.DATABASE_URL).toMatch(/^file:/);
    shortExpires = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2_000);
    short = await mint(server, BOOTSTRAP_TOKEN, { username: 'carol', name: 'short', scopes: ['read:all'], expires: shortExpires.toISOString() });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  const status = async (secret: string) => (await server.request(VIEWER, {}, { token: secret })).status;
  const entriesOf = async (key: string): Promise<HistoryEntry[]> => (await historyEntries(server, { key })).filter((entry) => entry.token === key);

  it('`tessera maintenance` records expiries, prunes old history, says how many of each and exits 0', async () => {
    // An entry 400 days old: made with the server's clock moved back.
    server.clock.advance(-400 * DAY);
    const ancient = await mint(server, BOOTSTRAP_TOKEN, { username: 'carol', name: 'ancient', scopes: ['read:all'] });
    server.clock.advance(400 * DAY);
    await pause(Math.max(0, shortExpires.getTime() - Date.now() + 200));

    const run = await runTessera(['maintenance'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(maintenanceCounts(run.stdout)).toEqual({ expired: 1, pruned: 1 });
    const [expired] = await entriesOf(short.token.key);
    expect(expired).toMatchObject({ action: 'EXPIRE', actor: '<internal>', ipAddress: null, expires: shortExpires.toISOString() });
    expect(await entriesOf(ancient.token.key)).toHaveLength(0);
    expect(await lookup(server, ancient.token.key)).toMatchObject({ name: 'ancient' });
  });

  it('`tessera token revoke --key K --reason R` revokes K and its descendants, each with a REVOKE entry by <cli>', async () => {
    const top = await mint(server, people.alice, { name: 'cli-top', scopes: ['exec:notebook', 'read:all'] });
    const notebook = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: top.token.key, scopes: ['read:all'] });
    const internal = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: notebook.token.key, service: 'svc', scopes: ['read:all'] });
    const run = await runTessera(['token', 'revoke', '--key', top.token.key, '--reason', 'compromised laptop'], env);
    expect(run.code, run.stderr).toBe(0);
    for (const token of [top, notebook, internal]) {
      expect(await lookup(server, token.token.key)).toMatchObject({ valid: false, invalidReason: 'compromised laptop' });
      expect(await status(token.secret)).toBe(401);
      const revokes = (await entriesOf(token.token.key)).filter((entry) => entry.action === 'REVOKE');
      expect(revokes).toHaveLength(1);
      expect(revokes[0]).toMatchObject({ actor: '<cli>', ipAddress: null });
    }
    expect(await status(people.alice)).toBe(200);
  });

  it('`tessera token rotate --key K --grace 60` prints only the new token, which authenticates; both entries by <cli>', async () => {
    const old = await mint(server, people.alice, { name: 'cli-rotate', scopes: ['read:all'] });
    const run = await runTessera(['token', 'rotate', '--key', old.token.key, '--grace', '60'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^tsr_[0-9A-Za-z]{251}\n$/);
    const secret = run.stdout.trim();
    const viewer = await server.request(VIEWER, {}, { token: secret });
    expect(viewer.status).toBe(200);
    const newKey = viewer.data?.viewer?.tokenKey;
    expect(newKey).toBeTruthy();
    expect(newKey).not.toBe(old.token.key);
    expect(await lookup(server, newKey!)).toMatchObject({ username: 'alice', name: 'cli-rotate', scopes: ['read:all'], valid: true });
    // The old token works for the grace period.
    expect(await status(old.secret)).toBe(200);

    const [created] = await entriesOf(newKey!);
    expect(created).toMatchObject({ action: 'CREATE', actor: '<cli>', ipAddress: null });
    const edits = (await entriesOf(old.token.key)).filter((entry) => entry.action === 'EDIT');
    expect(edits).toHaveLength(1);
    const graceEnd = new Date(Date.parse(created!.eventTime) + 60_000).toISOString();
    expect(edits[0]).toMatchObject({ actor: '<cli>', ipAddress: null, eventTime: created!.eventTime, expires: graceEnd, oldExpires: null });
    expect((await lookup(server, old.token.key))?.expiresAt).toBe(graceEnd);
  });

  it('fails in one `tessera:` line on stderr, non-zero, changing nothing, for a bad or unknown key', async () => {
    const token = await mint(server, people.alice, { name: 'cli-untouched', scopes: ['read:all'] });
    const before = await rowCounts(server);
    const runs = await Promise.all([
      // Not a key at all: a token string passed by mistake, which must not be echoed back.
      runTessera(['token', 'revoke', '--key', token.secret], env),
      // A well-formed key of no token.
      runTessera(['token', 'rotate', '--key', 'AAAAAAAAAAAAAAAAAAAAAA', '--grace', '60'], env),
    ]);
    for (const run of runs) expectOneLineFailure(run);
    expect(runs[0]!.stderr).not.toContain(token.secret.slice(4, 40));
    expect(await rowCounts(server)).toEqual(before);
    expect(await lookup(server, token.token.key)).toMatchObject({ valid: true });
  });
});
