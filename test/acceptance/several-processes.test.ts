/**
 * SPEC "Several processes, one database": the failed-login limiter across
 * two Tessera processes on one database (shared on PostgreSQL, where its
 * counts live in the database; per process on SQLite), and
 * `tessera serve --workers N` on either engine: one port and one URL for N
 * processes, requests served by each of them, a dead worker replaced, and
 * SIGTERM stopping them all cleanly with their noted uses written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { runTessera, TESSERA_BIN } from '../support/cli.ts';
import { BOOTSTRAP_TOKEN, engines, freshDatabase, post, startServer, TEST_SCOPES, TestClock, type TestServer } from '../support/harness.ts';
import { GENERATE, mint, pause, TOKEN, VIEWER } from '../support/operations.ts';
import { startPeerProcess, type PeerProcess } from '../support/peer-process.ts';

const LIMIT = 3;

/** Either process: the test server or its peer. */
interface Target {
  request: TestServer['request'];
}

/** The viewer query with a presented credential, as sent from `address` (both processes trust one proxy hop). */
function from(target: Target, address: string, token: string) {
  return target.request(VIEWER, {}, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address } });
}

describe.each(engines())('the failed-login limiter across two processes on %s', (engine) => {
  let server: TestServer;
  let peer: PeerProcess;
  let good: string;
  const limits = { TESSERA_AUTH_FAILURES_PER_MINUTE: String(LIMIT), TESSERA_TRUST_PROXY: '1' };

  beforeAll(async () => {
    server = await startServer(engine, { env: limits });
    peer = await startPeerProcess(server, limits);
    good = (await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'good', scopes: ['user:token'] })).secret;
  }, 60_000);
  afterAll(async () => {
    await peer?.close();
    await server?.close();
  });

  it.runIf(engine === 'postgresql')(
    'counts the failures from one address in both processes toward one limit, and never refuses a valid credential',
    async () => {
      const address = '203.0.113.40';
      expect((await from(server, address, 'tsr_bad-guess-0')).status).toBe(401);
      expect((await from(peer, address, 'tsr_bad-guess-1')).status).toBe(401);
      expect((await from(server, address, 'tsr_bad-guess-2')).status).toBe(401);
      // The fourth failure in the minute, in the process that has seen only one of them: over the limit.
      const blocked = await from(peer, address, 'tsr_bad-guess-3');
      expect(blocked.status).toBe(429);
      expect(blocked.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await from(server, address, 'tsr_bad-guess-4')).status).toBe(429);

      for (const target of [server, peer]) {
        const valid = await from(target, address, good);
        expect(valid.status).toBe(200);
        expect(valid.data?.viewer.username).toBe('alice');
      }
      // Another address has a budget of its own.
      expect((await from(peer, '198.51.100.40', 'tsr_bad-guess-0')).status).toBe(401);
    },
  );

  it.runIf(engine === 'postgresql')('loses no failure among many at once in both processes: exactly the limit are answered 401', async () => {
    const address = '203.0.113.41';
    const attempts = Array.from({ length: 16 }, (_, index) => from(index % 2 === 0 ? server : peer, address, `tsr_bad-guess-${index}`));
    const statuses = (await Promise.all(attempts)).map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(16 - LIMIT);
  });

  it.runIf(engine === 'sqlite')('counts in each process on its own: an address may fail the limit in each before it is slowed down', async () => {
    const address = '203.0.113.42';
    for (const target of [server, peer]) {
      for (let attempt = 0; attempt < LIMIT; attempt += 1) expect((await from(target, address, `tsr_bad-guess-${attempt}`)).status).toBe(401);
      expect((await from(target, address, 'tsr_bad-guess-over')).status).toBe(429);
      const valid = await from(target, address, good);
      expect(valid.status).toBe(200);
      expect(valid.data?.viewer.username).toBe('alice');
    }
  });
});

