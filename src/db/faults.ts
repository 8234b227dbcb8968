/**
 * Faults of the database itself, as opposed to faults of a query: it is full,
 * read-only, or cannot be reached. They pass (reads keep working, writes
 * resume when space is freed or the primary is back), so a request that hits
 * one is told to retry rather than given a masked "unexpected error".
 *
 * The error arrives in several shapes: better-sqlite3's SqliteError (the hot
 * path), pg's DatabaseError or a socket error (the hot path on PostgreSQL),
 * and Prisma's errors, whose driver adapter keeps the driver's code in
 * `meta.driverAdapterError.cause` (`originalCode`, or a `kind` of its own).
 */
export type DatabaseFault = 'STORAGE_FULL' | 'DATABASE_READ_ONLY' | 'DATABASE_UNAVAILABLE';

/** PostgreSQL's SQLSTATEs for the same conditions. */
const POSTGRES_STATES = new Map<string, DatabaseFault>(
  Object.entries({
    '53100': 'STORAGE_FULL', // disk_full
    '53200': 'DATABASE_UNAVAILABLE', // out_of_memory
    '53300': 'DATABASE_UNAVAILABLE', // too_many_connections
    '25006': 'DATABASE_READ_ONLY', // read_only_sql_transaction (a hot standby, default_transaction_read_only)
    '57P01': 'DATABASE_UNAVAILABLE', // admin_shutdown
    '57P02': 'DATABASE_UNAVAILABLE', // crash_shutdown
    '57P03': 'DATABASE_UNAVAILABLE', // cannot_connect_now (starting up, shutting down)
    '08000': 'DATABASE_UNAVAILABLE', // connection_exception
    '08001': 'DATABASE_UNAVAILABLE', // sqlclient_unable_to_establish_sqlconnection
    '08003': 'DATABASE_UNAVAILABLE', // connection_does_not_exist
    '08006': 'DATABASE_UNAVAILABLE', // connection_failure
  }) as [string, DatabaseFault][],
);

/** The socket's own errors, when the server is gone. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/** Prisma's codes and its driver adapters' kinds for an unreachable server. */
const PRISMA_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1017', 'P2037', 'DatabaseNotReachable', 'ConnectionClosed', 'TooManyConnections']);

/** node-postgres reports a connection lost mid-query, or a pool that cannot connect, without a code. */
const POSTGRES_CONNECTION_LOST = /^Connection terminated|^timeout exceeded when trying to connect/;

function faultOfCode(code: string): DatabaseFault | null {
  if (code === 'SQLITE_FULL') return 'STORAGE_FULL';
  if (code.startsWith('SQLITE_READONLY')) return 'DATABASE_READ_ONLY';
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') return 'DATABASE_UNAVAILABLE';
  if (SOCKET_CODES.has(code) || PRISMA_UNAVAILABLE.has(code)) return 'DATABASE_UNAVAILABLE';
  return POSTGRES_STATES.get(code) ?? null;
}

/** The database fault behind `error` (looked for in its causes and Prisma's wrapping too), or null for any other error. */
export function databaseFault(error: unknown): DatabaseFault | null {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 20) {
    const candidate = pending.shift();
    if (typeof candidate !== 'object' || candidate === null || seen.has(candidate)) continue;
    seen.add(candidate);
    const { code, originalCode, kind, message, cause, meta, originalError } = candidate as Record<string, unknown>;
    for (const name of [originalCode, code, kind]) {
      const fault = typeof name === 'string' ? faultOfCode(name) : null;
      if (fault) return fault;
    }
    if (typeof message === 'string' && candidate instanceof Error && POSTGRES_CONNECTION_LOST.test(message)) return 'DATABASE_UNAVAILABLE';
    pending.push(cause, originalError, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  return null;
}
