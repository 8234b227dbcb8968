import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

// Proves the globalSetup harness (test/global-setup.ts + scripts/postgres.sh)
// provides a PostgreSQL the suites can use. Without one the test is skipped,
// unless TESSERA_REQUIRE_POSTGRES=1 (CI), as in test/support/harness.ts.
const url = inject('postgresUrl');
const required = process.env.TESSERA_REQUIRE_POSTGRES === '1';
const shownUrl = url?.replace(/:[^:@/]*@/, ':***@') ?? 'none';

describe('PostgreSQL test harness', () => {
  it.skipIf(!url && !required)(`provides a server that creates and drops databases (${shownUrl})`, async () => {
    if (!url) expect.fail('TESSERA_REQUIRE_POSTGRES=1 but globalSetup provided no PostgreSQL URL');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      // What the suites do with it: a database per test server, and the
      // migration engine's shadow database, both dropped WITH (FORCE) (PostgreSQL 13+).
      const name = `tessera_harness_${randomBytes(6).toString('hex')}`;
      await client.query(`CREATE DATABASE ${name}`);
      try {
        const found = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = $1', [name]);
        expect(found.rows).toEqual([{ datname: name }]);
      } finally {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
      const gone = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      expect(gone.rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });
});
