import Database, { type Statement } from 'better-sqlite3';
import type { HistoryRow, TokenRow } from '../client.ts';
import { SQLITE_PRAGMAS, sqlitePath } from '../client.ts';
import { CREDENTIAL_COLUMNS, HISTORY_COLUMNS, HISTORY_ROW_COLUMNS, TOKEN_COLUMNS, type Column, type NewHistoryEntry } from './columns.ts';
import type { Credential, HistoryQuery, HotPath, InsertOutcome, ParentCheck, StatementListener, TokenUse } from './types.ts';
import { sqlOrderBy, sqlWhere, type SqlDialect } from './where.ts';

/**
 * The hot path on SQLite: a connection of its own beside Prisma's (WAL lets
 * readers and the one writer proceed together), with statements prepared
 * once. better-sqlite3 is synchronous, so a write transaction here begins and
 * commits within one turn of the event loop and never holds the lock across
 * an await. Its busy timeout is 0: when another connection holds the write
 * lock (Prisma's transaction in this process, or another process), the write
 * is retried after a short wait instead of blocking the event loop, which
 * the lock holder in this same process would need to finish.
 */

/** Prisma's text form of a DateTime on SQLite: ISO 8601 with milliseconds and +00:00. */
export const sqliteTime = (time: Date): string => time.toISOString().replace('Z', '+00:00');

function toSqlite(kind: Column<string>['kind'], value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (kind === 'json') return JSON.stringify(value);
  if (kind === 'boolean') return value ? 1 : 0;
  if (kind === 'time') return sqliteTime(value as Date);
  return value;
}

function fromSqlite(kind: Column<string>['kind'], value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (kind === 'json') return JSON.parse(value as string);
  if (kind === 'boolean') return value === 1;
  if (kind === 'time') return new Date(value as string);
  if (kind === 'bigint') return BigInt(value as number | bigint);
  return value;
}

/** A row read in array mode, as the model's fields. */
function rowOf(columns: readonly Column<string>[], row: unknown[] | undefined): Record<string, unknown> | null {
  if (!row) return null;
  const token: Record<string, unknown> = {};
  for (const [index, column] of columns.entries()) token[column.field] = fromSqlite(column.kind, row[index]);
  return token;
}

const dialect: SqlDialect = { placeholder: () => '?', parameter: (column, value) => toSqlite(column.kind, value) };

/** History statements kept prepared: one per shape of filter and cursor, a bounded few in practice; the cap guards the rest. */
const MAX_HISTORY_STATEMENTS = 256;

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

/** How long a hot-path write waits for the write lock in all, as Prisma's connection's busy timeout. */
const BUSY_DEADLINE_MS = 10_000;
/**
 * Waits between attempts: short and steady rather than growing, because the
 * lock holder is usually a chunk of bulk work that lets go within tens of
 * milliseconds, and a writer backed off for a second would miss each gap.
 */
const busyWait = (attempt: number) => [1, 2, 5][attempt] ?? 10;

async function retryWhileBusy<T>(write: () => T): Promise<T> {
  const deadline = performance.now() + BUSY_DEADLINE_MS;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return write();
    } catch (error) {
      const busy = typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('SQLITE_BUSY');
      if (!busy || performance.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, busyWait(attempt)));
    }
  }
}

interface PendingInsert {
  token: TokenRow;
  entry: NewHistoryEntry;
  parent: ParentCheck | undefined;
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: unknown) => void;
}

export class SqliteHotPath implements HotPath {
  private readonly db: Database.Database;
  private readonly findActive: Statement<[string, string]>;
  private readonly findCredential: Statement<[string, string]>;
  private readonly findByKey: Statement<[string]>;
  private readonly recordUse: Statement<[string, string | null, string]>;
  private readonly insertTokenRow: Statement<unknown[]>;
  private readonly insertScope: Statement<[string, string]>;
  private readonly insertEntry: Statement<unknown[]>;
  private readonly releaseName: Statement<[string, string, string]>;
  private readonly findTokens: Statement<[string]>;
  private readonly historyStatements = new Map<string, Statement<unknown[]>>();
  /** A token, its scope rows and its entry; inside the batch's transaction it runs as a savepoint. */
  private readonly insertRows: Database.Transaction<(token: TokenRow, entry: NewHistoryEntry) => void>;

  constructor(
    databaseUrl: string,
    private readonly onStatement?: StatementListener,
  ) {
    this.db = new Database(sqlitePath(databaseUrl), { timeout: 0 });
    for (const pragma of SQLITE_PRAGMAS) this.db.pragma(pragma);
    const tokenColumns = TOKEN_COLUMNS.map((column) => column.column).join(', ');
    const activeBySecret = 'FROM tokens WHERE secret_hash = ? AND valid = 1 AND (expires_at IS NULL OR expires_at > ?)';
    this.findActive = this.db.prepare(`SELECT ${tokenColumns} ${activeBySecret}`);
    this.findCredential = this.db.prepare(`SELECT ${CREDENTIAL_COLUMNS.map((column) => column.column).join(', ')} ${activeBySecret}`);
    this.findByKey = this.db.prepare(`SELECT ${tokenColumns} FROM tokens WHERE key = ?`);
    // One statement for any number of keys: they travel as one JSON array.
    this.findTokens = this.db.prepare(`SELECT ${tokenColumns} FROM tokens WHERE key IN (SELECT value FROM json_each(?))`);
    this.recordUse = this.db.prepare('UPDATE tokens SET last_used_at = ?, last_used_ip = ? WHERE key = ?');
    this.insertTokenRow = this.db.prepare(`INSERT INTO tokens (${tokenColumns}) VALUES (${placeholders(TOKEN_COLUMNS.length)})`);
    this.insertScope = this.db.prepare('INSERT INTO token_scopes (token_key, scope) VALUES (?, ?)');
    this.insertEntry = this.db.prepare(
      `INSERT INTO token_change_history (${HISTORY_COLUMNS.map((column) => column.column).join(', ')}) VALUES (${placeholders(HISTORY_COLUMNS.length)})`,
    );
    this.insertRows = this.db.transaction((token: TokenRow, entry: NewHistoryEntry) => {
      this.onStatement?.(this.insertTokenRow.source);
      this.insertTokenRow.run(...TOKEN_COLUMNS.map((column) => toSqlite(column.kind, token[column.field])));
      for (const scope of token.scopes as string[]) {
        this.onStatement?.(this.insertScope.source);
        this.insertScope.run(token.key, scope);
      }
      this.onStatement?.(this.insertEntry.source);
      this.insertEntry.run(...HISTORY_COLUMNS.map((column) => toSqlite(column.kind, entry[column.field])));
    });
    this.releaseName = this.db.prepare('UPDATE tokens SET active_name = NULL WHERE username = ? AND active_name = ? AND (valid = 0 OR expires_at <= ?)');
  }

