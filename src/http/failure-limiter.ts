import { LRUCache } from 'lru-cache';

/**
 * Counts failed credentials per client address in fixed one-minute windows.
 * It only ever answers "slow down" for a credential that has already failed,
 * so it slows guessing without locking anyone out: a valid credential is
 * checked first and never refused for its address.
 *
 * An LRU cache with a TTL keeps memory bounded however many addresses fail
 * (rate-limiter-flexible's memory store, used before, has no size bound).
 */
export class FailureLimiter {
  private readonly windows: LRUCache<string, { failures: number; resetAt: number }>;

  constructor(
    private readonly failuresPerMinute: number,
    maxAddresses = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache({ max: maxAddresses });
  }

  /** Records one failure; returns the seconds to wait when the address is over its limit, else null. */
  recordFailure(address: string): number | null {
    const now = this.now();
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) {
      window = { failures: 0, resetAt: now + 60_000 };
      this.windows.set(address, window);
    }
    window.failures += 1;
    return window.failures > this.failuresPerMinute ? Math.max(1, Math.ceil((window.resetAt - now) / 1000)) : null;
  }
}
