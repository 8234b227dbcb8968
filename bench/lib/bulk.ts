import type { BenchDatabase, Databases } from './databases.ts';
import { HISTORY_CURSORS_QUERY, HISTORY_PAGE_QUERY, INVALIDATE_MUTATION, CREATE_MUTATION, VERIFY_QUERY, bearer, body, graphql, mintToken } from './graphql.ts';
import { problemsOf, runLoad, startLoad, type LoadResult, type LoadSpec } from './load.ts';
import type { Engine, Options } from './options.ts';
import { PROJECT_ROOT, TESSERA_BIN } from './paths.ts';
import { processMemoryMb, runCommand } from './processes.ts';
import { DAY_MS, HISTORY_USERS_PREFIX, SeedConnection, historyCursor, historyPosition, resetExpiries, seedDeepHistory, seedUserTokens } from './seed.ts';
import { BOOTSTRAP, startTessera, tesseraEnvironment } from './servers.ts';
import { max, nowMs, percentile, sleep } from './stats.ts';

/**
 * Part B: work on many rows, each against a real server process (or the
 * CLI), on a database seeded with set-based SQL.
 */

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

const latencyOf = (values: readonly number[]): Latency => ({ n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: max(values) });

export interface DepthResult {
  case: 'depth';
  engine: Engine;
  entries: number;
  seedS: number;
  first: Latency;
  deep: Latency;
  deepOffset: number;
  filteredUser: string;
  filteredEntries: number;
  filteredFirst: Latency;
  filteredDeep: Latency;
  filteredDeepOffset: number;
}

export interface InvalidateResult {
  case: 'invalidate';
  engine: Engine;
  tokens: number;
  seedS: number;
  wallS: number;
  count: number;
  rssBeforeMb: number;
  peakRssMb: number;
  /** VmHWM at the end: the process's peak since it started. */
  hwmMb: number;
  /** Latencies of requests that overlapped the invalidation, one connection each. */
  generateDuring: Latency;
  viewerDuring: Latency;
  generateIdle: Latency;
  viewerIdle: Latency;
}

export interface SweepResult {
  case: 'sweep';
  engine: Engine;
  tokens: number;
  seedS: number;
  /** `tessera maintenance` with the tokens due, and again with nothing to do (its start-up and empty passes). */
  cliS: number;
  /** Not measured in quick mode. */
  cliIdleS: number | null;
  /** tokens.runMaintenance() timed inside one process (createTessera from src/app.ts). */
  inProcessS: number;
}

export type BulkResult = DepthResult | InvalidateResult | SweepResult;

type Say = (line: string) => void;
type Fail = (what: string) => void;

const secondsSince = (start: number): number => (performance.now() - start) / 1000;
const fmt = (latency: Latency) => `p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms (n=${latency.n})`;

/** One connection, `amount` requests after a short warm-up; latency from each response's own time. */
async function latencyOver(spec: Omit<LoadSpec, 'connections' | 'amount' | 'samples'>, amount: number, serverPid: number, fail: Fail): Promise<Latency> {
  await runLoad([{ ...spec, label: `${spec.label} warm-up`, connections: 1, amount: Math.min(20, amount) }], serverPid);
  const { results } = await runLoad([{ ...spec, connections: 1, amount, samples: true }], serverPid);
  const result = results[0]!;
  const problems = problemsOf(result);
  if (problems.length > 0) fail(`${spec.label}: ${problems.join('; ')}`);
  return latencyOf((result.samples ?? []).map(([, latency]) => latency));
}

/**
 * 7. tokenHistory(first: 100) at the top of a long history and 90 % of the
 * way down (after a cursor computed from the database, checked against the
 * server's own), with and without a username filter.
 */
