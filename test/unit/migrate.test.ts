import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import type { Engine } from '../../src/config.ts';
import { committedMigrations, migrationsDir, schemaDir } from '../../src/db/migrations/on-disk.ts';
import { postgresMigrationAdapterFactory } from '../../src/db/migrations/postgres-adapter.ts';
import { applyMigrations, diffMigrationsToSchema } from '../../src/db/migrations/run-engine.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The SQL of the committed migration whose name ends with `suffix`. */
async function migrationSql(engine: Engine, suffix: string): Promise<string> {
  const name = (await committedMigrations(engine)).find((candidate) => candidate.endsWith(suffix));
  if (!name) throw new Error(`no ${engine} migration *${suffix}`);
  return readFileSync(join(migrationsDir(engine), name, 'migration.sql'), 'utf8');
}

const TOKEN_COLUMNS = `"key", "secret_hash", "generator_id", "username", "token_type", "scopes", "policy", "metadata"`;

describe('migration folders', () => {
  it.each(['sqlite', 'postgresql'] as const)('%s: resolved from the module, with an init migration and a lockfile', async (engine) => {
    expect(isAbsolute(schemaDir(engine))).toBe(true);
    expect(schemaDir(engine)).toBe(join(repoRoot, 'prisma', engine));
    expect(migrationsDir(engine)).toBe(join(repoRoot, 'prisma', engine, 'migrations'));
    expect(existsSync(join(schemaDir(engine), 'models.prisma'))).toBe(true);
    expect((await committedMigrations(engine))[0]).toMatch(/^\d{14}_init$/);
    expect(readFileSync(join(migrationsDir(engine), 'migration_lock.toml'), 'utf8')).toContain(`provider = "${engine}"`);
  });

  it('names the same migrations for both engines', async () => {
    expect(await committedMigrations('postgresql')).toEqual(await committedMigrations('sqlite'));
  });
});

