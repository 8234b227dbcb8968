/**
 * `npm run bench:workers`: verification (`{ viewer }` with a database token)
 * on PostgreSQL, served by one `tessera serve` process and by
 * `tessera serve --workers 2`, on one database, with autocannon in a process
 * of its own (bench/lib/load.ts), rounds interleaved (the order reversed
 * every other round), every response body checked. Prints req/s and the
 * ratio of the medians, with the CPU each side used: on a small machine the
 * load generator and PostgreSQL share the cores with the workers, and the
 * CPU columns say what bounded the result.
 *
 * Knobs (as npm run bench): BENCH_ROUNDS (3), BENCH_DURATION (10 s),
 * BENCH_WARMUP (2 s), BENCH_CONNECTIONS (default "16 64" here),
 * BENCH_DATABASE_URL; --quick for a short smoke run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Databases, findPostgres } from './lib/databases.ts';
import { VERIFY_QUERY, bearer, body, mintToken } from './lib/graphql.ts';
import { closeLoadWorker, problemsOf, runLoad } from './lib/load.ts';
import { readOptions } from './lib/options.ts';
import { machineCpuMs, processCpuMs, stopAll, waitQuiet } from './lib/processes.ts';
import { BOOTSTRAP, startTessera, type Server } from './lib/servers.ts';
import { median } from './lib/stats.ts';

const options = readOptions(process.argv.slice(2));
const connections = process.env.BENCH_CONNECTIONS ? options.connections : options.quick ? [16] : [16, 64];
const say = (line: string) => process.stdout.write(`${line}\n`);

/** A process and its descendants (the cluster's workers), from /proc. */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone, or no such file on this kernel: the process alone
  }
  return [pid, ...children.flatMap(processTree)];
}

const treeCpuMs = (pids: number[]): number => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);

interface Measurement {
  side: string;
  round: number;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  /** Cores the server's processes kept busy, and the whole machine's busy cores. */
  serverCores: number;
  machineCores: number;
}

const workDir = mkdtempSync(join(tmpdir(), 'tessera-bench-workers-'));
let databases: Databases | null = null;
const measurements: Measurement[] = [];
const problems: string[] = [];

try {
  const found = await findPostgres(options.postgresUrl);
  if (!found.server) throw new Error(`no PostgreSQL (${found.reason}); set BENCH_DATABASE_URL`);
  say(`# PostgreSQL ${found.server.version} from ${found.server.source}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
  databases = new Databases(workDir, found.server);
  const database = await databases.create('postgresql', 'workers');
  // Both on one database, started together and left running: the idle one costs nothing while the other is measured.
  const [single, workers] = await Promise.all([
    startTessera('tessera-one-process', database.url, workDir),
    startTessera('tessera-workers-2', database.url, workDir, {}, ['--workers', '2']),
  ]);
  const caller = await mintToken(single.url, BOOTSTRAP, { username: 'bench', name: 'workers-caller', scopes: ['user:token'] });
  const sides: [string, Server][] = [
    ['one process', single],
    ['--workers 2', workers],
  ];
  say(`# one process: pid ${single.pid}; --workers 2: primary pid ${workers.pid}, workers ${processTree(workers.pid).slice(1).join(', ')}`);

  for (let round = 1; round <= options.rounds; round += 1) {
    const quiet = await waitQuiet(15, options.quick ? 3_000 : 60_000);
    say(`# round ${round}/${options.rounds} (machine ${quiet.busyPct.toFixed(0)}% busy before it)`);
    for (const [side, server] of round % 2 === 1 ? sides : [...sides].reverse()) {
      const request = { url: server.url, headers: bearer(caller.secret), body: body(VERIFY_QUERY), expect: ['"username":"bench"'], reject: ['"errors"'] };
      await runLoad([{ ...request, label: `${side} warm-up`, connections: 16, duration: options.warmupS }]);
      for (const c of connections) {
        const pids = processTree(server.pid);
        const [serverBefore, machineBefore, startedAt] = [treeCpuMs(pids), machineCpuMs(), performance.now()];
        const { results } = await runLoad([{ ...request, label: side, connections: c, duration: options.durationS }]);
        const elapsedMs = performance.now() - startedAt;
        const machineAfter = machineCpuMs();
        const result = results[0]!;
        const measurement: Measurement = {
          side,
          round,
          connections: c,
          rps: result.rps,
          p50: result.p50,
          p99: result.p99,
          serverCores: (treeCpuMs(pids) - serverBefore) / elapsedMs,
          machineCores: (machineAfter.busy - machineBefore.busy) / elapsedMs,
        };
        measurements.push(measurement);
        for (const problem of problemsOf(result)) problems.push(`${side} c=${c} round ${round}: ${problem}`);
        say(
          `${side.padEnd(12)} c=${String(c).padEnd(3)} ${String(result.rps).padStart(7)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms` +
            `   # server ${measurement.serverCores.toFixed(2)} cores, machine ${measurement.machineCores.toFixed(2)} of ${cpus().length} busy`,
        );
      }
    }
  }
} catch (error) {
  problems.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  closeLoadWorker();
  await stopAll();
  await databases?.dropAll();
  rmSync(workDir, { recursive: true, force: true });
}

say('');
say(`Verification on PostgreSQL, median over ${options.rounds} round(s) of ${options.durationS} s:`);
say('| connections | one process req/s | --workers 2 req/s | ratio | server cores (one / two) | machine cores busy (one / two) |');
say('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const c of connections) {
  const of = (side: string) => measurements.filter((m) => m.side === side && m.connections === c);
  const [one, two] = [of('one process'), of('--workers 2')];
  if (one.length === 0 || two.length === 0) continue;
  const rps = (list: Measurement[]) => median(list.map((m) => m.rps));
  const cores = (list: Measurement[], pick: (m: Measurement) => number) => median(list.map(pick)).toFixed(2);
  say(
    `| ${c} | ${rps(one).toLocaleString('en')} | ${rps(two).toLocaleString('en')} | ${(rps(two) / rps(one)).toFixed(2)} | ` +
      `${cores(one, (m) => m.serverCores)} / ${cores(two, (m) => m.serverCores)} | ${cores(one, (m) => m.machineCores)} / ${cores(two, (m) => m.machineCores)} |`,
  );
}
say(problems.length === 0 ? '# every response passed its check' : `# ${problems.length} PROBLEM(S):\n#   ${problems.join('\n#   ')}`);
process.exit(problems.length === 0 ? 0 : 1);
