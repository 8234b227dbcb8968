import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Databases } from './databases.ts';
import type { EntryInfo, FeedParentMessage, FeedWorkerMessage, StreamEvents } from './feed-worker.ts';
import { CREATE_MUTATION, graphql, mintToken } from './graphql.ts';
import type { Engine, Options } from './options.ts';
import { PROJECT_ROOT } from './paths.ts';
import { exited, forkTracked, processCpuMs, processMemoryMb, stopProcess } from './processes.ts';
import type { BulkRow } from './report.ts';
import { BOOTSTRAP, startTessera, type Server } from './servers.ts';
import { nowMs, percentile, sleep } from './stats.ts';

/**
 * The live change feed under load, on one server process per engine:
 *
 * - feed-fanout: N idle `tokenChanges` streams, then one change; how long it
 *   took to reach each stream, and the server's RSS with the streams idle.
 * - feed-throughput: S streams while a writer issues R changes/s for D s
 *   (generateToken + revokeToken pairs through the API); every stream must
 *   get every entry exactly once, and how long each took.
 *
 * The streams are read in feed-worker.ts (a process of its own); the writer
 * runs here. Each stream belongs to an admin token (a non-admin sees only its
 * own entries), at most the server's default 20 streams per token, so the
 * per-token limit stays as shipped.
 */

type Say = (line: string) => void;
type Fail = (what: string) => void;

/** TESSERA_MAX_STREAMS_PER_TOKEN's default: the bench opens its streams within it. */
const STREAMS_PER_TOKEN = 20;
/** The targets of the feed's issue (full-size runs). */
const FANOUT_P99_MS = 1000;
const FANOUT_RSS_MB = 400;
const THROUGHPUT_P99_MS = 1000;
/** feed-fanout's changes (quick: 2), one second apart. */
const FANOUT_CHANGES = 3;
const SUBSCRIPTION = 'subscription { tokenChanges { cursor node { token action eventTime } } }';
const REVOKE_MUTATION =
  'mutation($key: String!) { revokeToken(input: { key: $key, reason: "bench" }) { __typename ... on InvalidateTokensPayload { count } ... on Error { code message } } }';

interface FeedLatency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

// Not Math.max(...values): a run holds 200,000 deliveries, more arguments than a call takes.
const largest = (values: readonly number[]): number => values.reduce((top, value) => Math.max(top, value), Number.NEGATIVE_INFINITY);
const latencyOf = (values: readonly number[]): FeedLatency => ({
  n: values.length,
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  max: values.length === 0 ? Number.NaN : largest(values),
});

interface FeedFanoutResult {
  case: 'feed-fanout';
  engine: Engine;
  streams: number;
  tokens: number;
  openS: number;
  /** Streams the first change reached (once, in order). */
  received: number;
  /** Of the first change: receive time − the entry's eventTime (set inside the writing transaction, so at or before its commit). */
  fromEventTime: FeedLatency;
  /** Receive time − the arrival of the mutation's response (after the commit: may be negative). */
  fromResponse: FeedLatency;
  /** The changes after the first, one second apart, pooled; null when there was only one. */
  later: { changes: number; received: number; fromEventTime: FeedLatency; fromResponse: FeedLatency } | null;
  rssBeforeMb: number;
  rssIdleMb: number;
  /** Server CPU while the streams sat idle, % of one core. */
  idleServerCorePct: number;
  loadAverage: [number, number];
}

interface FeedThroughputResult {
  case: 'feed-throughput';
  engine: Engine;
  subscribers: number;
  targetRate: number;
  seconds: number;
  /** Entries the writer's mutations recorded, and the rate they were committed at. */
  written: number;
  achievedRate: number;
  writeErrors: number;
  /** Streams that got every entry exactly once. */
  complete: number;
  delivered: number;
  fromEventTime: FeedLatency;
  fromResponse: FeedLatency;
  serverCorePct: number;
  loadAverage: [number, number];
}

export type FeedResult = FeedFanoutResult | FeedThroughputResult;

const WORKER = fileURLToPath(new URL('./feed-worker.ts', import.meta.url));

/** The subscribers' process, spoken to one request at a time. */
class Subscribers {
  private readonly child: ChildProcess;
  private pending: { resolve: (message: FeedWorkerMessage) => void; reject: (error: Error) => void } | null = null;

  constructor() {
    this.child = forkTracked(WORKER, { cwd: PROJECT_ROOT, execArgv: ['--import', 'tsx'] });
    this.child.on('message', (message: FeedWorkerMessage) => {
      const pending = this.pending;
      this.pending = null;
      if (message.type === 'error') pending?.reject(new Error(`feed worker: ${message.message}`));
      else pending?.resolve(message);
    });
    this.child.once('exit', (code) => this.pending?.reject(new Error(`the feed worker exited (${code})`)));
  }