  async findActiveToken(secretHash: string, now: Date): Promise<TokenRow | null> {
    return this.findOne(this.findActive, TOKEN_COLUMNS, secretHash, now) as Promise<TokenRow | null>;
  }

  async findActiveCredential(secretHash: string, now: Date): Promise<Credential | null> {
    return this.findOne(this.findCredential, CREDENTIAL_COLUMNS, secretHash, now) as Promise<Credential | null>;
  }

  private async findOne(statement: Statement<[string, string]>, columns: readonly Column<string>[], secretHash: string, now: Date) {
    this.onStatement?.(statement.source);
    return rowOf(columns, statement.raw().get(secretHash, sqliteTime(now)) as unknown[] | undefined);
  }

  async findHistory({ where, orderBy, take }: HistoryQuery): Promise<HistoryRow[]> {
    const condition = sqlWhere(where, HISTORY_ROW_COLUMNS, dialect);
    const sql = `SELECT ${HISTORY_ROW_COLUMNS.map((column) => column.column).join(', ')} FROM token_change_history WHERE ${condition.text} ORDER BY ${sqlOrderBy(orderBy, HISTORY_ROW_COLUMNS)} LIMIT ${Math.trunc(take)}`;
    let statement = this.historyStatements.get(sql);
    if (!statement) {
      if (this.historyStatements.size >= MAX_HISTORY_STATEMENTS) this.historyStatements.clear();
      statement = this.db.prepare(sql);
      this.historyStatements.set(sql, statement);
    }
    this.onStatement?.(sql);
    return (statement.raw().all(...condition.values) as unknown[][]).map((row) => rowOf(HISTORY_ROW_COLUMNS, row) as HistoryRow);
  }

  async findTokensByKeys(keys: readonly string[]): Promise<TokenRow[]> {
    if (keys.length === 0) return [];
    this.onStatement?.(this.findTokens.source);
    return (this.findTokens.raw().all(JSON.stringify(keys)) as unknown[][]).map((row) => rowOf(TOKEN_COLUMNS, row) as TokenRow);
  }

  recordUses(uses: readonly TokenUse[]): Promise<void> {
    const record = this.db.transaction(() => {
      for (const use of uses) {
        this.onStatement?.(this.recordUse.source);
        this.recordUse.run(sqliteTime(use.at), use.ip, use.key);
      }
    });
    return retryWhileBusy(() => record.immediate());
  }

  /**
   * Group commit: the inserts that arrive within one turn of the event loop
   * share one transaction, each inside a savepoint of its own, so that one
   * refused by a unique index rolls back alone. Every insert is committed
   * before its promise resolves; what a commit costs in WAL writes is paid
   * once per batch instead of once per token.
   */
  insertToken(token: TokenRow, entry: NewHistoryEntry, parent?: ParentCheck): Promise<InsertOutcome> {
    return new Promise((resolve, reject) => {
      this.pendingInserts.push({ token, entry, parent, resolve, reject });
      if (this.pendingInserts.length === 1) setImmediate(() => void this.commitInserts());
    });
  }

  private readonly pendingInserts: PendingInsert[] = [];

  private async commitInserts(): Promise<void> {
    const batch = this.pendingInserts.splice(0);
    // A retried transaction runs the function again, so each run gathers its own outcomes.
    const insertAll = this.db.transaction(() => batch.map((insert) => ({ insert, outcome: this.insertOne(insert.token, insert.entry, insert.parent) })));
    try {
      for (const { insert, outcome } of await retryWhileBusy(() => insertAll.immediate())) insert.resolve(outcome);
    } catch (error) {
      for (const insert of batch) insert.reject(error);
    }
  }

  /**
   * One token, its scope rows and its entry, in a savepoint; a unique index's
   * refusal is an outcome. A derived token's parent is read here, under the
   * batch's write lock, where no other writer can change it before the commit.
   */
  private insertOne(token: TokenRow, entry: NewHistoryEntry, parent: ParentCheck | undefined): InsertOutcome {
    if (parent) {
      this.onStatement?.(this.findByKey.source);
      const row = rowOf(TOKEN_COLUMNS, this.findByKey.raw().get(parent.key) as unknown[] | undefined) as TokenRow | null;
      if (!parent.admits(row)) return 'parent-refused';
    }
    try {
      this.insertRows(token, entry);
      return 'inserted';
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
      return message?.includes('active_name') ? 'name-taken' : 'secret-taken';
    }
  }

  releaseExpiredName(username: string, name: string, now: Date): Promise<boolean> {
    this.onStatement?.(this.releaseName.source);
    return retryWhileBusy(() => this.releaseName.run(username, name, sqliteTime(now)).changes > 0);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
