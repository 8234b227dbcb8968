import type { HistoryRow } from '../db/client.ts';
import { FeedStreamError } from '../domain/errors.ts';
import { TokenChange, type Clock } from '../domain/model.ts';
import type { FeedStream } from './stream.ts';

/** How often the hub looks for streams whose token has expired: well within the 5 s the contract allows. */
const EXPIRY_CHECK_MS = 1000;

const authorityEnded = () => new FeedStreamError('STREAM_AUTHORITY_ENDED', 'The token this stream was opened with is revoked or expired');

/**
 * The open streams of this process, fed by its one reader. The reader hands
 * over each window of entries in feed order; the hub gives each entry to
 * every open stream (each keeps what matches its filter) and ends the streams
 * whose authority ended: a REVOKE or EXPIRE entry of the subscriber's own
 * token, or its expiry by the clock. One timer for all streams, and only
 * while a stream has an expiry.
 */
export class FeedHub {
  private readonly streams = new Set<FeedStream>();
  /** Open streams by the key of the subscriber's token (the bootstrap secret and the CLI have none). */
  private readonly byToken = new Map<string, Set<FeedStream>>();
  /** Open streams by credential: what the per-token limit counts. */
  private readonly byCredential = new Map<string, number>();
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly now: Clock,
    private readonly maxStreamsPerToken: number,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /** Refuses a stream past the per-token limit, with a typed error, before anything is registered. */
  checkLimit(credential: string): void {
    if ((this.byCredential.get(credential) ?? 0) >= this.maxStreamsPerToken) {
      throw new FeedStreamError('TOO_MANY_STREAMS', `A token may hold at most ${this.maxStreamsPerToken} open tokenChanges streams in one server process`);
    }
  }

  add(stream: FeedStream, credential: string): void {
    this.checkLimit(credential);
    this.streams.add(stream);
    this.byCredential.set(credential, (this.byCredential.get(credential) ?? 0) + 1);
    const tokenKey = stream.actor.tokenKey;
    if (tokenKey !== null) {
      const group = this.byToken.get(tokenKey) ?? new Set<FeedStream>();
      group.add(stream);
      this.byToken.set(tokenKey, group);
    }
  }

  remove(stream: FeedStream, credential: string): void {
    if (!this.streams.delete(stream)) return;
    const count = (this.byCredential.get(credential) ?? 1) - 1;
    if (count > 0) this.byCredential.set(credential, count);
    else this.byCredential.delete(credential);
    const tokenKey = stream.actor.tokenKey;
    const group = tokenKey === null ? undefined : this.byToken.get(tokenKey);
    group?.delete(stream);
    if (tokenKey !== null && group?.size === 0) this.byToken.delete(tokenKey);
    if (![...this.streams].some((open) => open.expiresAt !== null)) this.stopExpiryTimer();
  }

  /** The subscriber's token expires at `expiresAt` (null: never); past it the stream ends. */
  setExpiry(stream: FeedStream, expiresAt: Date | null): void {
    stream.expiresAt = expiresAt;
    if (expiresAt !== null && this.expiryTimer === null) {
      this.expiryTimer = setInterval(() => this.endExpired(), EXPIRY_CHECK_MS);
      this.expiryTimer.unref();
    }
    this.endExpired();
  }

  /** One window of entries, in feed order. */
  dispatch(entries: readonly HistoryRow[]): void {
    if (this.streams.size === 0) return;
    // Entries recorded after an expiry are never delivered to the expired token's streams.
    this.endExpired();
    for (const entry of entries) {
      for (const stream of this.streams) stream.push(entry);
      const affected = this.byToken.get(entry.token);
      if (!affected) continue;
      if (entry.action === TokenChange.revoke || entry.action === TokenChange.expire) {
        for (const stream of [...affected]) stream.end(authorityEnded());
      } else if (entry.action === TokenChange.edit) {
        // An edit may shorten (or lengthen) the subscriber's expiry.
        for (const stream of affected) this.setExpiry(stream, entry.expires);
      }
    }
  }

  /** Ends the streams of a token that is no longer active (found so when the stream opened). */
  endForAuthority(stream: FeedStream): void {
    stream.end(authorityEnded());
  }

  /** Ends every stream (the server is closing): they complete without an error. */
  closeAll(): void {
    for (const stream of [...this.streams]) void stream.return();
    this.stopExpiryTimer();
  }

  private endExpired(): void {
    const now = this.now().getTime();
    for (const stream of [...this.streams]) {
      if (stream.expiresAt !== null && stream.expiresAt.getTime() <= now) stream.end(authorityEnded());
    }
  }

  private stopExpiryTimer(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
  }
}
