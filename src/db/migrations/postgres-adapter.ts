/**
 * The PostgreSQL adapter factory, for the runtime client (src/db/client.ts)
 * and the migration engine alike: it honours Prisma's `?schema=` and gives
 * the engine a shadow database that is safe to use.
 */
import { randomBytes } from 'node:crypto';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPg } from '@prisma/adapter-pg';
import type { PoolConfig } from 'pg';

/** Quotes an identifier for SQL. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Splits Prisma's `?schema=` parameter off a PostgreSQL URL. node-postgres
 * ignores that parameter, so on its own it would leave everything in `public`.
 */
function splitSchemaParameter(url: string): { connectionString: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema: schema || undefined };
}

/**
 * node-postgres settings for a connection confined to `schema` (unqualified
 * names resolve through `search_path`), with JIT compilation off: Tessera's
 * statements are short, and the planner's pessimistic estimate for the
 * descendants' recursive CTE made PostgreSQL spend 20–80 ms compiling each
 * chunk of a bulk revocation that then ran in 20 ms.
 */
function connectionSettings(connectionString: string, schema: string | undefined): PoolConfig {
  const settings = ['-c jit=off'];
  // The libpq `options` value is split on spaces, so escape them.
  if (schema) settings.push(`-c search_path=${quoteIdent(schema).replaceAll('\\', '\\\\').replaceAll(' ', '\\ ')}`);
  return { connectionString, options: settings.join(' ') };
}

/** node-postgres pool settings for `url` (which may carry Prisma's `?schema=`), for statements made beside Prisma. */
export function poolConfig(url: string): PoolConfig {
  const { connectionString, schema } = splitSchemaParameter(url);
  return connectionSettings(connectionString, schema);
}

/**
 * A PrismaPg factory confined to `schema`: the schema engine introspects the
 * schema the adapter reports, and unqualified names in migration scripts
 * resolve through `search_path`, so both are set.
 */
function pgFactoryForSchema(connectionString: string, schema: string | undefined): PrismaPg {
  return new PrismaPg(connectionSettings(connectionString, schema), schema ? { schema } : undefined);
}

/** Factories made by postgresMigrationAdapterFactory, whose shadow database is safe to use. */
const safeShadowFactories = new WeakSet<SqlMigrationAwareDriverAdapterFactory>();

/** Whether `factory`'s own shadow database is a temporary one rather than, possibly, the main database. */
export function hasSafeShadowDatabase(factory: SqlMigrationAwareDriverAdapterFactory): boolean {
  return safeShadowFactories.has(factory);
}

/**
 * A migration-aware PrismaPg factory for `url` (which may carry Prisma's
 * `?schema=`). Its shadow database, which the engine needs only to diff, comes
 * from connectToTemporaryShadowDatabase.
 */
export function postgresMigrationAdapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const { connectionString, schema } = splitSchemaParameter(url);
  const main = pgFactoryForSchema(connectionString, schema);
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    connectToShadowDb: () => connectToTemporaryShadowDatabase(connectionString, schema),
  };
  safeShadowFactories.add(factory);
  return factory;
}

/**
 * Workaround for @prisma/adapter-pg 7.10.0, whose own `connectToShadowDb`
 * cannot serve: given a connection string it reconnects to the main database
 * instead of the temporary one it created (the string's database wins over
 * the `database` field it adds), and its clean-up drops that database while
 * its own pool is still connected to it. A temporary schema in the main
 * database does not do either: the engine takes the shadow's schema name for
 * the datamodel's and the diff then always "creates" the main one.
 *
 * So: a temporary database on the same server (the role needs CREATEDB, as
 * with `prisma migrate dev`) holding a schema of the same name, dropped once
 * the engine disposes of the adapter.
 *
 * No longer needed when PrismaPg's `connectToShadowDb`, built from a
 * connection string, reaches the database it created and drops it after
 * closing its pool.
 */
async function connectToTemporaryShadowDatabase(connectionString: string, schema: string | undefined): Promise<SqlDriverAdapter> {
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
}