describe.skipIf(!engines().includes('postgresql'))('the failed-login limiter’s windows in PostgreSQL', () => {
  let server: TestServer;
  const clock = new TestClock();

  beforeAll(async () => {
    server = await startServer('postgresql', { clock, env: { TESSERA_AUTH_FAILURES_PER_MINUTE: String(LIMIT) } });
  });
  afterAll(async () => server?.close());

  const windowOf = (address: string) => server.tessera.db.authFailureWindow.findUnique({ where: { address } });

  it('end a minute after their first failure, by the server’s clock, and the sweep deletes the ended ones', async () => {
    const address = '203.0.113.43';
    for (let attempt = 0; attempt < LIMIT; attempt += 1) expect((await from(server, address, `tsr_bad-guess-${attempt}`)).status).toBe(401);
    expect((await from(server, address, 'tsr_bad-guess-over')).status).toBe(429);
    expect((await windowOf(address))?.failures).toBe(LIMIT + 1);

    clock.advance(59_000);
    expect((await from(server, address, 'tsr_bad-guess-late')).status).toBe(429);
    // Still the window of the first failure: it is not pushed back by the later ones.
    clock.advance(1_500);
    expect((await from(server, address, 'tsr_bad-guess-next')).status).toBe(401);
    const fresh = await windowOf(address);
    expect(fresh?.failures).toBe(1);
    expect(fresh?.windowStart.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() - 5_000);

    // A window still open is kept; once it has ended, maintenance deletes it.
    await server.tessera.tokens.runMaintenance();
    expect(await windowOf(address)).not.toBeNull();
    clock.advance(61_000);
    await server.tessera.tokens.runMaintenance();
    expect(await windowOf(address)).toBeNull();
  });
});

// ---- tessera serve --workers N ---------------------------------------------------------

/** A log line the processes wrote (JSON, one per line, on stdout). */
interface LogLine {
  msg?: string;
  pid?: number;
  worker?: number;
  workers?: number;
  primary?: boolean;
}

interface ServeProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  logs(): LogLine[];
  exited: Promise<number | null>;
}

/** `tessera serve --workers <n>` on `databaseUrl`, once it has printed its URL. */
function startWorkers(databaseUrl: string, workers: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [TESSERA_BIN, 'serve', '--workers', workers], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      TESSERA_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      TESSERA_SCOPES: TEST_SCOPES,
      TESSERA_SWEEP_INTERVAL_SECONDS: '0',
      // Uses are noted and written only when a worker flushes on shutdown.
      TESSERA_LAST_USED_INTERVAL_SECONDS: '0',
      TESSERA_LAST_USED_FLUSH_SECONDS: '3600',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Complete lines only: several processes write to the pipe, and a chunk may end mid-line.
  const logs = () =>
    stdout
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera serve --workers did not start in 90 s: ${stdout}${stderr}`));
    }, 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve --workers exited with ${code}: ${stdout}${stderr}`));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const url = /Tessera is serving \S+ and \S+ at (\S+)/.exec(stdout)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({ child, url, stdout: () => stdout, logs, exited });
    });
  });
}