  private ask<Type extends FeedWorkerMessage['type']>(message: FeedParentMessage): Promise<Extract<FeedWorkerMessage, { type: Type }>> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve: resolve as (message: FeedWorkerMessage) => void, reject };
      this.child.send(message);
    });
  }

  open(url: string, tokens: string[]) {
    return this.ask<'opened'>({ type: 'open', url, tokens, query: SUBSCRIPTION, concurrency: 25 });
  }

  collect(count: number, timeoutMs: number) {
    return this.ask<'collected'>({ type: 'collect', count, timeoutMs });
  }

  close() {
    return this.ask<'closed'>({ type: 'close' });
  }

  async stop(): Promise<void> {
    if (exited(this.child)) return;
    this.child.disconnect();
    await stopProcess(this.child, 3000);
  }
}

const loadAverage = (): [number, number] => {
  const [one = 0, five = 0] = loadavg();
  return [Number(one.toFixed(1)), Number(five.toFixed(1))];
};

/** `tessera_feed_streams` as the server's /metrics reports it. */
async function serverStreams(server: Server): Promise<number> {
  const response = await fetch(server.url.replace(/\/graphql$/, '/metrics'), { headers: { authorization: `Bearer ${BOOTSTRAP}` } });
  const text = await response.text();
  return Number(/^tessera_feed_streams(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** Admin tokens for `streams` streams, at most STREAMS_PER_TOKEN on each. */
async function subscriberTokens(server: Server, label: string, streams: number): Promise<{ tokens: string[]; perStream: string[] }> {
  const count = Math.ceil(streams / STREAMS_PER_TOKEN);
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 1)
    tokens.push((await mintToken(server.url, BOOTSTRAP, { username: 'feed-admin', name: `${label}-${i}`, scopes: ['admin:token', 'user:token'] })).secret);
  return { tokens, perStream: Array.from({ length: streams }, (_, index) => tokens[index % count]!) };
}

/** Opens the streams and checks that the server counts them all open. */
async function openStreams(subscribers: Subscribers, server: Server, perStream: string[], what: string, fail: Fail): Promise<number> {
  const opened = await subscribers.open(server.url, perStream);
  if (opened.failures.length > 0) fail(`${what}: ${opened.failures.length} stream(s) could not be opened; first: ${opened.failures[0]}`);
  const counted = await serverStreams(server);
  if (counted !== perStream.length) fail(`${what}: the server counts ${counted} open streams (tessera_feed_streams), expected ${perStream.length}`);
  return opened.openMs / 1000;
}

const problemsOf = (streams: StreamEvents[]) => streams.filter((stream) => stream.problem !== null).map((stream) => stream.problem!);

/** feed-fanout, then feed-throughput, on one server and database of this engine (each only if asked). */
export async function runFeed(
  engine: Engine,
  cases: { fanout: boolean; throughput: boolean },
  databases: Databases,
  options: Options,
  workDir: string,
  say: Say,
  fail: Fail,
): Promise<FeedResult[]> {
  const database = await databases.create(engine, 'feed');
  // No sweep: nothing but the cases' own changes reaches the streams.
  const server = await startTessera(`tessera-${engine}-feed`, database.url, workDir, { TESSERA_SWEEP_INTERVAL_SECONDS: '0' });
  const subscribers = new Subscribers();
  const results: FeedResult[] = [];
  try {
    if (cases.fanout) results.push(await fanout(engine, server, subscribers, options, say, fail));
    if (cases.throughput) results.push(await throughput(engine, server, subscribers, options, say, fail));
  } finally {
    await subscribers.stop();
    await server.stop();
    await databases.drop(database);
  }
  return results;
}

async function fanout(engine: Engine, server: Server, subscribers: Subscribers, options: Options, say: Say, fail: Fail): Promise<FeedFanoutResult> {
  const N = options.feedStreams;
  const what = `feed-fanout (${engine})`;
  const { tokens, perStream } = await subscriberTokens(server, 'fanout', N);
  await sleep(500);
  const rssBefore = processMemoryMb(server.pid)?.rss ?? Number.NaN;
  const openS = await openStreams(subscribers, server, perStream, what, fail);
  // Idle for a while, so that what opening them allocated settles (and its garbage can be collected).
  const cpuBefore = processCpuMs(server.pid);
  const idleFrom = performance.now();
  await sleep(options.quick ? 1000 : 5000);
  const cpuAfter = processCpuMs(server.pid);
  const idleServerCorePct = cpuBefore !== null && cpuAfter !== null ? Math.round((100 * (cpuAfter - cpuBefore)) / (performance.now() - idleFrom)) : Number.NaN;
  const rssIdle = processMemoryMb(server.pid)?.rss ?? Number.NaN;
  const load = loadAverage();

  // The first change after the streams opened, then a few more (the first runs the delivery path cold).
  const changes: FanoutChange[] = [];
  const count = options.quick ? 2 : FANOUT_CHANGES;
  for (let index = 0; index < count; index += 1) {
    if (index > 0) await sleep(1000);
    const change = await graphql<{ generateToken: { token?: { key: string } } }>(server.url, CREATE_MUTATION, { name: `fanout-change-${index}` }, tokens[0]!);
    const respondedAt = nowMs();
    const key = change.generateToken.token?.key;
    const collected = await subscribers.collect(index + 1, 10_000);
    const fromEventTime: number[] = [];
    const fromResponse: number[] = [];
    for (const stream of collected.streams) {
      const [id, at] = stream.received[index] ?? [];
      if (id === undefined || at === undefined || stream.received.length !== index + 1) continue;
      const [token, action, eventTime] = collected.entries[id] ?? [];
      if (token !== key || action !== 'CREATE' || eventTime === undefined) continue;
      fromEventTime.push(at - eventTime);
      fromResponse.push(at - respondedAt);
    }
    if (fromEventTime.length !== N)
      fail(`${what}: change ${index + 1} reached ${fromEventTime.length} of ${N} streams (its CREATE entry, once, in order) within 10 s`);
    const problems = problemsOf(collected.streams);
    if (problems.length > 0) fail(`${what}: ${problems.length} stream(s) failed; first: ${problems[0]}`);
    changes.push({ received: fromEventTime.length, fromEventTime, fromResponse });
  }
  await subscribers.close();
  const [first, ...later] = changes;
  const received = first?.received ?? 0;
  const result: FeedFanoutResult = {
    case: 'feed-fanout',
    engine,
    streams: N,
    tokens: tokens.length,
    openS,
    received,
    fromEventTime: latencyOf(first?.fromEventTime ?? []),
    fromResponse: latencyOf(first?.fromResponse ?? []),
    later:
      later.length === 0
        ? null
        : {
            changes: later.length,
            received: Math.min(...later.map((change) => change.received)),
            fromEventTime: latencyOf(later.flatMap((change) => change.fromEventTime)),
            fromResponse: latencyOf(later.flatMap((change) => change.fromResponse)),
          },
    rssBeforeMb: rssBefore,
    rssIdleMb: rssIdle,
    idleServerCorePct,
    loadAverage: load,
  };
  say(
    `${what}  ${N} streams (${tokens.length} admin tokens) opened in ${openS.toFixed(1)} s; the first change reached ${received}: ` +
      `p50 ${result.fromEventTime.p50.toFixed(0)} / p99 ${result.fromEventTime.p99.toFixed(0)} / max ${result.fromEventTime.max.toFixed(0)} ms after its eventTime ` +
      `(${result.fromResponse.p50.toFixed(0)} / ${result.fromResponse.p99.toFixed(0)} ms after the mutation's response)` +
      (result.later
        ? `; the next ${result.later.changes}: p50 ${result.later.fromEventTime.p50.toFixed(0)} / p99 ${result.later.fromEventTime.p99.toFixed(0)} / max ${result.later.fromEventTime.max.toFixed(0)} ms; `
        : '; ') +
      `RSS ${rssBefore.toFixed(0)} → ${rssIdle.toFixed(0)} MB idle, server CPU idle ${idleServerCorePct}% of a core; load average ${load.join(' / ')}`,
  );
  return result;
}

interface FanoutChange {
  received: number;
  fromEventTime: number[];
  fromResponse: number[];
}

interface Written {
  key: string;
  action: 'CREATE' | 'REVOKE';
  /** When its response arrived (epoch ms): after the commit. */
  at: number;
}

/** generateToken + revokeToken pairs at `rate` changes/s for `seconds`, started on schedule whatever the previous ones do (at most 200 in flight). */
async function write(server: Server, token: string, rate: number, seconds: number): Promise<{ written: Written[]; errors: string[]; wallS: number }> {
  const written: Written[] = [];
  const errors: string[] = [];
  const pairs = Math.round((rate * seconds) / 2);
  const intervalMs = 2000 / rate;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const pair = async (index: number) => {
    try {
      const created = await graphql<{ generateToken: { token?: { key: string }; code?: string } }>(
        server.url,
        CREATE_MUTATION,
        { name: `feed-${index}` },
        token,
      );
      const key = created.generateToken.token?.key;
      if (!key) throw new Error(`generateToken: ${JSON.stringify(created.generateToken)}`);
      written.push({ key, action: 'CREATE', at: nowMs() });
      const revoked = await graphql<{ revokeToken: { count?: number; code?: string } }>(server.url, REVOKE_MUTATION, { key }, token);
      if (revoked.revokeToken.count !== 1) throw new Error(`revokeToken: ${JSON.stringify(revoked.revokeToken)}`);
      written.push({ key, action: 'REVOKE', at: nowMs() });
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  };
  for (let index = 0; index < pairs; index += 1) {
    const due = started + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= 200) await Promise.race(inFlight);
    const running: Promise<void> = pair(index).finally(() => inFlight.delete(running));
    inFlight.add(running);
  }
  await Promise.all(inFlight);
  return { written, errors, wallS: (performance.now() - started) / 1000 };
}

async function throughput(engine: Engine, server: Server, subscribers: Subscribers, options: Options, say: Say, fail: Fail): Promise<FeedThroughputResult> {
  const S = options.feedSubscribers;
  const what = `feed-throughput (${engine})`;
  const { perStream } = await subscriberTokens(server, 'throughput', S);
  const writer = await mintToken(server.url, BOOTSTRAP, { username: 'feed-writer', name: 'writer', scopes: ['user:token'] });
  await openStreams(subscribers, server, perStream, what, fail);
  // The writer's own token was minted before the streams opened: none of them sees its CREATE entry.
  await sleep(500);
  const load0 = loadAverage();
  const cpuBefore = processCpuMs(server.pid);
  const from = performance.now();
  const { written, errors, wallS } = await write(server, writer.secret, options.feedRate, options.feedSeconds);
  if (errors.length > 0) fail(`${what}: ${errors.length} writes failed; first: ${errors[0]}`);
  const collected = await subscribers.collect(written.length, 15_000);
  const cpuAfter = processCpuMs(server.pid);
  const serverCorePct = cpuBefore !== null && cpuAfter !== null ? Math.round((100 * (cpuAfter - cpuBefore)) / (performance.now() - from)) : Number.NaN;
  const load1 = loadAverage();
  await subscribers.close();

  const respondedAt = new Map(written.map((entry) => [`${entry.key} ${entry.action}`, entry.at]));
  // The ids of the writer's entries, as the streams name them.
  const expected = new Map<number, { info: EntryInfo; respondedAt: number }>();
  const strangers: number[] = [];
  for (const [id, info] of Object.entries(collected.entries)) {
    const at = respondedAt.get(`${info[0]} ${info[1]}`);
    if (at === undefined) strangers.push(Number(id));
    else expected.set(Number(id), { info, respondedAt: at });
  }
  if (strangers.length > 0)
    fail(`${what}: the streams received ${strangers.length} entries the writer did not make (ids ${strangers.slice(0, 5).join(', ')}…)`);
  if (expected.size !== written.length) fail(`${what}: ${written.length} entries were written, ${expected.size} distinct ones reached any stream`);

  let complete = 0;
  let delivered = 0;
  const fromEventTime: number[] = [];
  const fromResponse: number[] = [];
  const shortfalls: string[] = [];
  for (const [index, stream] of collected.streams.entries()) {
    const ids = new Set(stream.received.map(([id]) => id));
    delivered += stream.received.length;
    const duplicates = stream.received.length - ids.size;
    const missing = written.length - [...ids].filter((id) => expected.has(id)).length;
    if (duplicates === 0 && missing === 0 && ids.size === written.length) complete += 1;
    else if (shortfalls.length < 3) shortfalls.push(`stream ${index}: ${stream.received.length} events, ${duplicates} repeated, ${missing} missing`);
    for (const [id, at] of stream.received) {
      const entry = expected.get(id);
      if (!entry) continue;
      fromEventTime.push(at - entry.info[2]);
      fromResponse.push(at - entry.respondedAt);
    }
  }
  if (complete !== S) fail(`${what}: ${S - complete} of ${S} streams did not get every entry exactly once (${shortfalls.join('; ')})`);
  const problems = problemsOf(collected.streams);
  if (problems.length > 0) fail(`${what}: ${problems.length} stream(s) failed; first: ${problems[0]}`);
  const result: FeedThroughputResult = {
    case: 'feed-throughput',
    engine,
    subscribers: S,
    targetRate: options.feedRate,
    seconds: options.feedSeconds,
    written: written.length,
    achievedRate: written.length / wallS,
    writeErrors: errors.length,
    complete,
    delivered,
    fromEventTime: latencyOf(fromEventTime),
    fromResponse: latencyOf(fromResponse),
    serverCorePct,
    loadAverage: [Math.max(load0[0], load1[0]), Math.max(load0[1], load1[1])],
  };
  say(
    `${what}  ${written.length} entries written at ${result.achievedRate.toFixed(0)}/s (asked ${options.feedRate}/s for ${options.feedSeconds} s) to ${S} streams: ` +
      `${complete} got every one exactly once (${delivered} deliveries); p50 ${result.fromEventTime.p50.toFixed(0)} / p99 ${result.fromEventTime.p99.toFixed(0)} / max ` +
      `${result.fromEventTime.max.toFixed(0)} ms after eventTime (${result.fromResponse.p50.toFixed(0)} / ${result.fromResponse.p99.toFixed(0)} ms after the response); ` +
      `server ${serverCorePct}% of a core; load average ${load0.join(' / ')} → ${load1.join(' / ')}`,
  );
  return result;
}

const ms = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1));
const lat = (latency: FeedLatency) => `${ms(latency.p50)} / ${ms(latency.p99)} / ${ms(latency.max)}`;
const verdict = (pass: boolean): 'ok' | 'MISSED' => (pass ? 'ok' : 'MISSED');

