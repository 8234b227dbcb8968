import Sqlite from 'better-sqlite3';
import pg from 'pg';
import type { Engine } from '../config.ts';
import { openDatabase, sqlitePath, type Database, type HistoryRow } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { FEED_ORDER, keyOf, keyRangeWhere, type FeedKey } from './order.ts';

/** Rows read per statement; the reader yields to the event loop between pages so that streams drain. */
const PAGE = 500;
/** SQLite: how often PRAGMA data_version is read (it changes when another connection commits). */
const SQLITE_CHECK_MS = 200;
/** PostgreSQL: the safety-net poll when no NOTIFY came. */
const IDLE_POLL_MS = 1000;
/** PostgreSQL: the poll while committed entries wait for an older transaction to finish. */
const LAGGING_POLL_MS = 100;
const NOTIFY_CHANNEL = 'tessera_history';

export interface FeedReaderOptions {
  engine: Engine;
  databaseUrl: string;
  db: Database;
  logger: Logger;
  /** Gets each page of entries past the horizon, in feed order, before the horizon moves past them. */
  deliver: (entries: HistoryRow[]) => void;
}

/**
 * The one reader of the history table in this process: it tails the table in
 * commit order and hands each page to the hub. Every entry whose key is below
 * `horizon` has been delivered, and none at or above it.
 *
 * - SQLite: one writer at a time, so ids are assigned in commit order and
 *   "id past the last one delivered" misses nothing. A connection of the
 *   reader's own reads PRAGMA data_version every 200 ms, which changes when
 *   any other connection (this process's, the CLI's, another server's) commits.
 * - PostgreSQL: ids are assigned before commit, so transactions commit out of
 *   id order. Each entry carries its transaction's id (txId, set by a
 *   trigger). The horizon is a transaction id H below which every
 *   transaction's entries were delivered; each poll reads X, the oldest
 *   transaction still running (pg_snapshot_xmin: everything below it has
 *   committed or rolled back), delivers the entries with H <= txId < X and
 *   sets H := X. A long-running transaction holds X back: its entries, and
 *   everything committed after it began, wait for it, and none is skipped.
 *   Woken by NOTIFY (sent by a trigger, delivered at commit), with a short
 *   poll while X lags behind a committed entry and a 1 s poll as a safety net.
 */
export class FeedReader {
  private current: FeedKey = { txId: 0n, id: 0 };
  private started: Promise<void> | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private sqlite: Sqlite.Database | null = null;
  private dataVersion = -1;
  private listener: pg.Client | null = null;
  /** PostgreSQL: the reader's own client, so that its polls never queue behind the requests' queries in the shared pool. */
  private own: Database | null = null;
  private lagging = false;

  constructor(private readonly options: FeedReaderOptions) {}

  /** Every entry before this key has been delivered; none at or after it. */
  get horizon(): FeedKey {
    return this.current;
  }

  /** Starts once; later calls wait for the first. */
  start(): Promise<void> {
    this.started ??= this.open();
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    this.sqlite?.close();
    this.sqlite = null;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    const own = this.own;
    this.own = null;
    await own?.$disconnect().catch(() => undefined);
  }

  /** What the reader queries through: its own client on PostgreSQL, the shared one on SQLite (synchronous, nothing to wait behind). */
  private get db(): Database {
    return this.own ?? this.options.db;
  }

  private async open(): Promise<void> {
    const { engine, db } = this.options;
    if (engine === 'sqlite') {
      this.sqlite = new Sqlite(sqlitePath(this.options.databaseUrl), { fileMustExist: true });
      // Before the last id is read, so that a commit in between is seen as a change.
      this.dataVersion = this.readDataVersion();
      const last = await db.tokenChangeHistoryEntry.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
      this.current = { txId: 0n, id: (last?.id ?? 0) + 1 };
    } else {
      const own = (await openDatabase(engine, this.options.databaseUrl)).db;
      if (this.stopped) return void (await own.$disconnect());
      this.own = own;
      // Listening before the horizon is read, so that no commit after it goes unheard.
      await this.listen();
      this.current = { txId: await this.oldestRunning(), id: 0 };
    }
    this.schedule(engine === 'sqlite' ? SQLITE_CHECK_MS : IDLE_POLL_MS);
  }

  private readDataVersion(): number {
    return Number(this.sqlite?.pragma('data_version', { simple: true }) ?? -1);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('notification', () => this.wake());
    client.on('error', (error) => {
      this.options.logger.warn({ err: error }, 'feed: the LISTEN connection failed; reconnecting (polling meanwhile)');
      if (this.listener === client) this.listener = null;
      setTimeout(() => {
        if (!this.stopped && this.listener === null) this.listen().catch(() => undefined);
      }, IDLE_POLL_MS).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.listener = client;
    // A reconnect may have missed notifications: read now.
    this.wake();
  }

  /** The oldest transaction id still running: every transaction below it has finished. */
  private async oldestRunning(): Promise<bigint> {
    const rows = await this.db.$queryRawUnsafe<{ xmin: string }[]>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
    return BigInt(rows[0]?.xmin ?? '0');
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  /** A NOTIFY: read now. */
  private wake(): void {
    if (this.started === null || this.stopped) return;
    this.schedule(0);
  }

  private tick(): void {
    this.timer = null;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.poll()
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'feed: reading the history failed; retrying'))
      .finally(() => {
        this.running = null;
        const engine = this.options.engine;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else this.schedule(engine === 'sqlite' ? SQLITE_CHECK_MS : this.lagging ? LAGGING_POLL_MS : IDLE_POLL_MS);
      });
  }

  private async poll(): Promise<void> {
    if (this.options.engine === 'sqlite') {
      const version = this.readDataVersion();
      if (version === this.dataVersion) return;
      this.dataVersion = version;
      await this.readUpTo(null);
      return;
    }
    const oldest = await this.oldestRunning();
    if (oldest > this.current.txId) await this.readUpTo(oldest);
    if (oldest > this.current.txId) this.current = { txId: oldest, id: 0 };
    // Committed entries of transactions at or past X wait for an older transaction: look again soon.
    this.lagging = (await this.db.tokenChangeHistoryEntry.findFirst({ where: { txId: { gte: this.current.txId } }, select: { id: true } })) !== null;
  }

  /** Delivers, page by page, every entry from the horizon up to (not including) transaction `until` (PostgreSQL) or the end (SQLite). */
  private async readUpTo(until: bigint | null): Promise<void> {
    const { db } = this;
    const { engine } = this.options;
    for (;;) {
      if (this.stopped) return;
      const where = until === null ? { id: { gte: this.current.id } } : keyRangeWhere(engine, this.atOrAfterHorizon(), { txId: until, id: 0 });
      const page = await db.tokenChangeHistoryEntry.findMany({ where, orderBy: FEED_ORDER, take: PAGE });
      const last = page.at(-1);
      if (!last) return;
      this.options.deliver(page);
      const key = keyOf(last);
      this.current = { txId: key.txId, id: key.id + 1 };
      if (page.length < PAGE) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The key just before the horizon, for "strictly after" conditions. */
  private atOrAfterHorizon(): FeedKey {
    return { txId: this.current.txId, id: this.current.id - 1 };
  }
}