/** A POST of the viewer query on a connection of its own (no keep-alive), so that each goes to whichever worker the cluster picks next. */
function viewerOnNewConnection(url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query: print(VIEWER) });
    const outgoing = httpRequest(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await pause(100)) {
    const value = probe();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function lastUsedAt(engine: Engine, databaseUrl: string, key: string): Promise<Date | null | undefined> {
  const { db } = await openDatabase(engine, databaseUrl);
  try {
    return (await db.token.findUnique({ where: { key }, select: { lastUsedAt: true } }))?.lastUsedAt;
  } finally {
    await db.$disconnect();
  }
}

describe.each(engines())('tessera serve --workers 2 on %s', (engine) => {
  it('migrates a fresh database once, prints one URL, serves from both workers, replaces a dead one, and stops all on SIGTERM with their uses written', {
    timeout: 240_000,
  }, async () => {
    const database = await freshDatabase(engine);
    let serving: ServeProcess | null = null;
    try {
      serving = await startWorkers(database.url, '2');
      const { url } = serving;
      const current = serving;
      expect(current.stdout().match(/Tessera is serving/g)).toHaveLength(1);
      const workerPids = () =>
        new Set(
          current
            .logs()
            .filter((line) => line.msg === 'worker is listening')
            .map((line) => line.pid),
        );
      // The URL is printed once both workers have said they listen; the primary's log line follows it.
      // (Each process writes its own lines to the pipe: they may come in any order.)
      await until('the log lines of the primary and both workers', () =>
        current.logs().some((line) => line.msg === 'Tessera is listening') && workerPids().size === 2 ? true : undefined,
      );
      const first = [...workerPids()];
      expect(first).toHaveLength(2);
      expect(current.logs().filter((line) => line.msg === 'applied database migrations')).toHaveLength(1);
      expect(current.logs().find((line) => line.msg === 'Tessera is listening')).toMatchObject({ primary: true, workers: 2 });

      const minted = await post(url, print(GENERATE), { input: { username: 'alice', name: 'laptop', scopes: ['user:token'] } }, { token: BOOTSTRAP_TOKEN });
      const payload = (minted.data as { generateToken: { secret: string; token: { key: string } } }).generateToken;

      // Each failed credential is logged by the worker that answered it: new connections go to both.
      for (let attempt = 0; attempt < 6; attempt += 1) expect(await viewerOnNewConnection(url, `Bearer tsr_bad-guess-${attempt}`)).toBe(401);
      const answeredBy = () =>
        new Set(
          current
            .logs()
            .filter((line) => line.msg === 'authentication failed')
            .map((line) => line.pid),
        );
      await until('six failures logged', () => (current.logs().filter((line) => line.msg === 'authentication failed').length === 6 ? true : undefined));
      expect([...answeredBy()].sort()).toEqual([...first].sort());

      // A worker that dies is replaced, and the port keeps being served.
      const [victim] = first;
      process.kill(victim!, 'SIGKILL');
      await until('a replacement worker', () => (workerPids().size === 3 ? true : undefined));
      expect(current.logs().some((line) => line.msg === 'worker died; starting another')).toBe(true);
      const serving2 = [...workerPids()].filter((pid) => pid !== victim);

      for (let use = 0; use < 6; use += 1) expect(await viewerOnNewConnection(url, `Bearer ${payload.secret}`)).toBe(200);
      // Noted, not yet written: only a worker's shutdown flush can write it.
      const before = await post(url, print(TOKEN), { key: payload.token.key }, { token: BOOTSTRAP_TOKEN });
      expect((before.data as { token: { lastUsedAt: string | null } }).token.lastUsedAt).toBeNull();

      const stoppedAt = Date.now();
      current.child.kill('SIGTERM');
      expect(await current.exited).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      expect(serving2.filter((pid) => pid !== undefined && isRunning(pid))).toEqual([]);
      await until('the output of the exited processes', () => (current.child.stdout?.readableEnded ? true : undefined), 5_000);
      expect(current.logs().filter((line) => line.msg === 'worker stopped')).toHaveLength(2);
      expect(await lastUsedAt(engine, database.url, payload.token.key)).toBeInstanceOf(Date);
    } finally {
      if (serving && serving.child.exitCode === null) serving.child.kill('SIGKILL');
      await serving?.exited;
      await database.drop();
    }
  });
});

describe('tessera serve --workers with a bad count', () => {
  it('is refused with a message naming the option, and serves nothing', async () => {
    const run = await runTessera(['serve', '--workers', 'many'], { DATABASE_URL: 'file:/nonexistent-dir/never-created.db' }, 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--workers takes a number of processes/);
    expect(run.stdout).not.toMatch(/serving/);
  });
});