export async function runDepth(
  engine: Engine,
  database: BenchDatabase,
  adminSecret: string,
  options: Options,
  workDir: string,
  say: Say,
  fail: Fail,
): Promise<DepthResult> {
  const filteredUser = `${HISTORY_USERS_PREFIX}0`;
  const seed = await SeedConnection.open(database);
  let seedS: number;
  let positions: { total: number; filtered: number; deepAfter: string; deepFirst: string; filteredAfter: string; filteredFirst: string };
  const filteredDeepOffset = Math.round(Math.ceil(options.historyDepth / 2) * 0.9);
  try {
    const started = performance.now();
    const now = Date.now();
    await seedDeepHistory(seed, options.historyDepth, filteredUser, new Date(now - 180 * DAY_MS), new Date(now - 3_600_000));
    await seed.settle();
    seedS = secondsSince(started);
    const total = await seed.count('SELECT count(*) AS n FROM token_change_history');
    const filtered = await seed.count('SELECT count(*) AS n FROM token_change_history WHERE username = ?', [filteredUser]);
    positions = {
      total,
      filtered,
      deepAfter: historyCursor(await historyPosition(seed, options.deepOffset - 1, null)),
      deepFirst: historyCursor(await historyPosition(seed, options.deepOffset, null)),
      filteredAfter: historyCursor(await historyPosition(seed, filteredDeepOffset - 1, filteredUser)),
      filteredFirst: historyCursor(await historyPosition(seed, filteredDeepOffset, filteredUser)),
    };
  } finally {
    await seed.close();
  }
  say(
    `# depth (${engine}): ${options.historyDepth.toLocaleString('en')} EDIT entries seeded in ${seedS.toFixed(1)} s; ${positions.total.toLocaleString('en')} in all, ${positions.filtered.toLocaleString('en')} of ${filteredUser}`,
  );

  const server = await startTessera(`tessera-${engine}-depth`, database.url, workDir);
  try {
    const headers = bearer(adminSecret);
    // The server agrees on where the deep pages start.
    for (const [after, expected, filter, what] of [
      [positions.deepAfter, positions.deepFirst, null, `offset ${options.deepOffset}`],
      [positions.filteredAfter, positions.filteredFirst, { username: filteredUser }, `offset ${filteredDeepOffset} of ${filteredUser}`],
    ] as const) {
      const page = await graphql<{ tokenHistory: { edges: { cursor: string }[] } }>(server.url, HISTORY_CURSORS_QUERY, { after, filter }, adminSecret);
      if (page.tokenHistory.edges.length !== 100 || page.tokenHistory.edges[0]!.cursor !== expected) {
        fail(
          `depth (${engine}): the page after the cursor of ${what} does not start where the database says (${page.tokenHistory.edges[0]?.cursor} ≠ ${expected})`,
        );
      }
    }
    const spec = (label: string, variables: Record<string, unknown>) => ({
      label: `depth ${label} (${engine})`,
      url: server.url,
      headers,
      body: body(HISTORY_PAGE_QUERY, variables),
      expect: ['"tokenRecord":{"key"'],
      reject: ['"errors"'],
    });
    const n = options.depthRequests;
    const first = await latencyOver(spec('first', {}), n, server.pid, fail);
    const deep = await latencyOver(spec('deep', { after: positions.deepAfter }), n, server.pid, fail);
    const filteredFirst = await latencyOver(spec('filtered first', { filter: { username: filteredUser } }), n, server.pid, fail);
    const filteredDeep = await latencyOver(spec('filtered deep', { after: positions.filteredAfter, filter: { username: filteredUser } }), n, server.pid, fail);
    say(
      `depth (${engine})  first page ${fmt(first)}; page at ${options.deepOffset.toLocaleString('en')} ${fmt(deep)}; deep/first ${(deep.p50 / first.p50).toFixed(2)}`,
    );
    say(
      `depth (${engine})  ${filteredUser}: first page ${fmt(filteredFirst)}; page at ${filteredDeepOffset.toLocaleString('en')} ${fmt(filteredDeep)}; deep/first ${(filteredDeep.p50 / filteredFirst.p50).toFixed(2)}`,
    );
    return {
      case: 'depth',
      engine,
      entries: positions.total,
      seedS,
      first,
      deep,
      deepOffset: options.deepOffset,
      filteredUser,
      filteredEntries: positions.filtered,
      filteredFirst,
      filteredDeep,
      filteredDeepOffset,
    };
  } finally {
    await server.stop();
  }
}

const during = (result: LoadResult, from: number, to: number): number[] =>
  (result.samples ?? []).filter(([end, latency]) => end >= from && end - latency <= to).map(([, latency]) => latency);
const before = (result: LoadResult, until: number): number[] => (result.samples ?? []).filter(([end]) => end < until).map(([, latency]) => latency);

/**
 * 8. invalidateTokens of one user's N tokens over HTTP, while one connection
 * keeps minting tokens and another keeps asking `{ viewer { username } }`:
 * its wall time, the server's peak RSS, and how long the others waited.
 */
