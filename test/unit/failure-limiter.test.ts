import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../src/http/failure-limiter.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('FailureLimiter', () => {
  it('answers null up to the limit, then the seconds left in the minute', () => {
    const clock = manualClock();
    const limiter = new FailureLimiter(3, 100, clock.now);
    expect([limiter.recordFailure('a'), limiter.recordFailure('a'), limiter.recordFailure('a')]).toEqual([null, null, null]);
    expect(limiter.recordFailure('a')).toBe(60);
    clock.advance(45_500);
    expect(limiter.recordFailure('a')).toBe(15);
    // Another address has a count of its own.
    expect(limiter.recordFailure('b')).toBeNull();
  });

  it('starts a new window once the minute is over', () => {
    const clock = manualClock();
    const limiter = new FailureLimiter(1, 100, clock.now);
    expect(limiter.recordFailure('a')).toBeNull();
    expect(limiter.recordFailure('a')).toBe(60);
    clock.advance(60_000);
    expect(limiter.recordFailure('a')).toBeNull();
    expect(limiter.recordFailure('a')).toBe(60);
  });

  it('keeps at most `max` addresses, forgetting the least recently failed', () => {
    const clock = manualClock();
    const limiter = new FailureLimiter(1, 2, clock.now);
    limiter.recordFailure('a');
    expect(limiter.recordFailure('a')).not.toBeNull();
    limiter.recordFailure('b');
    // A third address evicts 'a', the least recently used: its count starts over.
    limiter.recordFailure('c');
    expect(limiter.recordFailure('a')).toBeNull();
    // 'a' came back and evicted 'b'; 'c' is still remembered.
    expect(limiter.recordFailure('c')).not.toBeNull();
    expect(limiter.recordFailure('b')).toBeNull();
  });

  it('stays bounded however many addresses fail: an old address is forgotten, not kept', () => {
    const clock = manualClock();
    const limiter = new FailureLimiter(1, 1000, clock.now);
    limiter.recordFailure('first');
    expect(limiter.recordFailure('first')).not.toBeNull();
    for (let index = 0; index < 50_000; index += 1) limiter.recordFailure(`10.0.${index >> 8}.${index & 255}`);
    // Within the same minute, only eviction can have cleared its count.
    expect(limiter.recordFailure('first')).toBeNull();
    // The most recent addresses are still counted.
    expect(limiter.recordFailure(`10.0.${49_999 >> 8}.${49_999 & 255}`)).not.toBeNull();
  });
});
