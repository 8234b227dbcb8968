/**
 * Runs Prisma's WebAssembly schema engine on the committed migrations.
 *
 * The Prisma CLI's `migrate` commands need a native schema-engine binary that
 * cannot be downloaded here, so the same engine compiled to WebAssembly runs
 * through a driver adapter instead. Migrations are recorded in the
 * `_prisma_migrations` table exactly as `prisma migrate deploy` records them,
 * so either tool can take over.
 */
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaContainer, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { Engine } from '../../config.ts';
import { withAdapterWorkarounds } from './adapter-workarounds.ts';
import { engineStarting, engineStopped, lastEnginePanic, loadBindings } from './load-engine.ts';
import { readMigrationList, readSchemaFiles } from './on-disk.ts';
import { hasSafeShadowDatabase } from './postgres-adapter.ts';

const noFilter = { externalTables: [], externalEnums: [] };

/** Apply pending committed migrations. A no-op when nothing is pending. Returns the names applied. */
export async function applyMigrations(options: {
  engine: Engine;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  log?: (line: string) => void;
}): Promise<string[]> {
  const { engine, adapterFactory, log } = options;
  const migrationsList = await readMigrationList(engine);
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
  if (adapterFactory.provider === 'postgres' && !shadowAdapterFactory && !hasSafeShadowDatabase(adapterFactory)) {
    // Measured: a PrismaPg built from a connection string replays the
    // migrations into the main database (see postgres-adapter.ts).
    throw new Error(
      'diffMigrationsToSchema on PostgreSQL needs postgresMigrationAdapterFactory(url) or a shadowAdapterFactory: ' +
        "adapter-pg's own shadow database would be the main database",
    );
  }
  const migrationsList = await readMigrationList(engine);
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

/** A migration-aware factory whose shadow database comes from `shadow` when given. */
function withShadow(main: SqlMigrationAwareDriverAdapterFactory, shadow: SqlDriverAdapterFactory | undefined): SqlMigrationAwareDriverAdapterFactory {
  if (!shadow) return main;
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    connectToShadowDb: () => shadow.connect(),
  };
}

/** Creates an engine over `adapterFactory`, runs `run` on it, and frees it and whatever it left open. */
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
  const patched = withAdapterWorkarounds(adapterFactory);
  const bound = bindMigrationAwareSqlAdapterFactory(patched.factory);
  engineStarting();
  let schemaEngine: SchemaEngine | undefined;
  try {
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
    await patched.disposeLeftovers();
    engineStopped();
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
      return `${key}=${text.length > 120 || text.includes('\n') ? `${(text.split('\n')[0] ?? '').slice(0, 120)}… (${text.length} chars)` : text}`;
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
  const panic = lastEnginePanic();
  if (panic) result.message += `\n(engine panic: ${panic})`;
  return result;
}

/** The engine answers an empty diff with a comment ("-- This is an empty migration."). */
function isEmptyScript(script: string): boolean {
  return script
    .split('\n')
    .map((line) => line.trim())
    .every((line) => line === '' || line.startsWith('--'));
}
