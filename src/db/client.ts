import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { Engine } from '../config.ts';
import { postgresMigrationAdapterFactory } from './migrations/postgres-adapter.ts';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.ts';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.ts';

export { Prisma, TokenChange, TokenType } from './generated/sqlite/client.ts';
export type { Token as TokenRow, TokenChangeHistoryEntry as HistoryRow } from './generated/sqlite/client.ts';

/**
 * The database client the domain works with. Both engines' clients are
 * generated from the same models and so have the same API; the SQLite
 * client's type stands for both.
 */
export type Database = SqliteClient<'query'>;
/** A client or the transaction client handed to `$transaction` callbacks. */
export type DatabaseTransaction = Parameters<Parameters<Database['$transaction']>[0]>[0];

export interface DatabaseHandle {
  engine: Engine;
  db: Database;
  /** The adapter factory, for the migration engine (which needs its own connection). */
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
}

export function sqlitePath(url: string): string {
  return resolve(url.replace(/^file:/, ''));
}

export function createAdapterFactory(engine: Engine, url: string): SqlMigrationAwareDriverAdapterFactory {
  if (engine === 'sqlite') {
    const path = sqlitePath(url);
    mkdirSync(dirname(path), { recursive: true });
    // timeout: how long a writer waits for another connection's lock (WAL still allows one writer).
    return new PrismaBetterSqlite3({ url: path, timeout: 10_000 });
  }
  // Honours Prisma's ?schema= (which node-postgres ignores) and gives the migration engine a safe shadow database.
  return postgresMigrationAdapterFactory(url);
}

export interface DatabaseOptions {
  /** Emit Prisma `query` events (tests count statements with them). */
  queryEvents?: boolean;
  /** Runs on the adapter factory before the client connects (migrations need the database to themselves on SQLite). */
  beforeConnect?: (adapterFactory: SqlMigrationAwareDriverAdapterFactory) => Promise<unknown>;
}

export async function openDatabase(engine: Engine, url: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  const adapterFactory = createAdapterFactory(engine, url);
  await options.beforeConnect?.(adapterFactory);
  const log = options.queryEvents ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  const db =
    engine === 'sqlite'
      ? new SqliteClient({ adapter: adapterFactory, log })
      : // Same models, same API: only the query compiler differs (see the type above).
        (new PostgresClient({ adapter: adapterFactory, log }) as unknown as Database);
  if (engine === 'sqlite') {
    // WAL lets readers proceed beside the writer and roughly triples insert throughput here.
    await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  }
  return { engine, db, adapterFactory };
}
