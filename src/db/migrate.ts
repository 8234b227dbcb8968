/**
 * Database migrations through Prisma's WebAssembly schema engine.
 *
 * The Prisma CLI's `migrate` commands need a native schema-engine binary that
 * cannot be downloaded here, so this module drives the same engine compiled to
 * WebAssembly (`@prisma/schema-engine-wasm`, pinned to the engine of the
 * installed `prisma`) through a driver adapter. It reads the committed
 * migrations in the standard layout (`prisma/<engine>/migrations/<name>/migration.sql`
 * plus `migration_lock.toml`) and records them in the `_prisma_migrations`
 * table, exactly as `prisma migrate deploy` does, so either tool can take over.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
} from '@prisma/driver-adapter-utils';
import { PrismaPg } from '@prisma/adapter-pg';
import type { MigrationList, SchemaContainer, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

import type { Engine } from '../config.ts';

export type { Engine };
export type { SqlMigrationAwareDriverAdapterFactory };

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Absolute path of `prisma/<engine>`: the engine's schema folder (datasource, generators, link to the models). */
export function schemaDir(engine: Engine): string {
  return join(projectRoot, 'prisma', engine);
}

/** Absolute path of `prisma/<engine>/migrations`. */
export function migrationsDir(engine: Engine): string {
  return join(schemaDir(engine), 'migrations');
}

// ---------------------------------------------------------------------------
// Loading the WebAssembly module (once per process)

type Bindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

let bindingsPromise: Promise<Bindings> | undefined;
/** Timers the engine started and that have not fired yet. */
const pendingTimers = new Set<NodeJS.Timeout>();
/** Engines created and not yet freed: timers are only cleared when none is left. */
let liveEngines = 0;
/** The message of the engine's last Rust panic, set through the global registry below. */
let lastPanicMessage: string | undefined;

/** The WebAssembly global, which this project's type libraries (ES2023, Node) do not declare. */
const webAssembly = (
  globalThis as unknown as {
    WebAssembly: {
      instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: Record<string, unknown> } }>;
    };
  }
).WebAssembly;

function loadBindings(): Promise<Bindings> {
  bindingsPromise ??= instantiate().catch((error: unknown) => {
    bindingsPromise = undefined;
    throw error;
  });
  return bindingsPromise;
}

async function instantiate(): Promise<Bindings> {
  // The package's main entry imports the .wasm file as an ES module, which
  // Node 20 only does behind --experimental-wasm-modules; the glue module
  // (`schema_engine_bg`) plus bytes we instantiate ourselves need no flag.
  const bg: Bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const gluePath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bytes = await readFile(join(dirname(gluePath), 'schema_engine_bg.wasm'));

  // The glue reports Rust panics to this global (the Prisma client defines it
  // too for its own WebAssembly; keep theirs if present).
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } };
  g.PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message(message: string) {
      lastPanicMessage = message;
    },
  };

  // The engine arms timeouts (about 10 s) that stay pending after its work is
  // done and would keep a one-shot process alive: unref them, remember them,
  // and clear them once no engine is alive any more.
  const imports: Record<string, unknown> = { ...bg };
  for (const name of Object.keys(bg)) {
    if (name.startsWith('__wbg_setTimeout_')) {
      imports[name] = (callback: () => void, ms: number) => {
        const timer: NodeJS.Timeout = setTimeout(() => {
          pendingTimers.delete(timer);
          callback();
        }, ms >>> 0);
        timer.unref();
        pendingTimers.add(timer);
        return timer;
      };
    }
  }

  const { instance } = await webAssembly.instantiate(bytes, { './schema_engine_bg.js': imports });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bg;
}

// ---------------------------------------------------------------------------
// Reading the schema and the migrations from disk

