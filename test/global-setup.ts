/**
 * Vitest globalSetup: makes a PostgreSQL database available to the test suite.
 *
 * - TESSERA_TEST_DATABASE_URL set      -> that URL is provided as-is.
 * - otherwise                          -> `bash scripts/postgres.sh start` (private cluster under .pg/,
 *                                         or /tmp/tessera-pg-<port>/), its last stdout line is the URL.
 * - start fails, TESSERA_REQUIRE_POSTGRES unset -> `null` is provided and the PostgreSQL suite skips
 *                                         itself (loud warning below).
 * - start fails, TESSERA_REQUIRE_POSTGRES=1 (CI) -> the run fails.
 *
 * Tests read it with `inject('postgresUrl')` from 'vitest'.
 *
 * The cluster is deliberately left running after the run (reruns are faster);
 * stop it with `bash scripts/postgres.sh stop` (npm run db:test:stop).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function requirePostgres(): boolean {
  const v = process.env.TESSERA_REQUIRE_POSTGRES;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function startPostgres(): string {
  const stdout = execFileSync('bash', [path.join(repoRoot, 'scripts', 'postgres.sh'), 'start'], {
    cwd: repoRoot,
    encoding: 'utf8',
    // Progress/diagnostics from the script go straight to our stderr; only the URL is on stdout.
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 120_000,
  });
  const lines = stdout.trim().split('\n');
  const url = lines[lines.length - 1]?.trim() ?? '';
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`scripts/postgres.sh start did not print a PostgreSQL URL (stdout: ${JSON.stringify(stdout)})`);
  }
  return url;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.TESSERA_TEST_DATABASE_URL?.trim();
  let url: string | null;

  if (fromEnv) {
    url = fromEnv;
  } else {
    try {
      url = startPostgres();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (requirePostgres()) {
        throw new Error(`TESSERA_REQUIRE_POSTGRES is set but the test PostgreSQL could not be started: ${reason}`, { cause: error });
      }
      url = null;
      const bar = '!'.repeat(78);
      console.warn(
        [
          '',
          bar,
          '!! WARNING: could not start the test PostgreSQL (scripts/postgres.sh start).',
          '!! The PostgreSQL test suite will be SKIPPED; only SQLite is being tested.',
          `!! Reason: ${reason.split('\n')[0]}`,
          '!! Set TESSERA_TEST_DATABASE_URL to use an existing server, or',
          '!! TESSERA_REQUIRE_POSTGRES=1 to make this a hard failure (CI does).',
          bar,
          '',
        ].join('\n'),
      );
    }
  }

  project.provide('postgresUrl', url);

  return async () => {
    // Intentionally empty: the cluster stays up for fast reruns (`bash scripts/postgres.sh stop`).
  };
}
