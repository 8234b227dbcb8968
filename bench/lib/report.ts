import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BulkResult, DepthResult, InvalidateResult, Latency, SweepResult } from './bulk.ts';
import type { Engine, Options } from './options.ts';
import { PEER_DIR, PROJECT_ROOT, RESULTS_DIR } from './paths.ts';
import { max, median, min } from './stats.ts';
import type { ThroughputCaseId, ThroughputMeasurement } from './throughput.ts';

/** The tables on stdout and the JSON record under bench/results/. */

export interface ThroughputRow {
  id: ThroughputCaseId;
  engine: Engine | 'none';
  connections: number;
  rounds: number;
  rpsMedian: number;
  rpsMin: number;
  rpsMax: number;
  p50: number;
  p99: number;
  /** Median req/s ÷ the yoga baseline's median req/s, same connections. */
  ratioToBaseline: number | null;
  /** Tessera's median ÷ the peer's (verify and oauth-introspect ÷ its verify, create ÷ its create). */
  ratioToPeer: number | null;
  maxOtherPct: number;
  target: string;
  verdict: 'ok' | 'MISSED' | '';
}

/** What a case is held to (at 16 connections): ratio to yoga, ratio to the peer. */
const TARGETS: Partial<Record<ThroughputCaseId, { baseline: number; peer?: number }>> = {
  verify: { baseline: 0.8, peer: 3 },
  create: { baseline: 0.25, peer: 2 },
  history: { baseline: 0.2 },
};