/** Every `*.prisma` file of the engine's schema folder (the models arrive through a symlink). */
async function readSchemaFiles(engine: Engine): Promise<SchemaContainer[]> {
  const dir = schemaDir(engine);
  const names = (await readdir(dir)).filter((name) => name.endsWith('.prisma')).sort();
  if (names.length === 0) throw new Error(`No .prisma files in ${dir}`);
  return Promise.all(names.map(async (name) => ({ path: join(dir, name), content: await readFile(join(dir, name), 'utf8') })));
}

/**
 * The committed migrations, in the shape the engine wants (as the Prisma CLI
 * builds it). The engine tells the connector from the lockfile, which is
 * absent before the first migration: stand in what `prisma migrate dev`
 * would write there. A lockfile naming another provider is passed as is, and
 * the engine refuses it.
 */
async function readMigrations(engine: Engine): Promise<MigrationList> {
  const baseDir = migrationsDir(engine);
  const lockfilePath = 'migration_lock.toml';
  const lockfile = await readFile(join(baseDir, lockfilePath), 'utf8').catch(() => lockfileContent(engine));
  const entries = await readdir(baseDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const directories = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
  return {
    baseDir,
    lockfile: { path: lockfilePath, content: lockfile },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      directories.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(join(baseDir, name, 'migration.sql'), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (error: Error) => ({ tag: 'error' as const, value: error.message }),
          ),
        },
      })),
    ),
  };
}

// ---------------------------------------------------------------------------
// Running the engine

const noFilter = { externalTables: [], externalEnums: [] };

/** A migration-aware factory whose shadow database comes from `shadow` when given. */
function withShadow(
  main: SqlMigrationAwareDriverAdapterFactory,
  shadow: SqlDriverAdapterFactory | undefined,
): SqlMigrationAwareDriverAdapterFactory {
  if (!shadow) return main;
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    connectToShadowDb: () => shadow.connect(),
  };
}

/**
 * Wraps the factory so that every adapter it hands the engine is tracked:
 * the engine does not always dispose of its connections (freeing it leaves
 * them open, and an open pg pool keeps the process alive), so whatever is
 * still open once the engine is freed gets disposed of here.
 */
