import type { BenchDatabase, Databases } from './databases.ts';
import { CREATE_MUTATION, HISTORY_QUERY, INTROSPECT_QUERY, VERIFY_QUERY, bearer, body, mintToken } from './graphql.ts';
import { problemsOf, runLoad, type CpuShare, type LoadSpec } from './load.ts';
import type { CaseId, Engine, Options } from './options.ts';
import { waitQuiet } from './processes.ts';
import { HISTORY_USERS_PREFIX, SeedConnection, seedHistoryTokens, DAY_MS } from './seed.ts';
import { BOOTSTRAP, startTessera, type PeerServer, type Server } from './servers.ts';

/**
 * Part A: req/s of each case at 16 connections (and 1), autocannon in its
 * own process, the cases interleaved over rounds (the order reversed every
 * other round, as side-by-side.sh does), each case warmed up at c=16 right
 * before it is measured.
 */

export type ThroughputCaseId = 'baseline' | 'verify' | 'introspect' | 'oauth-introspect' | 'create' | 'history' | 'peer-verify' | 'peer-create';

export interface ThroughputCase {
  id: ThroughputCaseId;
  /** The database engine (the peer's is SQLite; the baseline has none). */
  engine: Engine | 'none';
  server: Server;
  /** The request; connections and duration are the round's. */
  request: Omit<LoadSpec, 'label' | 'connections' | 'duration' | 'amount'>;
}

export interface ThroughputMeasurement {
  id: ThroughputCaseId;
  engine: Engine | 'none';
  round: number;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  total: number;
  cpu: CpuShare;
  problems: string[];
}

/** The Tessera servers and databases of one engine's cases. */
export interface EngineSetup {
  engine: Engine;
  servers: Server[];
  /** The fresh database of verify, introspect and create (null when none of them runs). */
  hot: BenchDatabase | null;
  /** The seeded history, which the deep-history case takes on (null when neither runs). */
  history: { database: BenchDatabase; adminSecret: string; tokens: number } | null;
  cases: ThroughputCase[];
}

const UNIQUE = '__UNIQUE__';
const NO_ERRORS = ['"errors"'];

/**
 * Up to two servers per engine: one on a fresh database for verify,
 * introspect and create (the callers' tokens minted through the API by the
 * bootstrap secret, as side-by-side.sh does), one on a database seeded with
 * a few thousand tokens and their history for the history case.
 */
export async function setupEngine(
  engine: Engine,
  wanted: Set<CaseId>,
  databases: Databases,
  workDir: string,
  say: (line: string) => void,
): Promise<EngineSetup> {
  const setup: EngineSetup = { engine, servers: [], hot: null, history: null, cases: [] };
  await Promise.all([setupHot(setup, wanted, databases, workDir, say), setupHistory(setup, wanted, databases, workDir, say)]);
  return setup;
}

