import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from '../config.ts';
import { createAdapterFactory } from '../db/client.ts';
import { migrateIfPending } from '../db/pending-migrations.ts';
import { createLogger, type Logger } from '../logger.ts';
import { closeOnSignals, firstRunMessage, startListening } from './listen.ts';

/**
 * `tessera serve --workers N`: a primary process that serves nothing itself
 * and N workers (node:cluster) that each run a whole Tessera on the shared
 * listening socket; the database is the only state they share. The primary
 * applies migrations before forking, prints the URL once, replaces a worker
 * that dies (backing off when they keep dying), and on SIGINT or SIGTERM
 * stops every worker gracefully (each flushes its noted uses and closes)
 * before it exits.
 */

/** What a worker tells the primary once it listens. */
interface ListeningMessage {
  tessera: 'listening';
  url: string;
  firstRun: boolean;
}

function isListeningMessage(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && (message as { tessera?: unknown }).tessera === 'listening';
}

/** A worker that served this long was not crash-looping: the next one starts at once. */
const STABLE_AFTER_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** How long the primary waits for its workers to close before it kills them. */
const SHUTDOWN_GRACE_MS = 15_000;

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** One worker: a whole Tessera that reports its URL to the primary, and stops on a signal or when the primary goes away. */
export async function serveAsWorker(config: Config): Promise<void> {
  // Each line names the worker that wrote it: several processes share one log stream.
  const logger = createLogger(config.logLevel).child({ worker: cluster.worker?.id, pid: process.pid });
  const { tessera, url, firstRun } = await startListening(config, logger);
  logger.info({ url, engine: config.engine }, 'worker is listening');
  const message: ListeningMessage = { tessera: 'listening', url, firstRun };
  process.send?.(message);
  // Should the primary vanish (killed outright), node's cluster exits this worker at once: no orphan keeps the port.
  closeOnSignals(tessera);
}

export async function serveWorkers(config: Config, requested: number): Promise<void> {
  const count = requested === 0 ? availableParallelism() : requested;
  const logger = createLogger(config.logLevel).child({ primary: true, pid: process.pid });
  // Once, before any worker opens the database (on SQLite the schema engine needs it to itself).
  const applied = await migrateIfPending(config.engine, createAdapterFactory(config.engine, config.databaseUrl), (line) =>
    logger.debug({ engine: config.engine }, line),
  );
  if (applied.length > 0) logger.info({ engine: config.engine, applied }, 'applied database migrations');
  new Supervisor(config, count, logger).start();
}

class Supervisor {
  private readonly running = new Set<Worker>();
  /** When each worker began to listen. */
  private readonly listeningSince = new Map<Worker, number>();
  private announced = false;
  private stopping = false;
  /** Set when a worker did not stop cleanly: the primary then exits 1. */
  private unclean = false;
  private exitCode = 0;
  /** Workers that died soon after starting, in a row: each waits twice as long as the last before it is replaced. */
  private quickDeaths = 0;
  private readonly restarts = new Set<NodeJS.Timeout>();

  constructor(
    private readonly config: Config,
    private readonly count: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    cluster.on('message', (worker, message: unknown) => {
      if (isListeningMessage(message)) this.onListening(worker, message);
    });
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => this.stop(signal));
    for (let index = 0; index < this.count; index += 1) this.fork();
  }

  private fork(): void {
    this.running.add(cluster.fork());
  }

  private onListening(worker: Worker, message: ListeningMessage): void {
    this.listeningSince.set(worker, Date.now());
    if (this.announced || this.listeningSince.size < this.count) return;
    // Every worker listens on the one shared socket (with PORT=0 too: cluster hands them the same port).
    this.announced = true;
    this.logger.info({ url: message.url, engine: this.config.engine, workers: this.count }, 'Tessera is listening');
    process.stdout.write(`Tessera is serving GraphQL and GraphiQL at ${message.url} with ${this.count} worker processes\n`);
    process.stdout.write(`The web console is at ${new URL('/', message.url).href}\n`);
    if (message.firstRun) process.stdout.write(firstRunMessage(message.url));
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const served = Date.now() - (this.listeningSince.get(worker) ?? Date.now());
    this.running.delete(worker);
    this.listeningSince.delete(worker);
    if (this.stopping) {
      if (code !== 0) this.unclean = true;
      this.logger.info({ worker: worker.id, workerPid: worker.process.pid, code, signal }, 'worker stopped');
      if (this.running.size === 0) this.exit();
      return;
    }
    if (!this.announced) {
      // A worker that cannot start (port taken, database unreachable) said why on stderr; the others would fail alike.
      this.logger.error({ worker: worker.id, workerPid: worker.process.pid, code, signal }, 'a worker could not start; stopping');
      this.unclean = true;
      this.stop('startup failure', code ?? 1);
      return;
    }
    this.quickDeaths = served < STABLE_AFTER_MS ? this.quickDeaths + 1 : 0;
    const delay = this.quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** (this.quickDeaths - 1));
    this.logger.error(
      { worker: worker.id, workerPid: worker.process.pid, code, signal, servedMs: served, restartInMs: delay },
      'worker died; starting another',
    );
    const timer = setTimeout(() => {
      this.restarts.delete(timer);
      if (!this.stopping) this.fork();
    }, delay);
    this.restarts.add(timer);
  }

  /** Asks every worker to close (SIGTERM) and exits once all have; kills those still running after the grace period. */
  private stop(reason: string, exitCode = 0): void {
    if (this.stopping) return;
    this.stopping = true;
    this.exitCode = exitCode;
    this.logger.info({ reason, workers: this.running.size }, 'shutting down every worker');
    for (const timer of this.restarts) clearTimeout(timer);
    this.restarts.clear();
    if (this.running.size === 0) {
      this.exit();
      return;
    }
    for (const worker of this.running) worker.process.kill('SIGTERM');
    setTimeout(() => {
      this.logger.error({ workers: this.running.size }, `workers still running ${SHUTDOWN_GRACE_MS / 1000} s after SIGTERM; killing them`);
      this.unclean = true;
      for (const worker of this.running) worker.process.kill('SIGKILL');
    }, SHUTDOWN_GRACE_MS).unref();
  }

  private exit(): void {
    process.exit(this.exitCode !== 0 ? this.exitCode : this.unclean ? 1 : 0);
  }
}
