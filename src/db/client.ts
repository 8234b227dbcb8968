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
export type { Webhook as WebhookRow, WebhookDelivery as WebhookDeliveryRow } from './generated/sqlite/client.ts';

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
    return withSqliteWorkarounds(new PrismaBetterSqlite3({ url: path, timeout: 10_000 }));
  }
  // Honours Prisma's ?schema= (which node-postgres ignores) and gives the migration engine a safe shadow database.
  return postgresMigrationAdapterFactory(url);
}

/** SQLITE_MAX_VARIABLE_NUMBER of the SQLite that better-sqlite3 bundles. */
const SQLITE_MAX_BIND_VALUES = 32_766;

/** The adapter's BEGIN, as BEGIN IMMEDIATE, or a plain BEGIN where that fails (see withSqliteWorkarounds). */
function beginImmediately(prepare: (sql: string) => unknown): { run(): unknown } {
  const statement = (sql: string) => prepare(sql) as { run(): unknown };
  return {
    run: () => {
      try {
        return statement('BEGIN IMMEDIATE').run();
      } catch {
        return statement('BEGIN').run();
      }
    },
  };
}

/**
 * Workarounds for @prisma/adapter-better-sqlite3 7.10.0, applied to each
 * connection it opens:
 *
 * - Its adapters report no getConnectionInfo, so Prisma assumes SQLite's
 *   historic limit of 999 bound values and refuses a filter of 1,000 keys,
 *   though the bundled SQLite takes 32,766. (The 1,000-key filter tests fail
 *   on SQLite without it.) Remove once the adapter reports maxBindValues.
 * - It begins transactions DEFERRED. A transaction that reads first and
 *   writes later then cannot wait for another process's write lock: SQLite
 *   answers SQLITE_BUSY_SNAPSHOT at once, whatever the busy timeout, and the
 *   CLI fails beside a busy server. Every Tessera transaction writes, so it
 *   begins IMMEDIATE, taking the write lock (waiting up to the busy timeout)
 *   before it reads. Remove once the adapter lets transactions begin IMMEDIATE.
 * - When its BEGIN fails, it never releases the lock it took for the
 *   transaction, and every later transaction of the process waits for it in
 *   vain. BEGIN IMMEDIATE fails when the database is read-only (or stays
 *   locked past the busy timeout): it then falls back to a plain BEGIN, which
 *   cannot fail, and the transaction's first write meets the same fault, which
 *   the adapter does release. Remove once the adapter releases its lock.
 */
function withSqliteWorkarounds(factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  const patch = <Adapter extends object>(adapter: Adapter): Adapter => {
    const client = (adapter as { client?: { prepare?: (sql: string) => unknown } }).client;
    if (client && typeof client.prepare === 'function') {
      const prepare = client.prepare.bind(client);
      client.prepare = (sql: string) => (sql === 'BEGIN' ? beginImmediately(prepare) : prepare(sql));
    }
    return Object.assign(adapter, { getConnectionInfo: () => ({ maxBindValues: SQLITE_MAX_BIND_VALUES, supportsRelationJoins: false }) });
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => patch(await factory.connect()),
    connectToShadowDb: async () => patch(await factory.connectToShadowDb()),
  };
}

/**
 * Settings for every SQLite connection Tessera opens (Prisma's and the hot
 * path's). WAL lets readers proceed beside the writer and roughly triples
 * insert throughput here; with it, NORMAL syncs only at checkpoints. The WAL
 * is checkpointed every 10,000 pages (40 MB) instead of SQLite's 1,000:
 * each chunk of bulk work dirties more than 1,000 pages, so at the default
 * every commit paid a checkpoint and its fsync, which made up half the time
 * of invalidating 100,000 tokens; a page written many times is now copied
 * back once.
 */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL', 'wal_autocheckpoint = 10000'] as const;

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
    for (const pragma of SQLITE_PRAGMAS) await db.$queryRawUnsafe(`PRAGMA ${pragma}`);
  }
  return { engine, db, adapterFactory };
}
