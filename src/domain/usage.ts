import type { TokenRow } from '../db/client.ts';
import type { HotPath, TokenUse } from '../db/hot-path/index.ts';
import type { Logger } from '../logger.ts';

/**
 * When each token was last used, and from where, without a write on the
 * authentication path: a use is noted in memory when the token's recorded
 * use is older than the interval, and the notes are written in batches
 * every second and at shutdown. So a token's lastUsedAt is at most one
 * interval (and a second) behind, as GitLab (10 min) and Unkey (1 min) keep
 * theirs, and a busy token costs one write a minute, not one a request.
 */
export class UsageRecorder {
  private pending = new Map<string, TokenUse>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly hotPath: HotPath,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Notes a use of `token` at `at` from `ip`, when its last recorded use is older than the interval. */
  record(token: Pick<TokenRow, 'key' | 'lastUsedAt'>, ip: string | null, at: Date): void {
    if (token.lastUsedAt !== null && at.getTime() - token.lastUsedAt.getTime() < this.intervalMs) return;
    if (!this.pending.has(token.key)) this.pending.set(token.key, { key: token.key, at, ip });
  }

  /** Writes what has been noted; resolves once it is written. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.hotPath.recordUses(batch);
      } catch (error) {
        // Last use is bookkeeping: losing one batch must not take requests down.
        this.logger.error({ err: error, tokens: batch.length }, 'could not record token uses');
      }
    });
    return this.flushing;
  }

  start(everyMs: number): void {
    this.timer ??= setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