function tracked(factory: SqlMigrationAwareDriverAdapterFactory, open: Set<SqlDriverAdapter>): SqlMigrationAwareDriverAdapterFactory {
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    open.add(adapter);
    readCharColumnsAsText(adapter);
    const executeScript = wholeScriptExecutor(adapter);
    const { executeRaw, queryRaw } = sqliteScriptFallback(adapter);
    return new Proxy(adapter, {
      get(target, property, receiver) {
        if (property === 'dispose') {
          return async () => {
            if (!open.delete(target)) return;
            await target.dispose();
          };
        }
        if (property === 'executeScript' && executeScript) return executeScript;
        if (property === 'executeRaw' && executeRaw) return executeRaw;
        if (property === 'queryRaw' && queryRaw) return queryRaw;
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => track(await factory.connect()),
    connectToShadowDb: async () => track(await factory.connectToShadowDb()),
  };
}

/**
 * adapter-pg's `executeScript` splits the script on every `;` (even inside a
 * string literal, a comment or a function body) and runs the pieces one by
 * one on whichever pooled connection is free, so a failing migration is left
 * half applied. PostgreSQL runs a whole multi-statement script sent as one
 * simple query atomically, which is what the native engine does: do that.
 */
function wholeScriptExecutor(adapter: SqlDriverAdapter): ((script: string) => Promise<void>) | undefined {
  const pg = adapter as SqlDriverAdapter & {
    underlyingDriver?: () => { query(text: string): Promise<unknown> };
    onError?: (error: unknown) => never;
  };
  if (adapter.provider !== 'postgres' || typeof pg.underlyingDriver !== 'function') return undefined;
  const pool = pg.underlyingDriver();
  return async (script: string) => {
    try {
      await pool.query(script);
    } catch (error) {
      // The adapter's own mapping to a DriverAdapterError, which the engine understands.
      if (typeof pg.onError === 'function') pg.onError.call(adapter, error);
      throw error;
    }
  };
}

/**
 * On SQLite the engine sends each migration script through `executeRaw`,
 * where better-sqlite3 prepares a single statement and refuses the rest
 * ("The supplied SQL string contains more than one statement"). A script
 * without parameters runs fine through the adapter's `executeScript`
 * (better-sqlite3's `exec`) on the same connection: fall back to it.
 */
function sqliteScriptFallback(adapter: SqlDriverAdapter): Partial<Pick<SqlDriverAdapter, 'executeRaw' | 'queryRaw'>> {
  if (adapter.provider !== 'sqlite') return {};
  const isMultiStatementRefusal = (error: unknown, query: SqlQuery) =>
    query.args.length === 0 && error instanceof RangeError && /more than one statement/i.test(error.message);
  return {
    executeRaw: async (query) => {
      try {
        return await adapter.executeRaw(query);
      } catch (error) {
        if (!isMultiStatementRefusal(error, query)) throw error;
        await adapter.executeScript(query.sql);
        return 0;
      }
    },
    queryRaw: async (query) => {
      try {
        return await adapter.queryRaw(query);
      } catch (error) {
        if (!isMultiStatementRefusal(error, query)) throw error;
        await adapter.executeScript(query.sql);
        return { columnNames: [], columnTypes: [], rows: [] };
      }
    },
  };
}

/** PostgreSQL's internal one-byte `"char"` type (pg_type OID 18) and `text` (OID 25). */
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/**
 * The engine's PostgreSQL introspection reads catalog columns of type
 * `"char"` (pg_constraint.contype and the like), which adapter-pg refuses
 * ("Column type 'char' could not be deserialized"). node-postgres returns
 * them as one-character strings anyway, so report them as text.
 *
 * This replaces the adapter's private `performIO` on the instance; when a
 * future adapter version renames it, nothing is patched and the original
 * error comes back (the unit test's staleness check would show it).
 */
function readCharColumnsAsText(adapter: SqlDriverAdapter): void {
  if (adapter.provider !== 'postgres') return;
  const target = adapter as SqlDriverAdapter & { performIO?: (query: unknown) => Promise<{ fields?: { dataTypeID: number }[] }> };
  const performIO = target.performIO;
  if (typeof performIO !== 'function') return;
  target.performIO = async (query: unknown) => {
    const result = await performIO.call(adapter, query);
    for (const field of result?.fields ?? []) {
      if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    }
    return result;
  };
}

async function withEngine<T>(
  engine: Engine,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  log: ((line: string) => void) | undefined,
  run: (schemaEngine: SchemaEngine, schemaFiles: SchemaContainer[]) => Promise<T>,
): Promise<T> {
  const expected = engine === 'sqlite' ? 'sqlite' : 'postgres';
  if (adapterFactory.provider !== expected) {
    throw new Error(`The ${engine} migrations need a ${expected} adapter, got ${adapterFactory.provider} (${adapterFactory.adapterName})`);
  }
  const bg = await loadBindings();
  const schemaFiles = await readSchemaFiles(engine);
  const open = new Set<SqlDriverAdapter>();
  const bound = bindMigrationAwareSqlAdapterFactory(tracked(adapterFactory, open));
  liveEngines++;
  let schemaEngine: SchemaEngine | undefined;
  try {
    lastPanicMessage = undefined;
    schemaEngine = await bg.SchemaEngine.new(
      { datamodels: schemaFiles.map((file) => [file.path, file.content]) },
      (line: string) => log?.(formatEngineLog(line)),
      bound,
    );
    return await run(schemaEngine, schemaFiles);
  } catch (error) {
    throw engineError(error, bound.errorRegistry);
  } finally {
    schemaEngine?.free();
    const leftovers = [...open];
    open.clear();
    await Promise.allSettled(leftovers.map((adapter) => adapter.dispose()));
    liveEngines--;
    if (liveEngines === 0) {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
    }
  }
}

/** The engine logs JSON lines (tracing events): make them readable. */
function formatEngineLog(line: string): string {
  try {
    const event = JSON.parse(line) as { level?: string; fields?: Record<string, unknown> };
    const { message, ...fields } = event.fields ?? {};
    const details = Object.entries(fields).map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      // The "Applying" event carries the whole migration script.
      return `${key}=${text.length > 120 || text.includes('\n') ? `${text.split('\n')[0]!.slice(0, 120)}… (${text.length} chars)` : text}`;
    });
    return `schema-engine ${event.level ?? ''}: ${String(message ?? '')}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
  } catch {
    return `schema-engine: ${line}`;
  }
}

/**
 * Turns what the engine rejects with into an Error with a useful message. A
 * JavaScript error thrown inside an adapter reaches the engine as a bare
 * "External error id#N", N indexing the bound factory's error registry: put
 * the original message back.
 */
function engineError(error: unknown, registry: { consumeError(id: number): { error: unknown } | undefined }): Error {
  const result = error instanceof Error ? error : new Error(`Schema engine error: ${typeof error === 'string' ? error : JSON.stringify(error)}`);
  result.message = result.message.replace(/External error id#(\d+)/g, (text, id: string) => {
    const original = registry.consumeError(Number(id))?.error;
    if (original === undefined) return text;
    return `${text}: ${original instanceof Error ? `${original.name}: ${original.message}` : String(original)}`;
  });
  if (lastPanicMessage) result.message += `\n(engine panic: ${lastPanicMessage})`;
  return result;
}

/** Apply pending committed migrations. A no-op when nothing is pending. Returns the names applied. */
export async function applyMigrations(options: {
  engine: Engine;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  log?: (line: string) => void;
}): Promise<string[]> {
  const { engine, adapterFactory, log } = options;
  const migrationsList = await readMigrations(engine);
  return withEngine(engine, adapterFactory, log, async (schemaEngine) => {
    const { appliedMigrationNames } = await schemaEngine.applyMigrations({ migrationsList, filters: noFilter });
    return appliedMigrationNames;
  });
}

/**
 * SQL that brings the database described by the committed migrations up to
 * the current datamodel ('' when none). The engine connects to the main
 * database (`adapterFactory`) without changing it, and replays the migrations
 * on a shadow database: `shadowAdapterFactory.connect()` when given (it must
 * reach an empty database, and is left holding the migrations' tables),
 * otherwise `adapterFactory.connectToShadowDb()`: in memory for
 * PrismaBetterSqlite3, a temporary database for postgresMigrationAdapterFactory.
 * A plain PrismaPg without `shadowAdapterFactory` is refused.
 */
export async function diffMigrationsToSchema(options: {
  engine: Engine;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  shadowAdapterFactory?: SqlDriverAdapterFactory;
  log?: (line: string) => void;
}): Promise<string> {
  const { engine, adapterFactory, shadowAdapterFactory, log } = options;
  if (adapterFactory.provider === 'postgres' && !shadowAdapterFactory && !safeShadowFactories.has(adapterFactory)) {
    // Measured: a PrismaPg built from a connection string replays the
    // migrations into the main database (see postgresMigrationAdapterFactory).
    throw new Error(
      'diffMigrationsToSchema on PostgreSQL needs postgresMigrationAdapterFactory(url) or a shadowAdapterFactory: ' +
        "adapter-pg's own shadow database would be the main database",
    );
  }
  const migrationsList = await readMigrations(engine);
  return withEngine(engine, withShadow(adapterFactory, shadowAdapterFactory), log, async (schemaEngine, files) => {
    const result = await schemaEngine.diff({
      from: { tag: 'migrations', ...migrationsList },
      to: { tag: 'schemaDatamodel', files },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    const script = result.stdout ?? '';
    return isEmptyScript(script) ? '' : script;
  });
}

/** What `prisma migrate dev` writes to `migration_lock.toml`. */
export function lockfileContent(engine: Engine): string {
  return `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${engine}"\n`;
}

/** The engine answers an empty diff with a comment ("-- This is an empty migration."). */
function isEmptyScript(script: string): boolean {
  return script
    .split('\n')
    .map((line) => line.trim())
    .every((line) => line === '' || line.startsWith('--'));
}

// ---------------------------------------------------------------------------
// PostgreSQL adapter factories for the migration engine

/** Quotes an identifier for SQL. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Splits Prisma's `?schema=` parameter off a PostgreSQL URL. node-postgres
 * ignores that parameter, so on its own it would leave everything in `public`.
 */
export function splitSchemaParameter(url: string): { connectionString: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema: schema || undefined };
}

