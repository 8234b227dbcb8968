import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PEER_DIR, PROJECT_ROOT, SHARED_PEERS, TESSERA_BIN, YOGA_BASELINE } from './paths.ts';
import { exited, freePort, runCommand, spawnTracked, stopProcess } from './processes.ts';
import { sleep } from './stats.ts';

/**
 * The servers under load, each a process of its own, started as
 * side-by-side.sh starts them: Tessera as `node bin/tessera.js serve`, the
 * bare graphql-yoga baseline (yoga-baseline.mjs, run from the project so it
 * loads the project's graphql-yoga), and the better-auth peer from bench/peer.
 */

export interface Server {
  label: string;
  url: string;
  pid: number;
  child: ChildProcess;
  logPath: string;
  stop(): Promise<void>;
}

/** The bootstrap secret of every Tessera server of this run; used only to mint the tokens the cases use. */
export const BOOTSTRAP = `bench-bootstrap-${randomBytes(20).toString('hex')}`;
const HOST = '127.0.0.1';

/** The environment minus anything that would configure a server behind the benchmark's back. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('TESSERA_') || ['DATABASE_URL', 'HOST', 'PORT', 'LOG_LEVEL', 'NODE_ENV'].includes(name)) continue;
    env[name] = value;
  }
  return env;
}

/** Environment for a Tessera process (server or CLI) on this database. */
export function tesseraEnvironment(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...cleanEnvironment(), DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', NODE_ENV: 'production', TESSERA_BOOTSTRAP_TOKEN: BOOTSTRAP, ...extra };
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls until `ready` resolves true, the process exits, or `timeoutMs` passes. */
async function waitReady(child: ChildProcess, logPath: string, what: string, ready: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (exited(child)) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logTail(logPath)}`);
    try {
      if (await ready()) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopProcess(child);
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s:\n${logTail(logPath)}`);
}

function startProcess(
  label: string,
  workDir: string,
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; logPath: string } {
  const logPath = join(workDir, `${label}.log`);
  const log = createWriteStream(logPath);
  const child = spawnTracked(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return { child, logPath };
}

const postOk = async (url: string, headers: Record<string, string>, body: string, expect: string): Promise<boolean> => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return response.status === 200 && (await response.text()).includes(expect);
};

/** `node bin/tessera.js serve [serveArgs]` on this database, with NODE_ENV=production and LOG_LEVEL=silent. */
export async function startTessera(
  label: string,
  databaseUrl: string,
  workDir: string,
  extraEnv: Record<string, string> = {},
  serveArgs: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const env = tesseraEnvironment(databaseUrl, { HOST, PORT: String(port), ...extraEnv });
  const { child, logPath } = startProcess(label, workDir, process.execPath, [TESSERA_BIN, 'serve', ...serveArgs], PROJECT_ROOT, env);
  const url = `http://${HOST}:${port}/graphql`;
  await waitReady(child, logPath, `Tessera (${label})`, () =>
    postOk(url, { authorization: `Bearer ${BOOTSTRAP}` }, '{"query":"{ viewer { username } }"}', '"username"'),
  );
  return { label, url, pid: child.pid!, child, logPath, stop: () => stopProcess(child) };
}

/** The bare graphql-yoga server of side-by-side.sh (bench/yoga-baseline.mjs), answering `{ __typename }`. */
export async function startYogaBaseline(workDir: string): Promise<Server> {
  const port = await freePort();
  const env = { ...cleanEnvironment(), NODE_ENV: 'production', PORT: String(port) };
  const { child, logPath } = startProcess('yoga-baseline', workDir, process.execPath, [YOGA_BASELINE], PROJECT_ROOT, env);
  const url = `http://${HOST}:${port}/graphql`;
  await waitReady(child, logPath, 'the yoga baseline', () => postOk(url, {}, '{"query":"{ __typename }"}', '"__typename":"Query"'));
  return { label: 'yoga-baseline', url, pid: child.pid!, child, logPath, stop: () => stopProcess(child) };
}

