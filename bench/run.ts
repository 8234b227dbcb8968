/**
 * Tessera's benchmark: `npm run bench` (full, ~20 min) or `npm run bench -- --quick` (CI's smoke run).
 *
 * A. Throughput of verify, introspect (GraphQL's introspectToken, and POST
 *    /oauth/introspect as oauth-introspect), create and history on SQLite and
 *    PostgreSQL, and of better-auth's api-key plugin (the peer), as ratios to
 *    a bare graphql-yoga server measured in the same run, the way
 *    ../shared/peers/side-by-side.sh measures them (autocannon in its own
 *    process, servers as their own processes, every response body checked).
 * B. Work on many rows: a page deep in a 1,000,000-entry history,
 *    invalidateTokens of 100,000 tokens while other requests keep coming, and
 *    the expiry sweep of 100,000 and 10,000 tokens.
 * C. The live change feed: 1,000 idle streams and one change (feed-fanout),
 *    and 100 streams while 200 changes/s are written (feed-throughput).
 *
 * Prints the tables, saves them as JSON under bench/results/, and exits 1 if
 * any response failed its check (a target missed is reported, not failed).
 * Knobs: see bench/lib/options.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDepth, runInvalidate, runSweeps, type BulkResult } from './lib/bulk.ts';
import { Databases, findPostgres, type PostgresServer } from './lib/databases.ts';
import { feedRows, runFeed, type FeedResult } from './lib/feed.ts';
import { readOptions, type CaseId, type Engine } from './lib/options.ts';
import { closeLoadWorker } from './lib/load.ts';
import { stopAll } from './lib/processes.ts';
import { bulkRows, bulkTable, environment, saveJson, summarize, throughputTable } from './lib/report.ts';
import { driftFromShared, ensurePeerInstalled, startPeer, startYogaBaseline, type Server } from './lib/servers.ts';
import { baselineCase, peerCases, runThroughput, setupEngine, type EngineSetup, type ThroughputCase, type ThroughputMeasurement } from './lib/throughput.ts';

const options = readOptions(process.argv.slice(2));
const startedAt = performance.now();
const say = (line: string) => process.stdout.write(`${line}\n`);
const failures: string[] = [];
const fail = (what: string) => {
  failures.push(what);
  say(`FAIL ${what}`);
};
const message = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

const workDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
let databases: Databases | null = null;
let cleanedUp = false;
async function cleanUp(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  closeLoadWorker();
  await stopAll();
  await databases?.dropAll();
  rmSync(workDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`# ${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const env = environment(options);
const wants = (id: CaseId) => options.only.has(id);
say(
  `# Tessera bench ${options.quick ? '(quick) ' : ''}${env.date}  ${env.cores} cores (${env.cpu})  node ${env.node}  commit ${env.commit?.slice(0, 12) ?? '?'}${env.dirty ? ' + uncommitted changes' : ''}`,
);
say(
  `# throughput: ${options.rounds} round(s), ${options.durationS} s per case and connection count (${options.connections.join(', ')}), ${options.warmupS} s warm-up at c=16; ` +
    `bulk: ${options.historyDepth.toLocaleString('en')} history entries, ${options.invalidateTokens.toLocaleString('en')} tokens to invalidate, sweeps of ${options.sweepSizes.map((n) => n.toLocaleString('en')).join(' and ')}`,
);
for (const file of driftFromShared())
  say(`# WARNING: ${file} differs from its original in ../shared/peers: the comparison with side-by-side.sh no longer holds`);

let postgres: PostgresServer | null = null;
const engines: Engine[] = [];
const throughput: ThroughputMeasurement[] = [];
const bulk: BulkResult[] = [];
const feed: FeedResult[] = [];
const setups: EngineSetup[] = [];

try {
  for (const engine of options.engines) {
    if (engine === 'sqlite') {
      engines.push(engine);
      continue;
    }
    const found = await findPostgres(options.postgresUrl);
    postgres = found.server;
    if (postgres) {
      engines.push(engine);
      say(
        `# PostgreSQL ${postgres.version} from ${postgres.source}: the bench creates its own databases there (bench_${process.pid}_*) and drops them at the end`,
      );
    } else {
      say(`# PostgreSQL SKIPPED: none available (${found.reason}); set BENCH_DATABASE_URL to a server the bench may create databases on`);
    }
  }
  databases = new Databases(workDir, postgres);
  // Each engine's template database is migrated once, meanwhile.
  for (const engine of engines) databases.template(engine).catch(() => {});

  // ---- A: throughput ----
  const throughputIds: CaseId[] = ['verify', 'introspect', 'create', 'history'];
  const runPeer = options.peer && wants('peer');
  if (throughputIds.some(wants) || wants('depth') || runPeer) {
    const servers: Server[] = [];
    const cases: ThroughputCase[] = [];
    try {
      const yoga = await startYogaBaseline(workDir);
      servers.push(yoga);
      cases.push(baselineCase(yoga));
      // Both engines' servers start together (start-up is not measured).
      await Promise.all(
        engines.map(async (engine) => {
          try {
            const setup = await setupEngine(engine, options.only, databases!, workDir, say);
            setups.push(setup);
            servers.push(...setup.servers);
          } catch (error) {
            fail(`setting up ${engine}: ${message(error)}`);
          }
        }),
      );
      setups.sort((a, b) => engines.indexOf(a.engine) - engines.indexOf(b.engine));
      for (const setup of setups) cases.push(...setup.cases);
      if (runPeer) {
        try {
          await ensurePeerInstalled(say);
          const peer = await startPeer(workDir);
          servers.push(peer);
          cases.push(...peerCases(peer));
          say(`# peer: better-auth pid ${peer.pid} (bench/peer/server.ts, SQLITE_JOURNAL_MODE=WAL: ${peer.journalMode})`);
        } catch (error) {
          fail(`the better-auth peer: ${message(error)}`);
        }
      } else if (!options.quick) {
        say('# peer: not measured (BENCH_PEER=0)');
      }
      if (cases.length > 1) throughput.push(...(await runThroughput(cases, options, say)));
      for (const m of throughput) for (const problem of m.problems) failures.push(`${m.id} (${m.engine}) c=${m.connections} round ${m.round}: ${problem}`);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      for (const setup of setups) if (setup.hot) await databases.drop(setup.hot);
    }
  }

  // ---- B: bulk and latency ----
  for (const engine of engines) {
    const history = setups.find((setup) => setup.engine === engine)?.history;
    if (wants('depth') && history) {
      try {
        bulk.push(await runDepth(engine, history.database, history.adminSecret, options, workDir, say, fail));
      } catch (error) {
        fail(`depth (${engine}): ${message(error)}`);
      }
    }
    if (history) await databases.drop(history.database);
    if (wants('invalidate')) {
      try {
        bulk.push(await runInvalidate(engine, databases, options, workDir, say, fail));
      } catch (error) {
        fail(`invalidate (${engine}): ${message(error)}`);
      }
    }
    if (wants('sweep')) {
      try {
        bulk.push(...(await runSweeps(engine, databases, options, say, fail)));
      } catch (error) {
        fail(`sweep (${engine}): ${message(error)}`);
      }
    }
    // ---- C: the live change feed ----
    if (wants('feed-fanout') || wants('feed-throughput')) {
      try {
        feed.push(...(await runFeed(engine, { fanout: wants('feed-fanout'), throughput: wants('feed-throughput') }, databases, options, workDir, say, fail)));
      } catch (error) {
        fail(`feed (${engine}): ${message(error)}`);
      }
    }
  }
} catch (error) {
  fail(message(error));
} finally {
  await cleanUp();
}

// ---- report ----
const rows = summarize(throughput);
const bulkSummary = bulkRows(bulk);
const feedSummary = feedRows(feed);
const durationS = (performance.now() - startedAt) / 1000;
say('');
if (rows.length > 0) {
  say(
    `Throughput: median req/s over ${options.rounds} round(s) [min–max], p50/p99 latency (medians), ratios of medians at the same c (÷ yoga: the bare graphql-yoga baseline; ÷ peer: better-auth's api-key plugin)`,
  );
  say(throughputTable(rows));
  say('');
}
if (bulkSummary.length > 0) {
  say('Bulk and latency (against a server process; the sweep also through the CLI):');
  say(bulkTable(bulkSummary));
  say('');
}
if (feedSummary.length > 0) {
  say("Live change feed (streams read in a process of their own; delivery measured from the entry's eventTime, set before its commit, so an upper bound):");
  say(bulkTable(feedSummary));
  say('');
}
const missed = [
  ...rows.filter((row) => row.verdict === 'MISSED').map((row) => `${row.id} (${row.engine}) c=${row.connections}`),
  ...[...bulkSummary, ...feedSummary].filter((row) => row.verdict === 'MISSED').map((row) => `${row.case} (${row.engine}) ${row.measure.trim()}`),
];
if (missed.length > 0) say(`# targets missed: ${missed.join('; ')}`);
const path = saveJson(
  {
    ...env,
    options: { ...options, only: [...options.only], postgresUrl: options.postgresUrl ? '(set)' : null },
    postgres: postgres && { source: postgres.source, version: postgres.version },
    durationS,
    throughput: { summary: rows, measurements: throughput },
    bulk: { summary: bulkSummary, results: bulk },
    feed: { summary: feedSummary, results: feed },
    failures,
    missed,
  },
  options.quick,
);
say(`# ${failures.length === 0 ? 'every response passed its check' : `${failures.length} FAILURE(S):\n#   ${failures.join('\n#   ')}`}`);
say(`# done in ${durationS.toFixed(0)} s; saved to ${path}`);
process.exit(failures.length === 0 ? 0 : 1);
