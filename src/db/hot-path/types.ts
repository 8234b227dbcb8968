import type { Logger } from '../../logger.ts';
import type { HistoryRow, TokenRow } from '../client.ts';
import type { NewHistoryEntry } from './columns.ts';

/**
 * What the hot path offers and what its engines implement: kept apart from
 * index.ts, which picks an engine, so that the engines do not import their
 * own factory.
 */

/** 'parent-refused': the derived token's parent, read under its lock, no longer admits it. */
export type InsertOutcome = 'inserted' | 'secret-taken' | 'name-taken' | 'parent-refused';

/**
 * A derived token's parent, checked again inside the insert's transaction with
 * the parent read there and held (FOR SHARE on PostgreSQL; SQLite's one
 * writer holds everything): a revocation or change of the parent commits
 * either before this read, which then sees it, or after the child, which it
 * then sees in turn.
 */
export interface ParentCheck {
  key: string;
  /** Whether the child may be made below `parent` as it is now (null: no such token). Synchronous: it runs inside the transaction. */
  admits(parent: TokenRow | null): boolean;
}

export interface TokenUse {
  key: string;
  at: Date;
  ip: string | null;
}

/** What authentication needs of a token: who it is, what it may do (scopes and policy), how it was made, when it was last used. */
export type Credential = Pick<TokenRow, 'key' | 'username' | 'scopes' | 'policy' | 'generatorId' | 'lastUsedAt'>;

/** A findMany of history entries, as the domain builds it for Prisma (history/query.ts): the hot path renders the same object. */
export interface HistoryQuery {
  where: Record<string, unknown>;
  orderBy: readonly Record<string, unknown>[];
  take: number;
}

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
  insertToken(token: TokenRow, entry: NewHistoryEntry, parent?: ParentCheck): Promise<InsertOutcome>;
  /** What `findMany(query)` on the history returns, row for row: the history page, read without Prisma's client. */
  findHistory(query: HistoryQuery): Promise<HistoryRow[]>;
  /** The tokens with these keys (those that exist, in no particular order): the loaders' batches of a page's links. */
  findTokensByKeys(keys: readonly string[]): Promise<TokenRow[]>;
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