/**
 * A PrismaPg factory confined to `schema`: the schema engine introspects the
 * schema the adapter reports, and unqualified names in migration scripts
 * resolve through `search_path`, so both are set.
 */
function pgFactoryForSchema(connectionString: string, schema: string | undefined): PrismaPg {
  if (!schema) return new PrismaPg({ connectionString });
  // The libpq `options` value is split on spaces, so escape them.
  const searchPath = quoteIdent(schema).replaceAll('\\', '\\\\').replaceAll(' ', '\\ ');
  return new PrismaPg({ connectionString, options: `-c search_path=${searchPath}` }, { schema });
}

/** Factories made by postgresMigrationAdapterFactory, whose shadow database is safe to use. */
const safeShadowFactories = new WeakSet<SqlMigrationAwareDriverAdapterFactory>();

/**
 * A migration-aware PrismaPg factory for `url` (which may carry Prisma's
 * `?schema=`). Its shadow database, which the engine needs only to diff, is a
 * temporary database created on the same server (so the role needs CREATEDB,
 * as with `prisma migrate dev`) holding a schema of the same name, and
 * dropped once the engine is done with it.
 *
 * adapter-pg's own `connectToShadowDb` cannot serve: given a connection string
 * it reconnects to the main database instead of the temporary one it created
 * (the string's database wins over the `database` field it adds), and its
 * clean-up drops that database while its own pool is still connected to it.
 * A temporary schema in the main database does not do either: the engine
 * takes the shadow's schema name for the datamodel's and the diff then
 * always "creates" the main one.
 */
