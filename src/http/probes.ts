import type { IncomingMessage, ServerResponse } from 'node:http';
import { METRICS_SCOPE } from '../config.ts';
import type { Engine } from '../config.ts';
import type { Database } from '../db/client.ts';
import { committedMigrations } from '../db/migrations/on-disk.ts';
import { PermissionDeniedError } from '../domain/errors.ts';
import type { Authorizer } from '../domain/rules/authorization.ts';
import type { Logger } from '../logger.ts';
import type { TesseraMetrics } from '../metrics.ts';
import type { RequestAuthenticator } from './authenticate-request.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

/**
 * The operator's endpoints, served from node:http before yoga:
 * - GET /health: 200 while the process serves requests; touches nothing else.
 * - GET /ready: 200 when the database answers and every committed migration
 *   is applied, else 503 with a one-word reason; for a load balancer.
 * - GET /metrics: Prometheus' text format, for a token holding admin:token or
 *   metrics:read, authenticated as every request is (and counting toward the
 *   failed-credential limit as anywhere).
 */
const HEALTH_PATH = '/health';
const READY_PATH = '/ready';
const METRICS_PATH = '/metrics';

/** Whether node's request target (path and query) is one of these endpoints. */
export function isProbeTarget(target: string | undefined): boolean {
  if (target === undefined) return false;
  const queryStart = target.indexOf('?');
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  return path === HEALTH_PATH || path === READY_PATH || path === METRICS_PATH;
}

/** How long the database may take to answer a readiness check before the answer is 503. */
const READY_TIMEOUT_MS = 2000;
/** How long a readiness verdict is reused: a flood of probes (they need no token) costs at most one query per interval. */
const READY_REUSE_MS = 1000;

export type Readiness = { ready: true } | { ready: false; reason: 'database' | 'migrations pending' };

/** The migrations this build commits that the database does not record as applied (pending-migrations.ts's rule). */
export function pendingOf(committed: readonly string[], applied: readonly string[]): string[] {
  const done = new Set(applied);
  return committed.filter((name) => !done.has(name));
}

/**
 * Whether this process can serve: one read of `_prisma_migrations` (a real read
 * of the database, which `SELECT 1` is not on SQLite: it touches no file),
 * compared with the migrations this build commits. Probes that arrive while a
 * check runs share it; a verdict is reused for READY_REUSE_MS.
 */
export class ReadinessCheck {
  private committed: Promise<string[]> | null = null;
  private running: Promise<Readiness> | null = null;
  private last: { at: number; verdict: Readiness } | null = null;

  constructor(private readonly options: { db: Database; engine: Engine; logger: Logger }) {}

  async check(): Promise<Readiness> {
    if (this.last && Date.now() - this.last.at < READY_REUSE_MS) return this.last.verdict;
    this.running ??= this.ask().finally(() => {
      this.running = null;
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, reason: 'database' }), READY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.running, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async ask(): Promise<Readiness> {
    const verdict = await this.verdict();
    const was = this.last?.verdict;
    // Logged when it changes, not on every probe.
    if (!verdict.ready && (was === undefined || was.ready)) this.options.logger.warn({ reason: verdict.reason }, 'not ready');
    if (verdict.ready && was !== undefined && !was.ready) this.options.logger.info('ready again');
    this.last = { at: Date.now(), verdict };
    return verdict;
  }

  private async verdict(): Promise<Readiness> {
    this.committed ??= committedMigrations(this.options.engine);
    let applied: string[];
    try {
      const rows = await this.options.db.$queryRaw<{ migration_name: string }[]>`
        SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
      applied = rows.map((row) => row.migration_name);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'readiness check: the database did not answer');
      return { ready: false, reason: 'database' };
    }
    return pendingOf(await this.committed, applied).length === 0 ? { ready: true } : { ready: false, reason: 'migrations pending' };
  }
}

export interface ProbesOptions {
  readiness: ReadinessCheck;
  requests: RequestAuthenticator;
  authorizer: Authorizer;
  metrics: TesseraMetrics;
  logger: Logger;
}

const BASE_HEADERS: Readonly<Record<string, string>> = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };

function send(response: ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>> = {}): void {
  response.writeHead(status, {
    ...BASE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}

/** A refusal in GraphQL's shape, as /graphql answers it (refusal.ts). */
function sendError(response: ServerResponse, status: number, code: string, message: string, headers?: Record<string, string>): void {
  send(response, status, JSON.stringify({ errors: [{ message, extensions: { code } }] }), headers);
}

export type ProbesHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** The node:http handler of /health, /ready and /metrics (app.ts routes them here). */
export function probesHandler(options: ProbesOptions): ProbesHandler {
  const { readiness, requests, authorizer, metrics, logger } = options;

  const scrape = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const forwardedFor = request.headers['x-forwarded-for'];
    const outcome = await requests.authenticate(request, request.headers.authorization ?? null, typeof forwardedFor === 'string' ? forwardedFor : null);
    if (!outcome.ok) {
      const { status, code, message, headers } = outcome.refusal;
      return sendError(response, status, code, message, headers);
    }
    try {
      authorizer.authorize(outcome.authentication.actor, 'read metrics', { scope: METRICS_SCOPE });
    } catch (error) {
      if (!(error instanceof PermissionDeniedError)) throw error;
      return sendError(response, 403, error.code, error.message);
    }
    const text = await metrics.registry.metrics();
    response.writeHead(200, { ...BASE_HEADERS, 'content-type': metrics.registry.contentType, 'content-length': String(Buffer.byteLength(text)) });
    response.end(request.method === 'HEAD' ? undefined : text);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return sendError(response, 405, 'METHOD_NOT_ALLOWED', 'Use GET', { allow: 'GET, HEAD' });
    }
    const target = request.url ?? '';
    const queryStart = target.indexOf('?');
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    if (path === HEALTH_PATH) {
      response.writeHead(200, { ...BASE_HEADERS, 'content-length': '0' });
      return void response.end();
    }
    if (path === READY_PATH) {
      const verdict = await readiness.check();
      return verdict.ready
        ? send(response, 200, JSON.stringify({ status: 'ready' }))
        : send(response, 503, JSON.stringify({ status: 'unavailable', reason: verdict.reason }), { 'retry-after': '5' });
    }
    return scrape(request, response);
  };

  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'unexpected error');
      if (response.headersSent) response.destroy();
      else sendError(response, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
    });
  };
}
