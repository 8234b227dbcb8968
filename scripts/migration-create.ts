/**
 * Creates a migration for each engine from the datamodel (prisma/models.prisma):
 *
 *   tsx scripts/migration-create.ts <name> [--engine sqlite|postgresql]
 *
 * For each engine it diffs the database the committed migrations describe
 * against the datamodel (through Prisma's WebAssembly schema engine, see
 * src/db/migrations/run-engine.ts) and, when they differ, writes
 * prisma/<engine>/migrations/<UTC yyyymmddHHMMss>_<name>/migration.sql, plus
 * migration_lock.toml when missing -- what `prisma migrate dev --create-only`
 * writes. It never touches a real database:
 *
 * - SQLite replays the migrations in an in-memory database.
 * - PostgreSQL needs a server, on which a temporary database is created and
 *   dropped: $TESSERA_SHADOW_DATABASE_URL, else the test cluster that
 *   `bash scripts/postgres.sh start` starts (its URL is its last stdout line).
 *   The role needs CREATEDB.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { Engine } from '../src/config.ts';
import { lockfileContent, migrationsDir } from '../src/db/migrations/on-disk.ts';
import { postgresMigrationAdapterFactory } from '../src/db/migrations/postgres-adapter.ts';
import { diffMigrationsToSchema } from '../src/db/migrations/run-engine.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const engines: Engine[] = ['sqlite', 'postgresql'];

function usage(message?: string): never {
  if (message) console.error(`migration-create: ${message}`);
  console.error('usage: tsx scripts/migration-create.ts <name> [--engine sqlite|postgresql]');
  process.exit(2);
}

/** `20250101120000`: UTC, the format `prisma migrate dev` uses. */
function timestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

/** Lowercase letters, digits and underscores, as Prisma slugifies migration names. */
function slug(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function postgresServerUrl(): string {
  const fromEnv = process.env.TESSERA_SHADOW_DATABASE_URL?.trim();
  if (fromEnv) return fromEnv;
  const script = join(repoRoot, 'scripts', 'postgres.sh');
  if (!existsSync(script)) {
    throw new Error('PostgreSQL needs a server: set TESSERA_SHADOW_DATABASE_URL (a role with CREATEDB)');
  }
  console.error('migration-create: starting the test PostgreSQL (bash scripts/postgres.sh start)');
  const stdout = execFileSync('bash', [script, 'start'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 120_000,
  });
  const url = stdout.trim().split('\n').at(-1)?.trim() ?? '';
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`scripts/postgres.sh start printed no PostgreSQL URL (stdout: ${JSON.stringify(stdout)})`);
  }
  return url;
}

function adapterFactoryFor(engine: Engine): SqlMigrationAwareDriverAdapterFactory {
  // SQLite: nothing is written to the main connection and the adapter's
  // shadow database is in memory too.
  if (engine === 'sqlite') return new PrismaBetterSqlite3({ url: ':memory:' });
  return postgresMigrationAdapterFactory(postgresServerUrl());
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { engine: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) usage();
  const [given] = positionals;
  if (positionals.length !== 1 || given === undefined) usage('expected exactly one migration name');
  const name = slug(given);
  if (!name) usage(`"${positionals[0]}" is not a usable migration name`);
  const selected = values.engine === undefined ? engines : engines.filter((engine) => engine === values.engine);
  if (selected.length === 0) usage(`unknown engine "${values.engine}"`);

  // One timestamp for every engine, so that their migrations pair up by name.
  const directoryName = `${timestamp(new Date())}_${name}`;
  for (const engine of selected) {
    const sql = await diffMigrationsToSchema({ engine, adapterFactory: adapterFactoryFor(engine) });
    if (sql === '') {
      console.log(`${engine}: the migrations already match the datamodel; nothing written`);
      continue;
    }
    const baseDir = migrationsDir(engine);
    const directory = join(baseDir, directoryName);
    if (existsSync(directory)) throw new Error(`${relative(repoRoot, directory)} already exists`);
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'migration.sql'), sql, 'utf8');
    console.log(`${engine}: wrote ${relative(repoRoot, join(directory, 'migration.sql'))}`);
    const lockfile = join(baseDir, 'migration_lock.toml');
    if (!existsSync(lockfile)) {
      await writeFile(lockfile, lockfileContent(engine), 'utf8');
      console.log(`${engine}: wrote ${relative(repoRoot, lockfile)}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('migration-create:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
