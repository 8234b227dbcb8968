import type { Engine } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import type { TokenRow } from '../client.ts';
import type { NewHistoryEntry } from './columns.ts';
import { PostgresHotPath } from './postgres.ts';
import { SqliteHotPath } from './sqlite.ts';

/**
 * The statements every request runs, prepared once on the driver beneath
 * the domain: verifying a token, recording uses, and minting a USER token.
 * Through Prisma each statement costs some 300 µs of JavaScript before the
 * database sees it (its query compiler and interpreter); these run in a few
 * microseconds on SQLite and one round trip on PostgreSQL. Everything else
 * stays with Prisma, and the Prisma models stay the one source of the
 * schema (columns.ts lists what these statements touch).
 */

export type InsertOutcome = 'inserted' | 'secret-taken' | 'name-taken';

export interface TokenUse {
  key: string;
  at: Date;
  ip: string | null;
}

/** What authentication needs of a token: who it is, what it may do, how it was made, when it was last used. */
export type Credential = Pick<TokenRow, 'key' | 'username' | 'scopes' | 'generatorId' | 'lastUsedAt'>;

export interface HotPath {
  /** The token with this secret hash if it is usable at `now` (valid, not expired), else null. */
  findActiveToken(secretHash: string, now: Date): Promise<TokenRow | null>;
  /** The same lookup for authentication, reading only what it needs: it runs on every request. */
  findActiveCredential(secretHash: string, now: Date): Promise<Credential | null>;
  /** Records each token's latest use (time and address), all in one transaction. */
  recordUses(uses: readonly TokenUse[]): Promise<void>;
  /**
   * Inserts the token, its scope rows and its CREATE entry, all or nothing.
   * The unique indexes decide: a taken key or secret hash, or a name an
   * active-name holder keeps, is reported instead of written.
   */
  insertToken(token: TokenRow, entry: NewHistoryEntry): Promise<InsertOutcome>;
  /** Frees a name an expired (or invalid) token of the owner still holds; whether one was freed. */
  releaseExpiredName(username: string, name: string, now: Date): Promise<boolean>;
  close(): Promise<void>;
}

/** Told each statement's SQL as it is sent (tests count statements with it). */
export type StatementListener = (sql: string) => void;

export interface HotPathOptions {
  onStatement?: StatementListener;
  /** Told of connection faults that no request is waiting on (PostgreSQL closing an idle connection). */
  logger?: Logger;
}

export function openHotPath(engine: Engine, databaseUrl: string, options: HotPathOptions = {}): HotPath {
  return engine === 'sqlite' ? new SqliteHotPath(databaseUrl, options.onStatement) : new PostgresHotPath(databaseUrl, options);
}

export type { NewHistoryEntry };
