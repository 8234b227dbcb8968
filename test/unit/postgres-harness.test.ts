import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

// Proves the globalSetup harness (test/global-setup.ts + scripts/postgres.sh) works.
describe('PostgreSQL test harness', () => {
  const url = inject('postgresUrl');

  it(url ? `connects to ${url.replace(/:[^:@/]*@/, ':***@')}` : 'has no PostgreSQL (allowed only without TESSERA_REQUIRE_POSTGRES)', async () => {
    if (url === null) {
      if (process.env.TESSERA_REQUIRE_POSTGRES === '1') {
        expect.fail('TESSERA_REQUIRE_POSTGRES=1 but globalSetup provided no PostgreSQL URL');
      }
      console.warn('postgres-harness: no PostgreSQL available; the PostgreSQL suite is skipped in this run');
      expect(url).toBeNull();
      return;
    }

    expect(url).toMatch(/^postgres(ql)?:\/\//);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      const result = await client.query<{ one: number }>('select 1 as one');
      expect(result.rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });
});
