import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './paths.ts';
import { exited, forkTracked } from './processes.ts';

/**
 * Load generation, seen from the benchmark: the cases run in a separate
 * process (load-worker.ts, autocannon), so that the servers, the load and
 * this orchestrating process each have their own event loop.
 */

export interface LoadSpec {
  label: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Seconds. With neither duration nor amount, the case runs until stopped. */
  duration?: number;
  /** Requests in all, instead of a duration. */
  amount?: number;
  /** Every response must be 2xx and its body contain each of these… */
  expect?: string[];
  /** …and none of these. */
  reject?: string[];
  /** A placeholder in the body replaced by a string unique to each request (autocannon's setupRequest). */
  unique?: string;
  /** Keep [end time (epoch ms), latency (ms)] of each response. */
  samples?: boolean;
  /** Per-request timeout, seconds (30). */
  timeoutS?: number;
}

export interface LoadResult {
  label: string;
  /** autocannon's requests.average: the mean of its per-second counts, as side-by-side.sh reports. */
  rps: number;
  total: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses that failed the body check (null: nothing was checked). */
  bad: number | null;
  firstBad: string | null;
  p50: number;
  p99: number;
  max: number;
  durationS: number;
  uniqueBuilt: number | null;
  samples: [number, number][] | null;
}

/** What load.ts tells the worker, and what it answers (over the IPC channel). */
export type ParentMessage = { type: 'run'; id: number; specs: LoadSpec[]; serverPid: number | null } | { type: 'stop'; id: number };
export type WorkerMessage =
  | { type: 'started'; id: number; at: number }
  | { type: 'result'; id: number; results: LoadResult[]; cpu: CpuShare }
  | { type: 'error'; id: number; message: string };

/** What the machine did while the cases ran: the server's CPU, the load generator's, and everyone else's. */
export interface CpuShare {
  serverCorePct: number | null;
  loadgenCorePct: number;
  /** % of all cores busy with neither: noise from outside the benchmark. */
  otherPct: number;
}

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/** Why a result is not a clean measurement; empty when every response was good. */
export function problemsOf(result: LoadResult): string[] {
  const problems: string[] = [];
  if (result.non2xx) problems.push(`${result.non2xx} non-2xx`);
  if (result.errors) problems.push(`${result.errors} errors`);
  if (result.timeouts) problems.push(`${result.timeouts} timeouts`);
  if (result.bad) problems.push(`${result.bad} bodies failed the check; first: ${result.firstBad}`);
  if (result.total === 0) problems.push('no responses');
  return problems;
}

export interface RunningLoad {
  /** Epoch ms at which every case had started. */
  started: Promise<number>;
  /** Stops cases that run until stopped, and resolves to every case's result. */
  stop(): Promise<LoadResult[]>;
  /** Resolves when every case has ended by itself. */
  done: Promise<LoadResult[]>;
  /** The CPU shares from start to end; once done. */
  cpu(): CpuShare;
}

interface Job {
  onStarted(at: number): void;
  onResult(results: LoadResult[], cpu: CpuShare): void;
  onError(error: Error): void;
}

let worker: ChildProcess | null = null;
let nextId = 0;
const jobs = new Map<number, Job>();

/** The load generator process, started on first use and kept for the run (its start-up, ~0.7 s, is paid once). */
function loadWorker(): ChildProcess {
  if (worker && !exited(worker)) return worker;
  const child = forkTracked(WORKER, { cwd: PROJECT_ROOT, execArgv: ['--import', 'tsx'] });
  child.on('message', (message: WorkerMessage) => {
    const job = jobs.get(message.id);
    if (!job) return;
    if (message.type === 'started') job.onStarted(message.at);
    else {
      jobs.delete(message.id);
      if (message.type === 'result') job.onResult(message.results, message.cpu);
      else job.onError(new Error(`load generator: ${message.message}`));
    }
  });
  child.once('exit', (code) => {
    for (const job of jobs.values()) job.onError(new Error(`the load generator exited (${code})`));
    jobs.clear();
  });
  worker = child;
  return child;
}

/** Ends the load generator (at the end of the run). */
export function closeLoadWorker(): void {
  if (worker && !exited(worker)) worker.disconnect();
  worker = null;
}

export function startLoad(specs: LoadSpec[], serverPid: number | null = null): RunningLoad {
  const child = loadWorker();
  const id = (nextId += 1);
  let share: CpuShare | null = null;
  let onStarted: (at: number) => void = () => {};
  const started = new Promise<number>((resolve) => (onStarted = resolve));
  const done = new Promise<LoadResult[]>((resolve, reject) => {
    jobs.set(id, {
      onStarted,
      onResult: (results, cpu) => {
        share = cpu;
        onStarted(Number.NaN);
        resolve(results);
      },
      onError: (error) => {
        onStarted(Number.NaN);
        reject(error);
      },
    });
  });
  const run: ParentMessage = { type: 'run', id, specs, serverPid };
  child.send(run);
  return {
    started,
    done,
    stop: () => {
      const stop: ParentMessage = { type: 'stop', id };
      child.send(stop);
      return done;
    },
    cpu: () => share ?? { serverCorePct: null, loadgenCorePct: 0, otherPct: 0 },
  };
}

/** Runs the cases to their end (a duration or an amount each). */
export async function runLoad(specs: LoadSpec[], serverPid: number | null = null): Promise<{ results: LoadResult[]; cpu: CpuShare }> {
  const load = startLoad(specs, serverPid);
  const results = await load.done;
  return { results, cpu: load.cpu() };
}