export function summarize(measurements: ThroughputMeasurement[]): ThroughputRow[] {
  const keys: { id: ThroughputCaseId; engine: Engine | 'none'; connections: number }[] = [];
  for (const m of measurements) if (!keys.some((k) => k.id === m.id && k.engine === m.engine && k.connections === m.connections)) keys.push(m);
  const of = (id: ThroughputCaseId, engine: Engine | 'none' | null, connections: number) =>
    measurements.filter((m) => m.id === id && (engine === null || m.engine === engine) && m.connections === connections);
  const medianRps = (list: ThroughputMeasurement[]) => (list.length === 0 ? null : median(list.map((m) => m.rps)));
  const order: ThroughputCaseId[] = ['baseline', 'verify', 'introspect', 'oauth-introspect', 'create', 'history', 'peer-verify', 'peer-create'];
  const engineOrder = ['none', 'sqlite', 'postgresql'];
  keys.sort(
    (a, b) => order.indexOf(a.id) - order.indexOf(b.id) || engineOrder.indexOf(a.engine) - engineOrder.indexOf(b.engine) || a.connections - b.connections,
  );
  return keys.map(({ id, engine, connections }) => {
    const list = of(id, engine, connections);
    const rps = list.map((m) => m.rps);
    const baseline = medianRps(of('baseline', 'none', connections));
    // A resource server's question to the peer is its verifyApiKey, whichever way Tessera is asked it.
    const peerId = id === 'verify' || id === 'oauth-introspect' ? 'peer-verify' : id === 'create' ? 'peer-create' : null;
    const peer = peerId ? medianRps(of(peerId, null, connections)) : null;
    const rpsMedian = median(rps);
    const ratioToBaseline = baseline ? rpsMedian / baseline : null;
    const ratioToPeer = peer ? rpsMedian / peer : null;
    const target = connections === 16 ? TARGETS[id] : undefined;
    let verdict: ThroughputRow['verdict'] = '';
    if (target) {
      const missed =
        (ratioToBaseline !== null && ratioToBaseline < target.baseline) || (target.peer !== undefined && ratioToPeer !== null && ratioToPeer < target.peer);
      verdict = missed ? 'MISSED' : 'ok';
    }
    return {
      id,
      engine,
      connections,
      rounds: list.length,
      rpsMedian,
      rpsMin: min(rps),
      rpsMax: max(rps),
      p50: median(list.map((m) => m.p50)),
      p99: median(list.map((m) => m.p99)),
      ratioToBaseline,
      ratioToPeer,
      maxOtherPct: max(list.map((m) => m.cpu.otherPct)),
      target: target ? `≥ ${target.baseline}${target.peer ? `, ≥ ${target.peer}× peer` : ''}` : '',
      verdict,
    };
  });
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, index) => (rightAligned.has(index) ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

const ratio = (value: number | null) => (value === null ? '' : value >= 0.1 ? value.toFixed(2) : value.toFixed(3));
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

export function throughputTable(rows: ThroughputRow[]): string {
  return table(
    ['case', 'engine', 'c', 'req/s', 'spread', 'p50 ms', 'p99 ms', '÷ yoga', '÷ peer', 'target (c=16)', '', 'other cpu'],
    rows.map((row) => [
      row.id,
      row.engine === 'none' ? '-' : row.id.startsWith('peer') ? `${row.engine} (WAL)` : row.engine,
      String(row.connections),
      row.rpsMedian.toFixed(0),
      row.rounds > 1 ? `${row.rpsMin}–${row.rpsMax}` : '',
      ms(row.p50),
      ms(row.p99),
      ratio(row.ratioToBaseline),
      ratio(row.ratioToPeer),
      row.target,
      row.verdict,
      row.maxOtherPct > 10 ? `${row.maxOtherPct}% !` : `${row.maxOtherPct}%`,
    ]),
    new Set([2, 3, 4, 5, 6, 7, 8]),
  );
}

export interface BulkRow {
  case: string;
  engine: Engine;
  measure: string;
  value: string;
  target: string;
  verdict: 'ok' | 'MISSED' | '';
}

const lat = (latency: Latency) => `${ms(latency.p50)} / ${ms(latency.p99)}`;
const verdict = (pass: boolean): 'ok' | 'MISSED' => (pass ? 'ok' : 'MISSED');

export function bulkRows(results: BulkResult[]): BulkRow[] {
  const rows: BulkRow[] = [];
  const add = (result: BulkResult, measure: string, value: string, target = '', pass: boolean | null = null) =>
    rows.push({ case: result.case, engine: result.engine, measure, value, target, verdict: pass === null ? '' : verdict(pass) });
  for (const result of results) {
    if (result.case === 'depth') {
      const r: DepthResult = result;
      const n = (value: number) => value.toLocaleString('en');
      add(r, `first page p50 / p99 ms (${n(r.entries)} entries)`, lat(r.first));
      add(r, `page at ${n(r.deepOffset)} p50 / p99 ms`, lat(r.deep));
      add(r, 'deep ÷ first (p50)', ratio(r.deep.p50 / r.first.p50), '≤ 1.2', r.deep.p50 / r.first.p50 <= 1.2);
      add(r, `${r.filteredUser} (${n(r.filteredEntries)}): first page p50 / p99 ms`, lat(r.filteredFirst));
      add(r, `${r.filteredUser}: page at ${n(r.filteredDeepOffset)} p50 / p99 ms`, lat(r.filteredDeep));
      add(
        r,
        `${r.filteredUser}: deep ÷ first (p50)`,
        ratio(r.filteredDeep.p50 / r.filteredFirst.p50),
        '≤ 1.2',
        r.filteredDeep.p50 / r.filteredFirst.p50 <= 1.2,
      );
    } else if (result.case === 'invalidate') {
      const r: InvalidateResult = result;
      const big = r.tokens >= 100_000;
      add(r, `invalidateTokens of ${r.tokens.toLocaleString('en')}: wall s`, r.wallS.toFixed(2), big ? '≤ 5' : '', big ? r.wallS <= 5 : null);
      add(
        r,
        'server RSS before → peak MB (VmHWM)',
        `${r.rssBeforeMb.toFixed(0)} → ${r.peakRssMb.toFixed(0)} (${r.hwmMb.toFixed(0)})`,
        big ? '≤ 300' : '',
        big ? r.peakRssMb <= 300 : null,
      );
      add(
        r,
        'generateToken meanwhile p50 / p99 / max ms',
        `${lat(r.generateDuring)} / ${ms(r.generateDuring.max)} (n=${r.generateDuring.n})`,
        r.engine === 'sqlite' ? 'max ≲ 250' : '',
        r.engine === 'sqlite' ? r.generateDuring.max <= 250 : null,
      );
      add(r, 'viewer meanwhile p50 / p99 / max ms', `${lat(r.viewerDuring)} / ${ms(r.viewerDuring.max)} (n=${r.viewerDuring.n})`);
      add(r, 'same, before it (idle): generate / viewer p99 ms', `${ms(r.generateIdle.p99)} / ${ms(r.viewerIdle.p99)}`);
    } else {
      const r: SweepResult = result;
      const big = r.tokens >= 100_000;
      add(r, `sweep ${r.tokens.toLocaleString('en')}: tessera maintenance s`, r.cliS.toFixed(2));
      if (r.cliIdleS !== null) {
        add(r, '  … with nothing to do (start-up) s', r.cliIdleS.toFixed(2));
        add(r, '  … difference (the sweep) s', (r.cliS - r.cliIdleS).toFixed(2));
      }
      add(r, '  runMaintenance() in-process s', r.inProcessS.toFixed(2), big ? '≤ 5' : '', big ? r.inProcessS <= 5 : null);
    }
  }
  return rows;
}

export function bulkTable(rows: BulkRow[]): string {
  return table(
    ['case', 'engine', 'measure', 'value', 'target', ''],
    rows.map((row) => [row.case, row.engine, row.measure, row.value, row.target, row.verdict]),
    new Set([3]),
  );
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const versionOf = (root: string, name: string): string | null => {
  const path = join(root, 'node_modules', name, 'package.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version : null;
};

export function environment(options: Options) {
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']),
    /** Uncommitted changes were in the work tree (what ran is HEAD plus them). */
    dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    node: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    quick: options.quick,
    versions: {
      'graphql-yoga': versionOf(PROJECT_ROOT, 'graphql-yoga'),
      graphql: versionOf(PROJECT_ROOT, 'graphql'),
      '@prisma/client': versionOf(PROJECT_ROOT, '@prisma/client'),
      'better-sqlite3': versionOf(PROJECT_ROOT, 'better-sqlite3'),
      autocannon: versionOf(PROJECT_ROOT, 'autocannon'),
      'peer better-auth': versionOf(PEER_DIR, 'better-auth'),
      'peer @better-auth/api-key': versionOf(PEER_DIR, '@better-auth/api-key'),
      'peer better-sqlite3': versionOf(PEER_DIR, 'better-sqlite3'),
    },
  };
}

export function saveJson(record: Record<string, unknown>, quick: boolean): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const path = join(RESULTS_DIR, `bench-${stamp}${quick ? '-quick' : ''}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}
