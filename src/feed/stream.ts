import type { HistoryRow } from '../db/client.ts';
import { FeedStreamError } from '../domain/errors.ts';
import { historyMatches, type HistoryCriteria } from '../domain/history/filter.ts';
import type { Actor } from '../domain/model.ts';
import { compareKeys, keyOf, type FeedKey } from './order.ts';

/** What a subscriber receives: an entry, or, last, why its stream ended (a stream that ends because its client left gets nothing). */
export type FeedItem = { entry: HistoryRow } | { end: FeedStreamError };

export interface FeedStreamOptions {
  actor: Actor;
  criteria: HistoryCriteria;
  /** Only entries after this key are delivered (the resumed-from entry); null: from the reader's horizon on. */
  after: FeedKey | null;
  /** Entries committed before the stream started, which it does not deliver (PostgreSQL: visible in its starting snapshot). */
  seenBefore?: (entry: HistoryRow) => boolean;
  /** Pages of the replay, read on demand (so a long replay is paced by its reader), or null. */
  replay: AsyncIterator<HistoryRow[]> | null;
  /** Entries the stream may hold unread. */
  backlog: number;
  /** Called once, when the stream ends for whatever reason (the hub forgets it). */
  onClose: (stream: FeedStream) => void;
  /** Drops the client's connection: for a client that stopped reading, which would never read why its stream ended. */
  disconnect?: () => void;
}

/** How long a stream closed for its backlog waits for its client to read why before the connection is dropped. */
const DISCONNECT_AFTER_MS = 5000;

/**
 * One subscriber's stream: a bounded queue that the hub pushes matching live
 * entries into, drained by the subscription as an async iterator. It does no
 * work of its own while idle: no timer, no query.
 */
export class FeedStream implements AsyncIterableIterator<FeedItem> {
  readonly actor: Actor;
  readonly criteria: HistoryCriteria;
  /** When the subscriber's token expires (the hub ends the stream then); null: never. */
  expiresAt: Date | null = null;
  private readonly queue: HistoryRow[] = [];
  private replay: AsyncIterator<HistoryRow[]> | null;
  private replayed: HistoryRow[] = [];
  /** Feed order is strictly increasing: nothing at or before the last key delivered is delivered again. */
  private last: FeedKey | null;
  private ending: FeedStreamError | null = null;
  private closed = false;
  private waiter: (() => void) | null = null;

  constructor(private readonly options: FeedStreamOptions) {
    this.actor = options.actor;
    this.criteria = options.criteria;
    this.last = options.after;
    this.replay = options.replay;
  }

  get isOpen(): boolean {
    return !this.closed && this.ending === null;
  }

  /** A live entry from the reader, in feed order; kept only if it matches. Past the backlog bound the stream ends. */
  push(entry: HistoryRow): void {
    if (!this.isOpen || !historyMatches(this.criteria, entry)) return;
    if (this.queue.length >= this.options.backlog) {
      this.end(
        new FeedStreamError(
          'STREAM_BACKLOG_EXCEEDED',
          'This stream fell too far behind and was closed: subscribe again with resumeFrom set to the last cursor received',
        ),
      );
      const { disconnect } = this.options;
      if (disconnect) setTimeout(() => this.closed || disconnect(), DISCONNECT_AFTER_MS).unref();
      return;
    }
    this.queue.push(entry);
    this.wake();
  }

  /** Ends the stream: what was queued is dropped (the subscriber resumes from its last cursor), then `reason` is delivered. */
  end(reason: FeedStreamError): void {
    if (!this.isOpen) return;
    this.ending = reason;
    this.queue.length = 0;
    this.replayed = [];
    void this.replay?.return?.();
    this.replay = null;
    this.options.onClose(this);
    this.wake();
  }

  async next(): Promise<IteratorResult<FeedItem>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      if (this.ending) {
        const end = this.ending;
        this.finish();
        return { done: false, value: { end } };
      }
      const entry = await this.take();
      if (entry === undefined) continue;
      const key = keyOf(entry);
      if (this.last && compareKeys(key, this.last) <= 0) continue;
      if (this.options.seenBefore?.(entry)) continue;
      this.last = key;
      return { done: false, value: { entry } };
    }
  }

  /** The client went away (or the server closes): nothing more is delivered. */
  async return(): Promise<IteratorResult<FeedItem>> {
    if (this.ending === null && !this.closed) this.options.onClose(this);
    void this.replay?.return?.();
    this.replay = null;
    this.finish();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next entry: the replay's first, then the live queue's; waits when there is none. */
  private async take(): Promise<HistoryRow | undefined> {
    if (this.replayed.length > 0) return this.replayed.shift();
    if (this.replay) {
      const page = await this.replay.next();
      if (page.done) this.replay = null;
      else this.replayed = page.value;
      return undefined;
    }
    const entry = this.queue.shift();
    if (entry !== undefined) return entry;
    await new Promise<void>((resolve) => (this.waiter = resolve));
    return undefined;
  }

  private finish(): void {
    this.closed = true;
    this.queue.length = 0;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
