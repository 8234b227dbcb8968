/**
 * The command line, run as an operator runs it (bin/tessera.js in a child
 * process): minting beside a busy server on the same SQLite file, and
 * failing in one line, without a stack, and before touching the database
 * when the configuration is bad. SQLite only: these tests share a file.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { runTessera, type CliRun } from '../support/cli.ts';
import { BOOTSTRAP_TOKEN, startServer, type TestServer } from '../support/harness.ts';
import { generate, VIEWER, type GenerateResult } from '../support/operations.ts';

/** `tessera <args>` beside the test servers: only the given environment, on a free port of the loopback address. */
function tessera(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runTessera(args, { PORT: '0', HOST: '127.0.0.1', ...env });
}

/** A failure as the operator sees it: a non-zero exit and exactly one line on stderr, `tessera: …`, no stack. */
function expectOneLineFailure(expect: ExpectStatic, run: CliRun, mentions?: string) {
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.code).not.toBeNull();
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tessera: /);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  if (mentions) expect(lines[0]).toContain(mentions);
}

describe('tessera token create beside a busy server (SQLite)', () => {
  let server: TestServer;
  let databaseUrl: string;
  let serial = 0;

  beforeAll(async () => {
    server = await startServer('sqlite');
    databaseUrl = server.tessera.config.databaseUrl;
    expect(databaseUrl).toMatch(/^file:/);
  });
  afterAll(async () => server?.close());

  it('mints and prints the token while 25 generateToken calls at a time hit the same file', { timeout: 180_000 }, async () => {
    for (let round = 1; round <= 3; round += 1) {
      let finished = false;
      // The server is kept busy until the CLI is done.
      const clis = Promise.all([
        tessera(['token', 'create', '--username', 'carol', '--name', `cli-${round}`, '--scopes', 'user:token'], { DATABASE_URL: databaseUrl }),
      ]).finally(() => {
        finished = true;
      });
      const load = (async () => {
        const results: GenerateResult[] = [];
        while (!finished) {
          const wave = Array.from({ length: 25 }, () =>
            generate(server, BOOTSTRAP_TOKEN, { username: 'dave', name: `load-${(serial += 1)}`, scopes: ['user:token'] }),
          );
          results.push(...(await Promise.all(wave)));
        }
        return results;
      })();
      const [runs, results] = await Promise.all([clis, load]);

      for (const run of runs) {
        expect(run.code, `round ${round}: ${run.stderr}`).toBe(0);
        const printed = run.stdout.trim().split('\n');
        expect(printed).toHaveLength(1);
        expect(printed[0]).toMatch(/^tsr_[0-9A-Za-z]+$/);
        // The printed token works against the server that shares the file.
        const viewer = await server.request(VIEWER, {}, { token: printed[0] });
        expect(viewer.status).toBe(200);
        expect(viewer.data?.viewer.username).toBe('carol');
      }
      expect(results.length).toBeGreaterThanOrEqual(25);
      expect(results.filter((result) => result.__typename !== 'GenerateTokenPayload')).toEqual([]);
    }
  });
});

// Independent processes: run side by side to keep the suite short.
describe.concurrent('tessera failures', () => {
  let directory: string;
  let occupied: Server;
  let occupiedPort: number;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    occupied = createServer();
    await new Promise<void>((listening) => occupied.listen(0, '127.0.0.1', listening));
    occupiedPort = (occupied.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((closed) => occupied?.close(closed));
    rmSync(directory, { recursive: true, force: true });
  });

  it('refuses a bad TESSERA_DEFAULT_GENERATOR in one line, before creating or migrating the database', async ({ expect }) => {
    const file = join(directory, 'never-created.db');
    const run = await tessera(['serve'], { DATABASE_URL: `file:${file}`, TESSERA_DEFAULT_GENERATOR: 'bogus' });
    expectOneLineFailure(expect, run, 'TESSERA_DEFAULT_GENERATOR');
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(directory).filter((name) => name.startsWith('never-created'))).toEqual([]);
  });

  it('says in one line that the port is in use, and exits', async ({ expect }) => {
    const run = await tessera(['serve'], { DATABASE_URL: `file:${join(directory, 'port.db')}`, PORT: String(occupiedPort) });
    expectOneLineFailure(expect, run, String(occupiedPort));
  });

  it('reports a refused request and an unexpected fault of token create in one line each, without a stack', async ({ expect }) => {
    const database = { DATABASE_URL: `file:${join(directory, 'create.db')}` };
    // A path under a regular file: the database cannot be opened at all.
    const blocker = join(directory, 'not-a-directory');
    writeFileSync(blocker, '');
    const [unknownScope, noDatabase] = await Promise.all([
      tessera(['token', 'create', '--username', 'carol', '--name', 'x', '--scopes', 'nope:nope'], database),
      tessera(['token', 'create', '--username', 'carol', '--name', 'x', '--scopes', 'user:token'], { DATABASE_URL: `file:${join(blocker, 'x.db')}` }),
    ]);
    expectOneLineFailure(expect, unknownScope, 'nope:nope');
    expectOneLineFailure(expect, noDatabase);
    for (const run of [unknownScope, noDatabase]) expect(run.stdout).toBe('');
  });
});