export async function runInvalidate(engine: Engine, databases: Databases, options: Options, workDir: string, say: Say, fail: Fail): Promise<InvalidateResult> {
  const N = options.invalidateTokens;
  const database = await databases.create(engine, 'bulk');
  const seed = await SeedConnection.open(database);
  let seedS: number;
  try {
    const started = performance.now();
    await seedUserTokens(seed, {
      username: 'bulk',
      count: N,
      namePrefix: 'bulk-',
      createdAt: new Date(Date.now() - DAY_MS),
      expiresAt: null,
      scopes: ['user:token'],
    });
    await seed.settle();
    seedS = secondsSince(started);
  } finally {
    await seed.close();
  }
  const server = await startTessera(`tessera-${engine}-bulk`, database.url, workDir);
  try {
    const admin = await mintToken(server.url, BOOTSTRAP, { username: 'admin', name: 'bench-admin', scopes: ['admin:token', 'user:token'] });
    const probe = await mintToken(server.url, BOOTSTRAP, { username: 'probe', name: 'probe', scopes: ['user:token'] });
    const probes: LoadSpec[] = [
      {
        label: `generateToken during invalidate (${engine})`,
        url: server.url,
        headers: bearer(probe.secret),
        body: body(CREATE_MUTATION, { name: '__UNIQUE__' }),
        unique: '__UNIQUE__',
        expect: ['"secret":"tsr_'],
        connections: 1,
        samples: true,
        timeoutS: 120,
      },
      {
        label: `viewer during invalidate (${engine})`,
        url: server.url,
        headers: bearer(probe.secret),
        body: body(VERIFY_QUERY),
        expect: ['"username":"probe"'],
        connections: 1,
        samples: true,
        timeoutS: 120,
      },
    ];
    await runLoad(
      probes.map((spec) => ({ ...spec, label: `${spec.label} warm-up`, amount: 200, samples: false })),
      server.pid,
    );
    const load = startLoad(probes, server.pid);
    await load.started;
    await sleep(1000);
    const memoryBefore = processMemoryMb(server.pid);
    let peakRss = memoryBefore?.rss ?? Number.NaN;
    const poll = setInterval(() => {
      const memory = processMemoryMb(server.pid);
      if (memory) peakRss = Math.max(peakRss, memory.rss);
    }, 20);
    const from = nowMs();
    let count = Number.NaN;
    try {
      const data = await graphql<{ invalidateTokens: { __typename: string; count?: number; code?: string; message?: string } }>(
        server.url,
        INVALIDATE_MUTATION,
        { usernames: ['bulk'] },
        admin.secret,
      );
      count = data.invalidateTokens.count ?? Number.NaN;
      if (count !== N) fail(`invalidate (${engine}): expected ${N} tokens invalidated, got ${JSON.stringify(data.invalidateTokens)}`);
    } finally {
      clearInterval(poll);
    }
    const to = nowMs();
    const hwm = processMemoryMb(server.pid)?.peak ?? Number.NaN;
    await sleep(200);
    const [generate, viewer] = await load.stop();
    for (const result of [generate!, viewer!]) {
      const problems = problemsOf(result);
      if (problems.length > 0) fail(`${result.label}: ${problems.join('; ')}`);
    }
    const check = await SeedConnection.open(database);
    try {
      const stillValid = await check.count(`SELECT count(*) AS n FROM tokens WHERE username = 'bulk' AND valid`);
      const entries = await check.count(`SELECT count(*) AS n FROM token_change_history WHERE username = 'bulk' AND action = 'revoke'`);
      if (stillValid !== 0 || entries !== N)
        fail(`invalidate (${engine}): afterwards ${stillValid} tokens of bulk are still valid and ${entries} REVOKE entries exist (expected 0 and ${N})`);
    } finally {
      await check.close();
    }
    const result: InvalidateResult = {
      case: 'invalidate',
      engine,
      tokens: N,
      seedS,
      wallS: (to - from) / 1000,
      count,
      rssBeforeMb: memoryBefore?.rss ?? Number.NaN,
      peakRssMb: peakRss,
      hwmMb: hwm,
      generateDuring: latencyOf(during(generate!, from, to)),
      viewerDuring: latencyOf(during(viewer!, from, to)),
      generateIdle: latencyOf(before(generate!, from)),
      viewerIdle: latencyOf(before(viewer!, from)),
    };
    say(
      `invalidate (${engine})  ${N.toLocaleString('en')} tokens in ${result.wallS.toFixed(2)} s (seeded in ${seedS.toFixed(1)} s); RSS ${result.rssBeforeMb.toFixed(0)} → peak ${peakRss.toFixed(0)} MB (VmHWM ${hwm.toFixed(0)} MB)`,
    );
    say(
      `invalidate (${engine})  meanwhile generateToken ${fmt(result.generateDuring)}, max ${result.generateDuring.max.toFixed(0)} ms; viewer ${fmt(result.viewerDuring)}, max ${result.viewerDuring.max.toFixed(0)} ms`,
    );
    return result;
  } finally {
    await server.stop();
    await databases.drop(database);
  }
}

