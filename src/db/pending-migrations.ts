import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { Engine } from '../config.ts';
import { committedMigrations } from './migrations/on-disk.ts';
import { applyMigrations } from './migrations/run-engine.ts';

/**
 * Committed migrations that `_prisma_migrations` does not record as applied,
 * read through a short-lived adapter connection.
 */
async function pendingMigrations(engine: Engine, adapterFactory: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  const committed = await committedMigrations(engine);
  const adapter = await adapterFactory.connect();
  try {
    const result = await adapter.queryRaw({
      sql: 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      args: [],
      argTypes: [],
    });
    const applied = new Set(result.rows.map((row) => String(row[0])));
    return committed.filter((name) => !applied.has(name));
  } catch (error) {
    // A new database has no migrations table yet: everything is pending.
    if (/_prisma_migrations/.test(String(error)) || /no such table|does not exist/i.test(JSON.stringify(error))) return committed;
    throw error;
  } finally {
    await adapter.dispose();
  }
}

/**
 * Applies pending migrations, waking the schema engine only when there are
 * some: the engine takes an exclusive lock on SQLite, which fails while
 * another process (a running server, say) has the file open, and costs
 * 0.1–0.2 s that a restart with nothing to do need not pay. Call it before
 * the Prisma client opens its own connection.
 */
export async function migrateIfPending(
  engine: Engine,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  /** Receives the schema engine's own log lines (chatty: debug level). */
  log: (line: string) => void,
): Promise<string[]> {
  if ((await pendingMigrations(engine, adapterFactory)).length === 0) return [];
  try {
    return await applyMigrations({ engine, adapterFactory, log });
  } catch (error) {
    if (engine === 'sqlite' && /SocketTimeout|database is locked|SQLITE_BUSY/i.test(String(error))) {
      throw new Error('Migrations need the SQLite database to themselves: stop the running Tessera server, then try again.', { cause: error });
    }
    throw error;
  }
}
