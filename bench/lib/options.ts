/**
 * What one run measures and how hard, from the command line and BENCH_* variables:
 *
 *   --quick / BENCH_QUICK=1   every case once, short, small bulk sizes, no peer (CI's smoke run)
 *   BENCH_ROUNDS              interleaved rounds of the throughput cases (3; quick: 1)
 *   BENCH_DURATION            seconds per throughput measurement (10, as side-by-side.sh; quick: 1.5)
 *   BENCH_WARMUP              seconds of c=16 warm-up before each throughput case (2; quick: 0.5)
 *   BENCH_CONNECTIONS         connection counts, e.g. "1 16" (quick: "16")
 *   BENCH_PEER=0|1            better-auth peer on or off (default: on, off in quick mode)
 *   BENCH_DATABASE_URL        a PostgreSQL server to create the bench databases on (default: scripts/postgres.sh start)
 *   BENCH_ENGINES             "sqlite postgresql" (default both; PostgreSQL skipped when none can be had)
 *   BENCH_ONLY                case ids to run, e.g. "verify,create,invalidate" (default all)
 *   BENCH_FEED_STREAMS        idle streams of feed-fanout (1,000; quick: 50)
 *   BENCH_FEED_SUBSCRIBERS    streams of feed-throughput (100; quick: 50)
 *   BENCH_FEED_RATE           changes/s the feed-throughput writer issues (200), for BENCH_FEED_SECONDS (10; quick: 2)
 */

const CASE_IDS = ['verify', 'introspect', 'create', 'history', 'peer', 'depth', 'invalidate', 'sweep', 'feed-fanout', 'feed-throughput'] as const;
export type CaseId = (typeof CASE_IDS)[number];
export type Engine = 'sqlite' | 'postgresql';

export interface Options {
  quick: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number[];
  peer: boolean;
  engines: Engine[];
  only: Set<CaseId>;
  postgresUrl: string | null;
  /** Entries in the deep-history case, and the offset of its deep page. */
  historyDepth: number;
  deepOffset: number;
  /** Requests per latency measurement of the deep-history case. */
  depthRequests: number;
  invalidateTokens: number;
  sweepSizes: number[];
  /** feed-fanout: idle streams open on one server process before the one change. */
  feedStreams: number;
  /** feed-throughput: streams reading while the writer issues `feedRate` changes/s for `feedSeconds`. */
  feedSubscribers: number;
  feedRate: number;
  feedSeconds: number;
}

const flag = (value: string | undefined): boolean | null =>
  value === undefined || value === '' ? null : !['0', 'false', 'no', 'off'].includes(value.toLowerCase());

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function words(name: string): string[] | null {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' ? null : raw.split(/[\s,]+/).filter(Boolean);
}

export function readOptions(argv: readonly string[]): Options {
  const unknown = argv.filter((arg) => arg !== '--quick');
  if (unknown.length > 0) throw new Error(`unknown argument(s): ${unknown.join(' ')} (the only one is --quick; the rest is BENCH_* variables)`);
  const quick = argv.includes('--quick') || flag(process.env.BENCH_QUICK) === true;
  const engines = (words('BENCH_ENGINES') ?? ['sqlite', 'postgresql']).map((engine) => {
    if (engine !== 'sqlite' && engine !== 'postgresql') throw new Error(`BENCH_ENGINES: unknown engine "${engine}"`);
    return engine;
  });
  const only = words('BENCH_ONLY') ?? [...CASE_IDS];
  for (const id of only) if (!(CASE_IDS as readonly string[]).includes(id)) throw new Error(`BENCH_ONLY: unknown case "${id}" (cases: ${CASE_IDS.join(', ')})`);
  const connections = (words('BENCH_CONNECTIONS') ?? (quick ? ['16'] : ['1', '16'])).map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_CONNECTIONS must be whole numbers ≥ 1');
  const historyDepth = quick ? 1_000 : 1_000_000;
  return {
    quick,
    rounds: Math.round(positive('BENCH_ROUNDS', quick ? 1 : 3)),
    durationS: positive('BENCH_DURATION', quick ? 1.5 : 10),
    warmupS: positive('BENCH_WARMUP', quick ? 0.5 : 2),
    connections,
    peer: flag(process.env.BENCH_PEER) ?? !quick,
    engines,
    only: new Set(only as CaseId[]),
    postgresUrl: process.env.BENCH_DATABASE_URL || null,
    historyDepth,
    deepOffset: Math.round(historyDepth * 0.9),
    depthRequests: quick ? 40 : 200,
    invalidateTokens: quick ? 1_000 : 100_000,
    sweepSizes: quick ? [1_000] : [100_000, 10_000],
    feedStreams: Math.round(positive('BENCH_FEED_STREAMS', quick ? 50 : 1_000)),
    feedSubscribers: Math.round(positive('BENCH_FEED_SUBSCRIBERS', quick ? 50 : 100)),
    feedRate: positive('BENCH_FEED_RATE', 200),
    feedSeconds: positive('BENCH_FEED_SECONDS', quick ? 2 : 10),
  };
}
