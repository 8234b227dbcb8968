import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import type { Engine } from './options.ts';
import { PROJECT_ROOT, TESSERA_BIN } from './paths.ts';
import { runCommand } from './processes.ts';
import { tesseraEnvironment } from './servers.ts';

/**
 * The benchmark's own databases: SQLite files in its temporary folder, and
 * databases it creates (bench_<pid>_<name>) on a PostgreSQL server and drops
 * at the end. It never touches a database it did not create.
 */

export interface BenchDatabase {
  engine: Engine;
  name: string;
  /** DATABASE_URL for Tessera. */
  url: string;
  /** The SQLite file (SQLite only). */
  path: string | null;
}

export interface PostgresServer {
  /** Where CREATE/DROP DATABASE are sent: the server's `postgres` database (or BENCH_DATABASE_URL's own). */
  adminUrl: string;
  /** Where it came from, for the report. */
  source: string;
  version: string;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? '?';
  } finally {
    await client.end();
  }
}

/**
 * BENCH_DATABASE_URL's server, else the project's private cluster
 * (`bash scripts/postgres.sh start`, whose last stdout line is a URL); null,
 * with the reason, when there is none.
 */
export async function findPostgres(benchUrl: string | null): Promise<{ server: PostgresServer | null; reason: string }> {
  let url = benchUrl;
  let source = 'BENCH_DATABASE_URL';
  if (!url) {
    const started = await runCommand('bash', ['scripts/postgres.sh', 'start'], { cwd: PROJECT_ROOT, env: process.env, timeoutMs: 120_000 });
    const last = started.stdout.trim().split('\n').at(-1) ?? '';
    if (started.code !== 0 || !last.startsWith('postgresql://')) {
      return { server: null, reason: `scripts/postgres.sh start failed (${started.code}): ${started.stderr.trim().split('\n').at(-1) ?? ''}` };
    }
    url = last;
    source = 'scripts/postgres.sh (the project’s private cluster)';
  }
  // The maintenance database, so that nothing connects to the one the URL names (the tests' own, usually).
  let lastError = '';
  for (const candidate of [withDatabase(url, 'postgres'), ...(benchUrl ? [benchUrl] : [])]) {
    try {
      return { server: { adminUrl: candidate, source, version: await serverVersion(candidate) }, reason: '' };
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
  }
  return { server: null, reason: `cannot connect to ${new URL(url).host}: ${lastError}` };
}

export class Databases {
  private readonly created: BenchDatabase[] = [];
  private readonly templates = new Map<Engine, Promise<BenchDatabase>>();

  constructor(
    private readonly workDir: string,
    private readonly postgres: PostgresServer | null,
  ) {}

  /**
   * An empty, migrated database: a copy of a template that `node bin/tessera.js
   * migrate` made once per engine (SQLite: VACUUM INTO; PostgreSQL: CREATE
   * DATABASE … TEMPLATE).
   */
  async create(engine: Engine, name: string): Promise<BenchDatabase> {
    const template = await this.template(engine);
    const database = this.describe(engine, name);
    if (database.path) {
      const sqlite = new Sqlite(template.path!, { readonly: true });
      try {
        sqlite.exec(`VACUUM INTO '${database.path.replaceAll("'", "''")}'`);
      } finally {
        sqlite.close();
      }
    } else {
      await this.admin(`DROP DATABASE IF EXISTS "${dbName(database)}" WITH (FORCE)`);
      await this.admin(`CREATE DATABASE "${dbName(database)}" TEMPLATE "${dbName(template)}"`);
    }
    this.created.push(database);
    return database;
  }

  /** Makes (once) and migrates the engine's template; later calls wait for the same one. */
  template(engine: Engine): Promise<BenchDatabase> {
    let template = this.templates.get(engine);
    if (!template) {
      template = (async () => {
        const database = this.describe(engine, 'template');
        if (!database.path) {
          await this.admin(`DROP DATABASE IF EXISTS "${dbName(database)}" WITH (FORCE)`);
          await this.admin(`CREATE DATABASE "${dbName(database)}" ENCODING 'UTF8' TEMPLATE template0`);
        }
        this.created.push(database);
        const migrated = await runCommand(process.execPath, [TESSERA_BIN, 'migrate'], {
          cwd: PROJECT_ROOT,
          env: tesseraEnvironment(database.url),
          timeoutMs: 120_000,
        });
        if (migrated.code !== 0) throw new Error(`tessera migrate failed on a new ${engine} database: ${(migrated.stdout + migrated.stderr).trim()}`);
        return database;
      })();
      this.templates.set(engine, template);
    }
    return template;
  }

  private describe(engine: Engine, name: string): BenchDatabase {
    if (engine === 'sqlite') {
      const path = join(this.workDir, `${name}.db`);
      return { engine, name, url: `file:${path}`, path };
    }
    if (!this.postgres) throw new Error('no PostgreSQL server');
    const database = `bench_${process.pid}_${name}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    return { engine, name, url: withDatabase(this.postgres.adminUrl, database), path: null };
  }

  /** Deletes a database this run made. */
  async drop(database: BenchDatabase): Promise<void> {
    const index = this.created.indexOf(database);
    if (index >= 0) this.created.splice(index, 1);
    if (database.path) {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${database.path}${suffix}`, { force: true });
    } else {
      await this.admin(`DROP DATABASE IF EXISTS "${dbName(database)}" WITH (FORCE)`);
    }
  }

  async dropAll(): Promise<void> {
    for (const database of [...this.created].reverse()) {
      try {
        await this.drop(database);
      } catch (error) {
        process.stderr.write(`# could not drop ${database.name}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.postgres!.adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

const dbName = (database: BenchDatabase): string => new URL(database.url).pathname.slice(1);