async function setupHot(setup: EngineSetup, wanted: Set<CaseId>, databases: Databases, workDir: string, say: (line: string) => void): Promise<void> {
  const { engine } = setup;
  if (wanted.has('verify') || wanted.has('introspect') || wanted.has('create')) {
    const database = await databases.create(engine, 'hot');
    const server = await startTessera(`tessera-${engine}-hot`, database.url, workDir);
    setup.hot = database;
    setup.servers.push(server);
    say(`# ${engine}: Tessera pid ${server.pid} for verify, introspect and create (fresh database)`);
    // The callers, database-held tokens all: the bootstrap secret is never used under load.
    const user = await mintToken(server.url, BOOTSTRAP, { username: 'bench', name: 'sbs-caller', scopes: ['user:token'] });
    const introspector = await mintToken(server.url, BOOTSTRAP, { username: 'resource-server', name: 'introspector', scopes: ['token:introspect'] });
    const subject = await mintToken(server.url, BOOTSTRAP, { username: 'subject', name: 'introspected', scopes: ['user:token'] });
    const cases: ThroughputCase[] = [
      {
        id: 'verify',
        engine,
        server,
        request: { url: server.url, headers: bearer(user.secret), body: body(VERIFY_QUERY), expect: ['"username":"bench"'], reject: NO_ERRORS },
      },
      {
        id: 'introspect',
        engine,
        server,
        request: {
          url: server.url,
          headers: bearer(introspector.secret),
          body: body(INTROSPECT_QUERY, { t: subject.secret }),
          expect: ['"active":true'],
          reject: NO_ERRORS,
        },
      },
      {
        // The same question as a resource server asks it, RFC 7662's form POST, served beside yoga (src/http/oauth.ts).
        id: 'oauth-introspect',
        engine,
        server,
        request: {
          url: new URL('/oauth/introspect', server.url).href,
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${introspector.secret}` },
          body: new URLSearchParams({ token: subject.secret }).toString(),
          expect: ['"active":true'],
        },
      },
      {
        id: 'create',
        engine,
        server,
        request: {
          url: server.url,
          headers: bearer(user.secret),
          body: body(CREATE_MUTATION, { name: UNIQUE }),
          unique: UNIQUE,
          expect: ['"secret":"tsr_'],
          reject: NO_ERRORS,
        },
      },
    ];
    // Both introspection cases run under the one id `introspect`.
    setup.cases.unshift(...cases.filter((testCase) => wanted.has((testCase.id === 'oauth-introspect' ? 'introspect' : testCase.id) as CaseId)));
  }
}

async function setupHistory(setup: EngineSetup, wanted: Set<CaseId>, databases: Databases, workDir: string, say: (line: string) => void): Promise<void> {
  const { engine } = setup;
  if (wanted.has('history') || wanted.has('depth')) {
    const database = await databases.create(engine, 'history');
    const seed = await SeedConnection.open(database);
    const now = Date.now();
    let tokens: number;
    try {
      ({ tokens } = await seedHistoryTokens(seed, { users: 10, tokensPerUser: 300, from: new Date(now - 200 * DAY_MS), to: new Date(now - 190 * DAY_MS) }));
      await seed.settle();
    } finally {
      await seed.close();
    }
    const server = await startTessera(`tessera-${engine}-history`, database.url, workDir);
    setup.servers.push(server);
    say(
      `# ${engine}: Tessera pid ${server.pid} for history (${tokens} tokens of ${HISTORY_USERS_PREFIX}0…9, a NOTEBOOK child under every third, a CREATE entry each)`,
    );
    const admin = await mintToken(server.url, BOOTSTRAP, { username: 'admin', name: 'bench-admin', scopes: ['admin:token', 'user:token'] });
    setup.history = { database, adminSecret: admin.secret, tokens };
    if (wanted.has('history')) {
      setup.cases.push({
        id: 'history',
        engine,
        server,
        request: {
          url: server.url,
          headers: bearer(admin.secret),
          body: body(HISTORY_QUERY),
          // Every page holds entries of NOTEBOOK tokens: both links are resolved.
          expect: ['"tokenRecord":{"key"', '"parentRecord":{"key"'],
          reject: NO_ERRORS,
        },
      });
    }
  }
}

export function baselineCase(server: Server): ThroughputCase {
  return {
    id: 'baseline',
    engine: 'none',
    server,
    request: { url: server.url, headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}', expect: ['"__typename":"Query"'] },
  };
}

/** better-auth's create and verify, exactly as side-by-side.sh's group_ba sends them. */
export function peerCases(peer: PeerServer): ThroughputCase[] {
  return [
    {
      id: 'peer-verify',
      engine: 'sqlite',
      server: peer,
      request: { url: peer.verifyUrl, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: peer.key }), expect: ['"valid":true'] },
    },
    {
      id: 'peer-create',
      engine: 'sqlite',
      server: peer,
      request: {
        url: peer.createUrl,
        headers: { 'content-type': 'application/json', cookie: peer.cookie, origin: peer.origin },
        body: '{"name":"bench"}',
        expect: ['"key":"'],
      },
    },
  ];
}

const caseLabel = (c: { id: ThroughputCaseId; engine: Engine | 'none' }): string => (c.engine === 'none' ? c.id : `${c.id} (${c.engine})`);

/** Every round: each case warmed up, then measured at each connection count; the order reversed every other round. */
export async function runThroughput(cases: ThroughputCase[], options: Options, say: (line: string) => void): Promise<ThroughputMeasurement[]> {
  const measurements: ThroughputMeasurement[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const order = round % 2 === 1 ? cases : [...cases].reverse();
    const quiet = await waitQuiet(15, options.quick ? 3_000 : 60_000);
    say(`# round ${round}/${options.rounds}: ${order.map(caseLabel).join(', ')}  (machine ${quiet.busyPct.toFixed(0)}% busy before it)`);
    for (const testCase of order) {
      const label = caseLabel(testCase);
      const warm = await runLoad([{ ...testCase.request, label: `${label} warm-up`, connections: 16, duration: options.warmupS }], testCase.server.pid);
      const warmProblems = problemsOf(warm.results[0]!);
      for (const connections of options.connections) {
        const { results, cpu } = await runLoad([{ ...testCase.request, label, connections, duration: options.durationS }], testCase.server.pid);
        const result = results[0]!;
        const problems = [...problemsOf(result), ...warmProblems.map((problem) => `warm-up: ${problem}`)];
        measurements.push({
          id: testCase.id,
          engine: testCase.engine,
          round,
          connections,
          rps: result.rps,
          p50: result.p50,
          p99: result.p99,
          total: result.total,
          cpu,
          problems,
        });
        say(
          `${label.padEnd(24)} c=${String(connections).padEnd(3)} ${String(result.rps).padStart(7)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms` +
            `   # server ${cpu.serverCorePct ?? '?'}% core, load ${cpu.loadgenCorePct}% core, other ${cpu.otherPct}%` +
            (problems.length > 0 ? `  FAIL: ${problems.join('; ')}` : ''),
        );
      }
    }
  }
  return measurements;
}
