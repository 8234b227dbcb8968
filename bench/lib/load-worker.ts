/**
 * The load generator: a process of its own, so that generating load never
 * shares an event loop with what is measured. It runs one or more autocannon
 * cases at once, as ../shared/peers/sbs-load.mjs does (every response body
 * checked; a unique string per request through setupRequest; req/s is
 * autocannon's requests.average), and optionally keeps each response's time
 * and latency, so that the caller can look at one window of a long run.
 *
 * Started once per run by load.ts (child_process.fork, under tsx) and
 * driven over IPC: {type: 'run', id, specs, serverPid} starts the cases of
 * one job at once; it answers {type: 'started'} when all have started and
 * {type: 'result'} with every case's result and the CPU that the server,
 * this process and everything else used meanwhile. {type: 'stop', id} stops
 * a job's cases that run until stopped.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import type { CpuShare, LoadResult, LoadSpec, ParentMessage, WorkerMessage } from './load.ts';
import { machineCpuMs, processCpuMs } from './processes.ts';
import { nowMs } from './stats.ts';

function runCase(spec: LoadSpec, onStarted: () => void, stoppers: (() => void)[]): Promise<LoadResult> {
  let bad = 0;
  let firstBad: string | null = null;
  let uniqueBuilt = 0;
  const samples: [number, number][] | null = spec.samples ? [] : null;
  const request: autocannon.Request = { method: spec.method ?? 'POST', headers: spec.headers ?? {} };
  if (spec.body !== undefined) request.body = spec.body;
  if (spec.unique) {
    const placeholder = spec.unique;
    const template = spec.body ?? '';
    if (!template.includes(placeholder)) throw new Error(`${spec.label}: the body has no ${placeholder} placeholder`);
    const prefix = randomBytes(4).toString('hex');
    request.setupRequest = (req) => {
      uniqueBuilt += 1;
      req.body = template.replaceAll(placeholder, `${prefix}-${uniqueBuilt}`);
      return req;
    };
  }
  const expect = spec.expect ?? [];
  const reject = spec.reject ?? [];
  if (expect.length > 0 || reject.length > 0) {
    request.onResponse = (status, body) => {
      const text = String(body);
      if (status < 200 || status > 299 || expect.some((part) => !text.includes(part)) || reject.some((part) => text.includes(part))) {
        bad += 1;
        firstBad ??= `${status} ${text.slice(0, 300)}`;
      }
    };
  }
  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    requests: [request],
    timeout: spec.timeoutS ?? 30,
  };
  if (spec.amount !== undefined) options.amount = spec.amount;
  else options.duration = spec.duration ?? 24 * 3600;

  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, result) => {
      if (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      resolve({
        label: spec.label,
        rps: Math.round(result.requests.average),
        total: result.requests.total,
        ok2xx: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        bad: expect.length > 0 || reject.length > 0 ? bad : null,
        firstBad,
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
        durationS: result.duration,
        uniqueBuilt: spec.unique ? uniqueBuilt : null,
        samples,
      });
    });
    instance.on('start', onStarted);
    if (samples) instance.on('response', (_client, _status, _bytes, responseTime) => samples.push([nowMs(), responseTime]));
    stoppers.push(() => instance.stop());
  });
}

interface CpuMark {
  wall: number;
  machine: { busy: number; total: number };
  server: number | null;
  self: NodeJS.CpuUsage;
}
const mark = (serverPid: number | null): CpuMark => ({
  wall: performance.now(),
  machine: machineCpuMs(),
  server: serverPid === null ? null : processCpuMs(serverPid),
  self: process.cpuUsage(),
});
function share(from: CpuMark, to: CpuMark): CpuShare {
  const wallMs = Math.max(1, to.wall - from.wall);
  const selfMs = (to.self.user - from.self.user + to.self.system - from.self.system) / 1000;
  const serverMs = from.server !== null && to.server !== null ? to.server - from.server : null;
  const cores = Math.max(1, (to.machine.total - from.machine.total) / wallMs);
  const otherMs = to.machine.busy - from.machine.busy - (serverMs ?? 0) - selfMs;
  return {
    serverCorePct: serverMs === null ? null : Math.round((100 * serverMs) / wallMs),
    loadgenCorePct: Math.round((100 * selfMs) / wallMs),
    otherPct: Math.max(0, Math.round((100 * otherMs) / (wallMs * cores))),
  };
}

const send = (message: WorkerMessage) => process.send!(message);
const stoppers = new Map<number, (() => void)[]>();

async function runJob(job: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  const stops: (() => void)[] = [];
  stoppers.set(job.id, stops);
  let started = 0;
  let startMark: CpuMark | null = null;
  try {
    const results = await Promise.all(
      job.specs.map((spec) =>
        runCase(
          spec,
          () => {
            started += 1;
            if (started === job.specs.length) {
              startMark = mark(job.serverPid);
              send({ type: 'started', id: job.id, at: nowMs() });
            }
          },
          stops,
        ),
      ),
    );
    const endMark = mark(job.serverPid);
    send({ type: 'result', id: job.id, results, cpu: share(startMark ?? endMark, endMark) });
  } catch (error) {
    send({ type: 'error', id: job.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  } finally {
    stoppers.delete(job.id);
  }
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'run') void runJob(message);
  else for (const stop of stoppers.get(message.id) ?? []) stop();
});
// The benchmark went away: so does its load generator.
process.on('disconnect', () => process.exit(0));