/** Files of bench/ copied from ../shared/peers that now differ from their originals (empty when those are not on this machine). */
export function driftFromShared(): string[] {
  const pairs: [string, string, number][] = [
    [YOGA_BASELINE, join(SHARED_PEERS, 'yoga-baseline.mjs'), 0],
    // bench/peer/server.ts carries one added first line (@ts-nocheck, see there).
    [join(PEER_DIR, 'server.ts'), join(SHARED_PEERS, 'better-auth', 'server.ts'), 1],
    [join(PEER_DIR, 'package.json'), join(SHARED_PEERS, 'better-auth', 'package.json'), 0],
    [join(PEER_DIR, 'package-lock.json'), join(SHARED_PEERS, 'better-auth', 'package-lock.json'), 0],
  ];
  return pairs
    .filter(([, shared]) => existsSync(shared))
    .filter(([ours, shared, skip]) => readFileSync(ours, 'utf8').split('\n').slice(skip).join('\n') !== readFileSync(shared, 'utf8'))
    .map(([ours]) => ours.slice(PROJECT_ROOT.length));
}

/** `npm ci` in bench/peer when its node_modules is missing (~2 min: better-sqlite3 compiles from source). */
export async function ensurePeerInstalled(say: (line: string) => void): Promise<void> {
  if (existsSync(join(PEER_DIR, 'node_modules', 'better-auth')) && existsSync(join(PEER_DIR, 'node_modules', 'tsx'))) return;
  say('# installing the peer in bench/peer (npm ci, ~2 min the first time)');
  const result = await runCommand('npm', ['ci', '--no-audit', '--no-fund'], { cwd: PEER_DIR, env: process.env, timeoutMs: 900_000 });
  if (result.code !== 0) throw new Error(`npm ci in bench/peer failed (${result.code}):\n${result.stderr.slice(-1500)}`);
}

export interface PeerServer extends Server {
  createUrl: string;
  verifyUrl: string;
  origin: string;
  cookie: string;
  /** A key made through the create endpoint, for the verify case. */
  key: string;
  journalMode: string;
}

interface PeerReady {
  baseURL: string;
  createURL: string;
  verifyURL: string;
  okURL: string;
  cookie: string;
  journalMode: string;
}

/** better-auth with its api-key plugin, as side-by-side.sh's ba-wal mode runs it (SQLITE_JOURNAL_MODE=WAL). */
export async function startPeer(workDir: string): Promise<PeerServer> {
  const port = await freePort();
  const readyFile = join(workDir, 'peer-ready.json');
  rmSync(readyFile, { force: true });
  const env = { ...cleanEnvironment(), NODE_ENV: 'production', PORT: String(port), READY_FILE: readyFile, SQLITE_JOURNAL_MODE: 'WAL' };
  const { child, logPath } = startProcess('peer-ba-wal', workDir, process.execPath, ['--import', 'tsx', 'server.ts'], PEER_DIR, env);
  let ready: PeerReady | null = null;
  await waitReady(child, logPath, 'the better-auth peer', async () => {
    if (!existsSync(readyFile)) return false;
    const text = readFileSync(readyFile, 'utf8');
    if (text === '') return false;
    ready = JSON.parse(text) as PeerReady;
    return (await fetch(ready.okURL)).status === 200;
  });
  const info = ready as PeerReady | null;
  if (!info) throw new Error('the peer wrote no ready file');
  const created = await fetch(info.createURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: info.cookie, origin: info.baseURL },
    body: '{"name":"bench"}',
  });
  const createdBody = (await created.json()) as { key?: string };
  if (created.status !== 200 || !createdBody.key) throw new Error(`the peer did not create a key: ${created.status} ${JSON.stringify(createdBody)}`);
  return {
    label: 'peer-ba-wal',
    url: info.baseURL,
    pid: child.pid!,
    child,
    logPath,
    stop: () => stopProcess(child),
    createUrl: info.createURL,
    verifyUrl: info.verifyURL,
    origin: info.baseURL,
    cookie: info.cookie,
    key: createdBody.key,
    journalMode: info.journalMode,
  };
}