/** The feed cases' rows of the bulk-and-latency table; targets judged only at the issue's sizes. */
export function feedRows(results: FeedResult[]): BulkRow[] {
  const rows: BulkRow[] = [];
  const add = (result: FeedResult, measure: string, value: string, target = '', pass: boolean | null = null) =>
    rows.push({ case: result.case, engine: result.engine, measure, value, target, verdict: pass === null ? '' : verdict(pass) });
  for (const r of results) {
    if (r.case === 'feed-fanout') {
      const full = r.streams >= 1000;
      add(r, `${r.streams} idle streams: the first change reached`, `${r.received} / ${r.streams}`, 'all', r.received === r.streams);
      add(r, '  after eventTime p50 / p99 / max ms', lat(r.fromEventTime), full ? 'p99 ≤ 1000' : '', full ? r.fromEventTime.p99 <= FANOUT_P99_MS : null);
      add(r, '  after the response p50 / p99 ms', `${ms(r.fromResponse.p50)} / ${ms(r.fromResponse.p99)}`);
      if (r.later) {
        const later = r.later;
        add(
          r,
          `  the ${later.changes} next change${later.changes === 1 ? '' : 's'} (1 s apart) reached`,
          `${later.received} / ${r.streams}`,
          'all',
          later.received === r.streams,
        );
        add(
          r,
          '  after eventTime p50 / p99 / max ms',
          lat(later.fromEventTime),
          full ? 'p99 ≤ 1000' : '',
          full ? later.fromEventTime.p99 <= FANOUT_P99_MS : null,
        );
      }
      add(
        r,
        '  server RSS before → with the streams idle MB',
        `${r.rssBeforeMb.toFixed(0)} → ${r.rssIdleMb.toFixed(0)}`,
        full ? '≤ 400' : '',
        full ? r.rssIdleMb <= FANOUT_RSS_MB : null,
      );
      add(r, '  load average (1 / 5 min)', r.loadAverage.join(' / '));
    } else {
      const full = r.subscribers >= 100 && r.targetRate >= 200 && r.seconds >= 10;
      add(
        r,
        `${r.subscribers} streams, ${r.targetRate} changes/s asked for ${r.seconds} s: written (rate)`,
        `${r.written} (${r.achievedRate.toFixed(0)}/s)`,
        full ? `≥ ${r.targetRate}/s` : '',
        full ? r.achievedRate >= r.targetRate * 0.95 : null,
      );
      add(r, '  streams with every entry exactly once', `${r.complete} / ${r.subscribers}`, 'all', r.complete === r.subscribers);
      add(
        r,
        '  delivery after eventTime p50 / p99 / max ms',
        lat(r.fromEventTime),
        full ? 'p99 ≤ 1000' : '',
        full ? r.fromEventTime.p99 <= THROUGHPUT_P99_MS : null,
      );
      add(r, '  delivery after the response p50 / p99 ms', `${ms(r.fromResponse.p50)} / ${ms(r.fromResponse.p99)}`);
      add(r, '  server CPU, load average (1 / 5 min)', `${r.serverCorePct}% of a core, ${r.loadAverage.join(' / ')}`);
    }
  }
  return rows;
}