export function postgresMigrationAdapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const { connectionString, schema } = splitSchemaParameter(url);
  const main = pgFactoryForSchema(connectionString, schema);
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    connectToShadowDb: async () => {
      const database = `prisma_shadow_${randomBytes(8).toString('hex')}`;
      const shadowUrl = new URL(connectionString);
      shadowUrl.pathname = `/${database}`;
      const admin = await new PrismaPg({ connectionString, max: 1 }).connect();
      const dropDatabase = async () => {
        try {
          // FORCE (PostgreSQL 13+) ends any session the engine left behind.
          await admin.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
        } catch {
          await admin.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
        }
      };
      let shadow: SqlDriverAdapter;
      try {
        await admin.executeScript(`CREATE DATABASE ${quoteIdent(database)}`);
        shadow = await pgFactoryForSchema(shadowUrl.toString(), schema).connect();
        if (schema) await shadow.executeScript(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      } catch (error) {
        await dropDatabase().catch(() => undefined);
        await admin.dispose();
        throw error;
      }
      let disposed = false;
      return new Proxy(shadow, {
        get(target, property, receiver) {
          if (property === 'dispose') {
            return async () => {
              if (disposed) return;
              disposed = true;
              try {
                await target.dispose(); // closes the shadow's pool before the drop
                await dropDatabase();
              } finally {
                await admin.dispose();
              }
            };
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
  safeShadowFactories.add(factory);
  return factory;
}
