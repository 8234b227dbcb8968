import type { Engine } from '../../config.ts';
import { PostgresHotPath } from './postgres.ts';
import { SqliteHotPath } from './sqlite.ts';
import type { HotPath, HotPathOptions } from './types.ts';

/**
 * The statements every request runs, prepared once on the driver beneath
 * the domain: verifying a token, recording uses, minting a USER token, and
 * reading a page of history and the tokens it links to.
 * Through Prisma each statement costs some 300 µs of JavaScript before the
 * database sees it (its query compiler and interpreter); these run in a few
 * microseconds on SQLite and one round trip on PostgreSQL. Everything else
 * stays with Prisma, and the Prisma models stay the one source of the
 * schema (columns.ts lists what these statements touch).
 */

export type { HotPath, ParentCheck, StatementListener, TokenUse } from './types.ts';

export function openHotPath(engine: Engine, databaseUrl: string, options: HotPathOptions = {}): HotPath {
  return engine === 'sqlite' ? new SqliteHotPath(databaseUrl, options.onStatement) : new PostgresHotPath(databaseUrl, options);
}
