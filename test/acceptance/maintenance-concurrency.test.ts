/**
 * Sweeps that run at the same moment (SPEC "Expiry": "never two for one
 * token, even with several processes sweeping one PostgreSQL at once"): two
 * runMaintenance() calls in one process on every engine, and two
 * `tessera maintenance` processes on one PostgreSQL database, held at the
 * starting line by a table lock so that they really do meet.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintenanceCounts, runTessera } from '../support/cli.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { minutesFromNow, mint, pause } from '../support/operations.ts';

/** `count` SESSION tokens of carol's, made `parallel` at a time, each expiring at `expires()`; returns their keys. */
async function sessionTokens(server: TestServer, count: number, expires: () => string, parallel = 10): Promise<string[]> {
  const keys: string[] = [];
  for (let start = 0; start < count; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - start) }, () =>
      mint(server, BOOTSTRAP_TOKEN, { username: 'carol', tokenType: 'SESSION', scopes: ['read:all'], expires: expires() }),
    );
    keys.push(...(await Promise.all(batch)).map((minted) => minted.token.key));
  }
  return keys;
}

/** How many EXPIRE entries each token has, straight from the table (more than a page of them). */
async function expireCounts(server: TestServer): Promise<Map<string, number>> {
  const rows = await server.tessera.db.tokenChangeHistoryEntry.findMany({ where: { action: 'expire' }, select: { token: true, actor: true } });
  const counts = new Map<string, number>();
  for (const row of rows) {
    expect(row.actor).toBe('<internal>');
    counts.set(row.token, (counts.get(row.token) ?? 0) + 1);
  }
  return counts;
}

function expectOneEach(counts: Map<string, number>, keys: readonly string[]) {
  expect([...counts.keys()].sort()).toEqual([...keys].sort());
  expect([...counts.values()].filter((count) => count !== 1)).toEqual([]);
}

describe.each(engines())('two sweeps at once in one process on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(async () => server?.close());

  it('records each expired token once between them', async () => {
    const keys = await sessionTokens(server, 80, () => minutesFromNow(6, server.clock));
    server.clock.advance(7 * 60_000);
    const reports = await Promise.all([server.tessera.tokens.runMaintenance(), server.tessera.tokens.runMaintenance()]);
    expect(reports[0]!.expired + reports[1]!.expired).toBe(keys.length);
    expectOneEach(await expireCounts(server), keys);
  });
});

const noPostgres = !engines().includes('postgresql');

describe.skipIf(noPostgres)('two `tessera maintenance` processes on one PostgreSQL database', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer('postgresql', { env: { TESSERA_MIN_EXPIRY_SECONDS: '1' } });
  });
  afterAll(async () => server?.close());

  it('record each of 300 expired tokens exactly once, and their counts add up', { timeout: 120_000 }, async () => {
    const databaseUrl = server.tessera.config.databaseUrl;
    // The children read the real clock: the tokens expire 3 s after they are made, and we wait until all have.
    const keys = await sessionTokens(server, 300, () => new Date(Date.now() + 3_000).toISOString());
    const lastExpiry = Math.max(
      ...(await server.tessera.db.token.findMany({ where: { key: { in: keys } }, select: { expiresAt: true } })).map((row) => row.expiresAt!.getTime()),
    );
    await pause(Math.max(0, lastExpiry - Date.now() + 500));

    // Hold every write to the tokens table until both children are waiting for it, then let them go together.
    // (Watched from a second connection: within a transaction pg_stat_activity is a snapshot.)
    const gate = new pg.Client({ connectionString: databaseUrl });
    const watch = new pg.Client({ connectionString: databaseUrl });
    await Promise.all([gate.connect(), watch.connect()]);
    try {
      await gate.query('BEGIN');
      await gate.query('LOCK TABLE tokens IN EXCLUSIVE MODE');
      const gatePid = (await gate.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const env = { DATABASE_URL: databaseUrl, TESSERA_MIN_EXPIRY_SECONDS: '1' };
      const children = [runTessera(['maintenance'], env), runTessera(['maintenance'], env)];
      const waitingOnGate = async () => {
        const { rows } = await watch.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [gatePid]);
        return rows[0]?.n ?? 0;
      };
      let waiting = 0;
      // A child waits at most its transaction timeout (20 s): the second must come within 10 s of the first.
      let firstSeen = 0;
      for (const deadline = Date.now() + 45_000; Date.now() < deadline && waiting < 2; await pause(50)) {
        waiting = await waitingOnGate();
        if (waiting > 0 && firstSeen === 0) firstSeen = Date.now();
        if (firstSeen > 0 && Date.now() - firstSeen > 10_000) break;
      }
      await gate.query('COMMIT');
      const runs = await Promise.all(children);
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      expect(waiting, 'both children were waiting on the lock at once').toBe(2);

      const printed = runs.map((run) => maintenanceCounts(run.stdout).expired);
      expect(printed[0]! + printed[1]!).toBe(keys.length);
      expectOneEach(await expireCounts(server), keys);
    } finally {
      await Promise.all([gate.end(), watch.end()]);
    }
  });
});
