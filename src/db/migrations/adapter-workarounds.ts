/**
 * Faults the WebAssembly schema engine meets in the driver adapters, and a
 * named workaround for each. Every adapter the engine is handed gets them all
 * through withAdapterWorkarounds; each one checks the adapter's provider and
 * leaves other adapters alone.
 *
 * Each doc comment names the version the fault was measured on and what would
 * tell us the workaround is no longer needed. (adapter-pg's shadow database is
 * worked around where the PostgreSQL factory is built: postgres-adapter.ts.)
 */
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlQuery } from '@prisma/driver-adapter-utils';

type Overrides = Partial<Pick<SqlDriverAdapter, 'executeScript' | 'executeRaw' | 'queryRaw' | 'dispose'>>;

export interface PatchedFactory {
  /** Hand this one to the engine. */
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** Disposes of every adapter the engine left open; call once the engine is freed. */
  disposeLeftovers(): Promise<void>;
}

/** `factory`, with every adapter it connects patched by the workarounds below. */
export function withAdapterWorkarounds(factory: SqlMigrationAwareDriverAdapterFactory): PatchedFactory {
  const open = new Set<SqlDriverAdapter>();
  const patch = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    readPostgresCharColumnsAsText(adapter);
    const overrides: Overrides = {
      ...runPostgresScriptsWhole(adapter),
      ...runSqliteScriptsThroughExec(adapter),
      ...closeAdaptersTheEngineLeavesOpen(adapter, open),
    };
    return new Proxy(adapter, {
      get(target, property, receiver) {
        if (Object.hasOwn(overrides, property)) return overrides[property as keyof Overrides];
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return {
    factory: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => patch(await factory.connect()),
      connectToShadowDb: async () => patch(await factory.connectToShadowDb()),
    },
    disposeLeftovers: async () => {
      const leftovers = [...open];
      open.clear();
      await Promise.allSettled(leftovers.map((adapter) => adapter.dispose()));
    },
  };
}

/**
 * Workaround for @prisma/schema-engine-wasm 7.10.0-4.0edf323efd1d98336f3f0a68684b56f689b900d3:
 * freeing the engine does not dispose of the adapters it connected: an open
 * better-sqlite3 connection keeps the database locked ("database is locked"
 * on the next run) and an open pg pool keeps the process alive. Every adapter
 * is tracked from connect to dispose, so that PatchedFactory.disposeLeftovers
 * can close what is left; a second dispose is a no-op.
 *
 * No longer needed when, without it, the unit tests "apply to a fresh
 * database, then are a no-op" (SQLite) and "let a one-shot process exit at
 * once" (PostgreSQL) pass.
 */
function closeAdaptersTheEngineLeavesOpen(adapter: SqlDriverAdapter, open: Set<SqlDriverAdapter>): Overrides {
  open.add(adapter);
  return {
    dispose: async () => {
      if (!open.delete(adapter)) return;
      await adapter.dispose();
    },
  };
}

/**
 * Workaround for @prisma/adapter-pg 7.10.0: its `executeScript` splits the
 * script on every `;` (even inside a string literal, a comment or a function
 * body) and runs the pieces one by one on whichever pooled connection is
 * free, so a failing migration is left half applied. PostgreSQL runs a whole
 * multi-statement script sent as one simple query atomically, which is what
 * the native engine does: do that.
 *
 * No longer needed when adapter-pg's `executeScript` sends the script as one
 * query (no `script.split(";")` in node_modules/@prisma/adapter-pg/dist).
 */
function runPostgresScriptsWhole(adapter: SqlDriverAdapter): Overrides {
  const pg = adapter as SqlDriverAdapter & {
    underlyingDriver?: () => { query(text: string): Promise<unknown> };
    onError?: (error: unknown) => never;
  };
  if (adapter.provider !== 'postgres' || typeof pg.underlyingDriver !== 'function') return {};
  const pool = pg.underlyingDriver();
  return {
    executeScript: async (script: string) => {
      try {
        await pool.query(script);
      } catch (error) {
        // The adapter's own mapping to a DriverAdapterError, which the engine understands.
        if (typeof pg.onError === 'function') pg.onError.call(adapter, error);
        throw error;
      }
    },
  };
}

/**
 * Workaround for @prisma/adapter-better-sqlite3 7.10.0 with
 * @prisma/schema-engine-wasm 7.10.0-4.0edf323efd1d98336f3f0a68684b56f689b900d3:
 * replaying the migrations on the shadow database (to diff), the engine
 * sends each SQLite migration script through `executeRaw`, where
 * better-sqlite3 prepares a single statement and refuses the rest ("The
 * supplied SQL string contains more than one statement"). A script without
 * parameters runs fine through the adapter's `executeScript` (better-sqlite3's
 * `exec`) on the same connection: fall back to it.
 *
 * No longer needed when the SQLite unit test "match the datamodel" passes
 * without it (the engine uses `executeScript` there, or the adapter's
 * `executeRaw` accepts several statements).
 */
function runSqliteScriptsThroughExec(adapter: SqlDriverAdapter): Overrides {
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
 * Workaround for @prisma/adapter-pg 7.10.0: the engine's PostgreSQL
 * introspection reads catalog columns of type `"char"` (pg_constraint.contype
 * and the like), which the adapter refuses ("Column type 'char' could not be
 * deserialized"). node-postgres returns them as one-character strings anyway,
 * so report them as text.
 *
 * This replaces the adapter's private `performIO` on the instance; should a
 * later version rename it, nothing is patched and the PostgreSQL diff in the
 * unit tests fails with the original error.
 *
 * No longer needed when adapter-pg's `fieldToColumnType` maps OID 18.
 */
function readPostgresCharColumnsAsText(adapter: SqlDriverAdapter): void {
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