describe('SQLite migrations', () => {
  it('apply to a fresh database, then are a no-op', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
    const file = join(dir, 'test.db');
    try {
      const applied = await applyMigrations({ engine: 'sqlite', adapterFactory: new PrismaBetterSqlite3({ url: `file:${file}` }) });
      expect(applied).toEqual(await committedMigrations('sqlite'));

      const db = new Database(file, { readonly: true });
      try {
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
        expect(tables).toEqual(expect.arrayContaining(['tokens', 'token_change_history', '_prisma_migrations']));
        const rows = db
          .prepare('SELECT migration_name, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name')
          .all() as { migration_name: string; finished_at: unknown; rolled_back_at: unknown; applied_steps_count: number }[];
        expect(rows.map((row) => row.migration_name)).toEqual(applied);
        expect(rows[0]!.migration_name).toMatch(/_init$/);
        for (const row of rows) {
          expect(row.finished_at).not.toBeNull();
          expect(row.rolled_back_at).toBeNull();
        }
      } finally {
        db.close();
      }

      const again = await applyMigrations({ engine: 'sqlite', adapterFactory: new PrismaBetterSqlite3({ url: `file:${file}` }) });
      expect(again).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('match the datamodel (a model change needs `tsx scripts/migration-create.ts <name>`)', async () => {
    const sql = await diffMigrationsToSchema({ engine: 'sqlite', adapterFactory: new PrismaBetterSqlite3({ url: ':memory:' }) });
    expect(sql).toBe('');
  });
  it('backfill token_scopes with a row per scope of the tokens already there', async () => {
    const db = new Database(':memory:');
    try {
      db.exec(await migrationSql('sqlite', '_init'));
      const insert = db.prepare(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, 'vendor_checksum', 'alice', 'user', ?, '{}', '{}')`);
      insert.run('key-a', 'hash-a', '["read:all","user:token"]');
      insert.run('key-b', 'hash-b', '[]');
      db.exec(await migrationSql('sqlite', '_token_scopes'));
      expect(db.prepare('SELECT token_key, scope FROM token_scopes ORDER BY token_key, scope').all()).toEqual([
        { token_key: 'key-a', scope: 'read:all' },
        { token_key: 'key-a', scope: 'user:token' },
      ]);
    } finally {
      db.close();
    }
  });
});

const postgresUrl = inject('postgresUrl');
// As test/support/harness.ts engines(): CI sets it, and then a missing PostgreSQL fails these tests instead of skipping them.
const postgresRequired = process.env.TESSERA_REQUIRE_POSTGRES === '1';

describe.skipIf(!postgresUrl && !postgresRequired)('PostgreSQL migrations', () => {
  /** `postgresUrl` with Prisma's `?schema=` set to a fresh schema; the schema is dropped afterwards. */
  async function withFreshSchema(run: (schemaUrl: string, schema: string, client: pg.Client) => Promise<void>): Promise<void> {
    if (!postgresUrl) throw new Error('TESSERA_REQUIRE_POSTGRES=1 but globalSetup provided no PostgreSQL URL');
    const schema = `mig_${randomBytes(6).toString('hex')}`;
    const schemaUrl = new URL(postgresUrl);
    schemaUrl.searchParams.set('schema', schema);
    const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      await run(schemaUrl.toString(), schema, client);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }

  it('apply to a fresh schema, then are a no-op, and match the datamodel', async () => {
    await withFreshSchema(async (schemaUrl, schema, client) => {
      const applied = await applyMigrations({ engine: 'postgresql', adapterFactory: postgresMigrationAdapterFactory(schemaUrl) });
      expect(applied).toEqual(await committedMigrations('postgresql'));

      const tables = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
      expect(tables.rows.map((row) => row.table_name)).toEqual(expect.arrayContaining(['tokens', 'token_change_history', '_prisma_migrations']));
      // Nothing leaked into public.
      const inPublic = await client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'token_change_history'");
      expect(inPublic.rowCount).toBe(0);
      const rows = await client.query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
        `SELECT migration_name, finished_at, rolled_back_at FROM "${schema}"._prisma_migrations ORDER BY migration_name`,
      );
      expect(rows.rows.map((row) => row.migration_name)).toEqual(applied);
      expect(rows.rows[0]!.migration_name).toMatch(/_init$/);
      for (const row of rows.rows) {
        expect(row.finished_at).not.toBeNull();
        expect(row.rolled_back_at).toBeNull();
      }

      expect(await applyMigrations({ engine: 'postgresql', adapterFactory: postgresMigrationAdapterFactory(schemaUrl) })).toEqual([]);

      const shadowsBefore = await shadowDatabases(client);
      const sql = await diffMigrationsToSchema({ engine: 'postgresql', adapterFactory: postgresMigrationAdapterFactory(schemaUrl) });
      expect(sql).toBe('');
      // The temporary shadow database is gone again.
      expect(await shadowDatabases(client)).toEqual(shadowsBefore);
    });
  });

  it('backfill token_scopes with a row per scope of the tokens already there', async () => {
    await withFreshSchema(async (_schemaUrl, schema, client) => {
      await client.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
      await client.query(await migrationSql('postgresql', '_init'));
      const insert = `INSERT INTO tokens (${TOKEN_COLUMNS}, "last_updated_at") VALUES ($1, $2, 'vendor_checksum', 'alice', 'user', $3, '{}', '{}', now())`;
      await client.query(insert, ['key-a', 'hash-a', '["read:all","user:token"]']);
      await client.query(insert, ['key-b', 'hash-b', '[]']);
      await client.query(await migrationSql('postgresql', '_token_scopes'));
      const rows = await client.query('SELECT token_key, scope FROM token_scopes ORDER BY token_key, scope');
      expect(rows.rows).toEqual([
        { token_key: 'key-a', scope: 'read:all' },
        { token_key: 'key-a', scope: 'user:token' },
      ]);
      await client.query('SET search_path TO public');
    });
  });

  it('let a one-shot process exit at once (the engine leaves a 10 s timer behind)', async () => {
    await withFreshSchema(async (schemaUrl) => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
      try {
        const script = join(dir, 'apply.mts');
        const modules = join(repoRoot, 'src', 'db', 'migrations');
        writeFileSync(
          script,
          `import { applyMigrations } from ${JSON.stringify(join(modules, 'run-engine.ts'))};\n` +
            `import { postgresMigrationAdapterFactory } from ${JSON.stringify(join(modules, 'postgres-adapter.ts'))};\n` +
            `const applied = await applyMigrations({ engine: 'postgresql', adapterFactory: postgresMigrationAdapterFactory(process.argv[2]) });\n` +
            `console.log(JSON.stringify(applied));\n`,
        );
        const started = Date.now();
        const child = spawnSync(process.execPath, ['--import', 'tsx', script, schemaUrl], {
          cwd: repoRoot,
          encoding: 'utf8',
          timeout: 9_000,
        });
        const elapsed = Date.now() - started;
        expect(child.error, child.stderr).toBeUndefined();
        expect(child.status, child.stderr).toBe(0);
        expect(JSON.parse(child.stdout.trim())).toEqual(await committedMigrations('postgresql'));
        expect(elapsed).toBeLessThan(8_000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

async function shadowDatabases(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'prisma_shadow_%' ORDER BY datname");
  return result.rows.map((row) => row.datname);
}
