import type { Engine } from '../config.ts';
import type { Database, HistoryRow } from '../db/client.ts';
import { BadQueryInputError } from '../domain/errors.ts';
import { historyCriteria, historyWhere, type HistoryCriteria, type HistoryFilter } from '../domain/history/filter.ts';
import type { Actor, Clock } from '../domain/model.ts';
import { canSee, type Authorizer } from '../domain/rules/authorization.ts';
import type { Logger } from '../logger.ts';
import { FeedHub } from './hub.ts';
import { FEED_ORDER, keyOf, keyRangeWhere, type FeedKey } from './order.ts';
import { FeedReader } from './reader.ts';
import { FeedStream, type FeedItem } from './stream.ts';

export type { FeedItem };

/** Entries read per statement of a replay. */
const REPLAY_PAGE = 500;

interface LiveFeedOptions {
  engine: Engine;
  databaseUrl: string;
  db: Database;
  authorizer: Authorizer;
  now: Clock;
  logger: Logger;
  maxStreamsPerToken: number;
  backlog: number;
}

/** Where a resumed stream starts: the position a history cursor names (its event time and id). */
interface ResumePosition {
  eventTime: Date;
  id: number;
}

interface Subscription {
  actor: Actor;
  filter: HistoryFilter;
  resumeFrom: ResumePosition | null;
  /** Drops the subscriber's connection (a client that stopped reading). */
  disconnect?: () => void;
}

/**
 * The live change feed of this process: history entries as they are
 * recorded, oldest first, to every subscriber whose filter (tokenHistory's,
 * with its visibility rules) they match. One reader (started on the first
 * subscription) and one hub serve every stream.
 */
export class LiveFeed {
  private readonly hub: FeedHub;
  private readonly reader: FeedReader;
  private closed = false;

  constructor(private readonly options: LiveFeedOptions) {
    this.hub = new FeedHub(options.now, options.maxStreamsPerToken);
    this.reader = new FeedReader({ ...options, deliver: (entries) => this.hub.dispatch(entries) });
  }

  /** Open streams in this process. */
  get openStreams(): number {
    return this.hub.size;
  }

  /**
   * Opens a stream. With `resumeFrom`, it first replays every matching entry
   * after that one that the reader has already passed, then goes on live: the
   * stream joins the hub at the reader's horizon and the replay reads up to
   * that same horizon, so the two neither overlap nor leave a gap.
   */
  async subscribe({ actor, filter, resumeFrom, disconnect }: Subscription): Promise<FeedStream> {
    const criteria = historyCriteria(this.options.authorizer, actor, filter, 'subscribe to token changes');
    const credential = actor.tokenKey ?? actor.username;
    this.hub.checkLimit(credential);
    const after = resumeFrom ? await this.resumeKey(actor, resumeFrom) : null;
    if (this.closed) throw new Error('the feed is closed');
    await this.reader.start();
    // Without resumeFrom the stream starts now: after what is committed at this point.
    const start = after ? { after, seenBefore: undefined } : await this.startingPoint();
    // From here to hub.add nothing awaits: the horizon read is the one the stream joins at.
    const horizon = this.reader.horizon;
    const stream: FeedStream = new FeedStream({
      actor,
      criteria,
      after: start.after,
      seenBefore: start.seenBefore,
      replay: this.replay(criteria, start.after, horizon, start.seenBefore),
      backlog: this.options.backlog,
      onClose: (closing) => this.hub.remove(closing, credential),
      disconnect,
    });
    this.hub.add(stream, credential);
    await this.checkAuthority(stream);
    return stream;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.closeAll();
    await this.reader.stop();
  }

  /**
   * The feed key of the entry a cursor names. The entry must still exist
   * (retention may have pruned it) and be one the caller may see; else the
   * cursor is refused, as tokenHistory refuses one it did not give out.
   */
  private async resumeKey(actor: Actor, position: ResumePosition): Promise<FeedKey> {
    const entry = await this.options.db.tokenChangeHistoryEntry.findUnique({
      where: { id: position.id },
      select: { id: true, txId: true, eventTime: true, username: true },
    });
    if (!entry || !canSee(actor, entry.username) || entry.eventTime.getTime() !== position.eventTime.getTime()) {
      throw new BadQueryInputError(
        'BAD_CURSOR',
        'resumeFrom names no history entry this server still keeps (it may have been pruned): subscribe without it, or page tokenHistory',
      );
    }
    return keyOf(entry);
  }

  /**
   * Where a stream without resumeFrom starts: after every entry committed now.
   * SQLite: the last id (ids are in commit order). PostgreSQL: the current
   * snapshot; entries of transactions it sees as committed are skipped, and
   * those of later ones (from its xmin on, which the reader's horizon may
   * have passed meanwhile) are replayed or delivered live.
   */
  private async startingPoint(): Promise<{ after: FeedKey; seenBefore: ((entry: HistoryRow) => boolean) | undefined }> {
    const { db, engine } = this.options;
    if (engine === 'sqlite') {
      const last = await db.tokenChangeHistoryEntry.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
      return { after: { txId: 0n, id: last?.id ?? 0 }, seenBefore: undefined };
    }
    const rows = await db.$queryRawUnsafe<{ snapshot: string }[]>('SELECT pg_current_snapshot()::text AS snapshot');
    const [xmin = '0', xmax = '0', running = ''] = (rows[0]?.snapshot ?? '0:0:').split(':');
    const low = BigInt(xmin);
    const high = BigInt(xmax);
    const inProgress = new Set(
      running
        .split(',')
        .filter(Boolean)
        .map((id) => BigInt(id)),
    );
    const committedBefore = (txId: bigint) => txId < low || (txId < high && !inProgress.has(txId));
    return { after: { txId: low, id: -1 }, seenBefore: (entry) => entry.txId === null || committedBefore(entry.txId) };
  }

  /** Pages of the matching entries after `after` and before `horizon`, in feed order, read as the stream asks for them. */
  private async *replay(
    criteria: HistoryCriteria,
    after: FeedKey,
    horizon: FeedKey,
    seenBefore?: (entry: HistoryRow) => boolean,
  ): AsyncGenerator<HistoryRow[]> {
    let from = after;
    for (;;) {
      const page = await this.options.db.tokenChangeHistoryEntry.findMany({
        where: { AND: [historyWhere(criteria), keyRangeWhere(this.options.engine, from, horizon)] },
        orderBy: FEED_ORDER,
        take: REPLAY_PAGE,
      });
      const last = page.at(-1);
      if (!last) return;
      yield seenBefore ? page.filter((entry) => !seenBefore(entry)) : page;
      if (page.length < REPLAY_PAGE) return;
      from = keyOf(last);
    }
  }

  /** A token revoked or expired between authentication and now would never see its REVOKE entry in the feed: checked once, after joining. */
  private async checkAuthority(stream: FeedStream): Promise<void> {
    const tokenKey = stream.actor.tokenKey;
    if (tokenKey === null) return;
    const token = await this.options.db.token.findUnique({ where: { key: tokenKey }, select: { valid: true, expiresAt: true } });
    if (!token?.valid) this.hub.endForAuthority(stream);
    else this.hub.setExpiry(stream, token.expiresAt);
  }
}
