import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { MAX_TOKEN_LENGTH } from '../config.ts';
import { LEAK_REPORT_ACTOR, type Clock } from '../domain/model.ts';
import { LIMITS } from '../domain/rules/input.ts';
import type { TokenService } from '../domain/token-service.ts';
import type { Logger } from '../logger.ts';
import { clientAddress } from './client-address.ts';
import { unavailability } from './errors.ts';
import { FailureLimiter } from './failure-limiter.ts';
import { bodyLengthRefusal } from './request-limits.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

/**
 * POST /leaks: GitHub's secret scanning partner program (and any scanner
 * that speaks its format) reports Tessera tokens found in public places.
 * The body is a JSON array of `{ token, type, url, source }`; every string
 * that is an active Tessera token is revoked with its descendants (actor
 * `<leak-report>`, reason `leaked: <url>`), and the answer labels each one,
 * in the order given: `true_positive` for a string Tessera issued (live or
 * not), `false_positive` otherwise.
 *
 * It takes no credential: presenting a secret is the authority to end it.
 * Each address may call it a limited number of times a minute. Nothing here
 * logs a presented string; the answer repeats only what the reporter sent.
 */
const LEAKS_PATH = '/leaks';

/** Whether node's request target (path and query) is POST /leaks's. */
export function isLeaksTarget(target: string | undefined): boolean {
  return target === LEAKS_PATH || (target?.startsWith(`${LEAKS_PATH}?`) ?? false);
}

/** Reports one request may carry: each may cost a lookup and a revocation. */
const MAX_REPORTS = 1000;
/** Addresses the rate limit remembers at once (the least recently seen are forgotten first). */
const MAX_ADDRESSES = 10_000;
/** Longer than most browsers take; the reason keeps what fits of it (`leaked: <url>`, cut to the reason limit). */
const MAX_URL_LENGTH = 2048;

/** One reported match, as GitHub sends it; members beyond these are ignored. */
const leakReport = z.object({
  token: z.string().max(MAX_TOKEN_LENGTH, `must be at most ${MAX_TOKEN_LENGTH} characters`),
  type: z.string().max(LIMITS.shortText, `must be at most ${LIMITS.shortText} characters`),
  url: z.string().max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`),
  source: z.string().max(LIMITS.shortText, `must be at most ${LIMITS.shortText} characters`).optional(),
});
const leakReports = z.array(leakReport).max(MAX_REPORTS, `may hold at most ${MAX_REPORTS} reports`);

type Label = 'true_positive' | 'false_positive';

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, 'cache-control': 'no-store' };

/** RFC 6749's error shape, as the OAuth endpoints answer errors. */
function error(status: number, code: string, description: string, headers?: Record<string, string>): Answer {
  return { status, body: JSON.stringify({ error: code, error_description: description }), headers };
}

/** Where a validation problem is: `[3].token`, or the body itself. */
function where(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'The body';
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('')
    .replace(/^\./, '');
}

/** The client closed the connection before its request was read whole: there is no one to answer. */
class ClientGone extends Error {}

/** Reads the whole body, whose length bodyLengthRefusal has bounded. */
function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks).toString()));
    const gone = () => reject(new ClientGone('the client closed the request before its body was read'));
    request.once('error', gone);
    request.once('close', () => {
      if (!request.complete) gone();
    });
  });
}

export interface LeaksHandlerOptions {
  tokens: TokenService;
  /** Proxies in front of Tessera (TESSERA_TRUST_PROXY), to find the client's address for the rate limit and history. */
  trustedProxies: number;
  /** TESSERA_LEAK_REPORTS_PER_MINUTE. */
  reportsPerMinute: number;
  now: Clock;
  logger: Logger;
}

export type LeaksHandler = (request: IncomingMessage, response: ServerResponse) => void;

export function leaksHandler({ tokens, trustedProxies, reportsPerMinute, now, logger }: LeaksHandlerOptions): LeaksHandler {
  // In memory, per process: it bounds what one address costs this process, which is what it is for.
  const limiter = new FailureLimiter(reportsPerMinute, MAX_ADDRESSES, () => now().getTime());

  const answer = async (request: IncomingMessage, address: string | null): Promise<Answer> => {
    // Every request counts, whatever it holds: each may cost lookups and revocations.
    const wait = limiter.recordFailure(address ?? 'unknown');
    if (wait !== null) return error(429, 'slow_down', 'Too many leak reports from this address; try again later', { 'retry-after': String(wait) });
    if (request.method !== 'POST') return error(405, 'invalid_request', 'Use POST', { allow: 'POST' });
    const refused = bodyLengthRefusal(request.headers['content-length']);
    if (refused) return error(refused.status, 'invalid_request', refused.message);
    const type = request.headers['content-type'];
    if (type === undefined || !type.toLowerCase().startsWith('application/json')) return error(415, 'invalid_request', 'The body must be application/json');

    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBody(request));
    } catch (failure) {
      if (failure instanceof ClientGone) throw failure;
      return error(400, 'invalid_request', 'The body is not JSON');
    }
    const reports = leakReports.safeParse(parsed);
    if (!reports.success) {
      const [issue] = reports.error.issues;
      // The problem and where it is; never the value, which may be a token.
      const problem = issue ? `${where(issue.path)}: ${issue.message}` : 'The body is not an array of { token, type, url, source }';
      return error(400, 'invalid_request', problem);
    }

    const labels: Label[] = [];
    const revoked: string[] = [];
    for (const report of reports.data) {
      const verdict = await tokens.reportLeak({ actor: LEAK_REPORT_ACTOR, ipAddress: address }, report.token, report.url);
      labels.push(verdict.issued ? 'true_positive' : 'false_positive');
      if (verdict.issued) revoked.push(...verdict.revoked.keys);
    }
    const truePositives = labels.filter((label) => label === 'true_positive').length;
    // Keys are public; the strings reported are not, and are not logged.
    if (truePositives > 0) logger.warn({ address, reports: labels.length, truePositives, revoked }, 'leaked tokens reported');
    else logger.info({ address, reports: labels.length }, 'leak report with no Tessera token');
    const body = reports.data.map((report, index) => ({ token_raw: report.token, token_type: report.type, label: labels[index] }));
    return { status: 200, body: JSON.stringify(body) };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const forwardedFor = request.headers['x-forwarded-for'];
    const address = clientAddress(request, typeof forwardedFor === 'string' ? forwardedFor : null, trustedProxies);
    let result: Answer;
    try {
      result = await answer(request, address);
    } catch (failure) {
      if (failure instanceof ClientGone) throw failure;
      const unavailable = unavailability(failure);
      if (unavailable) {
        logger.error({ code: unavailable.code, err: failure }, 'database unavailable');
        result = error(503, 'temporarily_unavailable', unavailable.message, unavailable.headers);
      } else {
        logger.error({ err: failure }, 'unexpected error');
        result = error(500, 'server_error', 'Unexpected error.');
      }
    }
    response.writeHead(result.status, { ...HEADERS, ...result.headers, 'content-length': String(Buffer.byteLength(result.body)) });
    response.end(result.body);
  };

  return (request, response) => {
    handle(request, response).catch((failure: unknown) => {
      logger.debug({ err: failure }, 'could not answer a leak report');
      if (!response.headersSent) response.destroy();
    });
  };
}