async function timedMaintenance(database: BenchDatabase, expected: number, fail: Fail, what: string): Promise<number> {
  const run = await runCommand(process.execPath, [TESSERA_BIN, 'maintenance'], {
    cwd: PROJECT_ROOT,
    env: tesseraEnvironment(database.url),
    timeoutMs: 600_000,
  });
  const recorded = Number(/Recorded the expiry of (\d+) token/.exec(run.stdout)?.[1] ?? Number.NaN);
  if (run.code !== 0 || recorded !== expected)
    fail(`${what}: tessera maintenance exited ${run.code}, recorded ${recorded} (expected ${expected}): ${(run.stdout + run.stderr).trim().slice(0, 300)}`);
  return run.wallMs / 1000;
}

/**
 * 9. The expiry sweep of N expired tokens: `node bin/tessera.js maintenance`
 * (and again with nothing left to do, to see its start-up), then, on the
 * same tokens put back, tokens.runMaintenance() timed in-process.
 */
export async function runSweeps(engine: Engine, databases: Databases, options: Options, say: Say, fail: Fail): Promise<SweepResult[]> {
  const database = await databases.create(engine, 'sweep');
  const results: SweepResult[] = [];
  try {
    for (const N of options.sweepSizes) {
      const username = `sweep${N}`;
      const what = `sweep ${N} (${engine})`;
      const seed = await SeedConnection.open(database);
      let seedS: number;
      try {
        const started = performance.now();
        await seedUserTokens(seed, {
          username,
          count: N,
          namePrefix: 'old-',
          createdAt: new Date(Date.now() - 2 * DAY_MS),
          expiresAt: new Date(Date.now() - DAY_MS),
          scopes: ['user:token'],
        });
        await seed.settle();
        seedS = secondsSince(started);
      } finally {
        await seed.close();
      }
      const cliS = await timedMaintenance(database, N, fail, what);
      const cliIdleS = options.quick ? null : await timedMaintenance(database, 0, fail, `${what}, nothing left to do`);
      const reset = await SeedConnection.open(database);
      try {
        await resetExpiries(reset, username);
      } finally {
        await reset.close();
      }
      const inProcessS = await inProcessMaintenance(database, N, fail, what);
      results.push({ case: 'sweep', engine, tokens: N, seedS, cliS, cliIdleS, inProcessS });
      say(
        `sweep (${engine})  ${N.toLocaleString('en')} expired: tessera maintenance ${cliS.toFixed(2)} s` +
          (cliIdleS === null ? '' : `, with nothing to do ${cliIdleS.toFixed(2)} s (so ≈ ${(cliS - cliIdleS).toFixed(2)} s of sweeping)`) +
          `; runMaintenance() in-process ${inProcessS.toFixed(2)} s`,
      );
    }
  } finally {
    await databases.drop(database);
  }
  return results;
}

async function inProcessMaintenance(database: BenchDatabase, expected: number, fail: Fail, what: string): Promise<number> {
  // Loaded only here: the rest of the benchmark talks to Tessera from outside.
  const { createTessera } = await import('../../src/app.ts');
  const { loadConfig } = await import('../../src/config.ts');
  const tessera = await createTessera({
    config: loadConfig({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'silent', TESSERA_SWEEP_INTERVAL_SECONDS: '0' }),
  });
  try {
    const started = performance.now();
    const report = await tessera.tokens.runMaintenance();
    const seconds = secondsSince(started);
    if (report.expired !== expected) fail(`${what}: runMaintenance() recorded ${report.expired} expiries (expected ${expected})`);
    return seconds;
  } finally {
    await tessera.close();
  }
}
