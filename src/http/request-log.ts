import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { redact } from '../domain/errors.ts';
import type { Logger } from '../logger.ts';
import { clientAddress } from './client-address.ts';
import type { ServerContext } from './server-context.ts';

/** What a mutation changed, as its line says it: keys and counts, never a secret. */
type RequestChanges = Readonly<Record<string, string | number>>;

/**
 * The one info line each request leaves in the log, filled in as the request
 * goes (authentication, GraphQL, the resolvers) and written when its response
 * closes. Every field exists from the start, so that every line has one shape;
 * pino leaves out the undefined ones. Never a token, a header or a body.
 */
export interface RequestLine {
  reqId: string;
  method: string | undefined;
  path: string;
  status: number;
  /** The start time until the response closes, then the duration in milliseconds. */
  ms: number;
  /** The username, or a reserved name (`<bootstrap>`). */
  actor: string | undefined;
  address: string | null | undefined;
  operation: string | undefined;
  operationType: string | undefined;
  changes: RequestChanges | undefined;
  /** Why the credential was refused (authenticate-request.ts); such lines are summarized in a storm. */
  failure: string | undefined;
  limited: boolean | undefined;
  /** false when the client went away before the answer was complete. */
  completed: boolean | undefined;
}

const REQUEST_ID_HEADER = 'x-request-id';
/** A request id a trusted proxy may set: short, and of the characters such ids are made of. */
const REQUEST_ID = /^[A-Za-z0-9._:@=+/-]{1,128}$/;
/** Failed-credential lines logged per address per minute; the rest are counted in one summary line. */
const FAILURES_LOGGED_PER_MINUTE = 10;
const SUMMARY_INTERVAL_MS = 60_000;
/** Addresses tracked per minute; past it, the others share one count (a storm from many addresses cannot grow the map). */
const MAX_TRACKED_ADDRESSES = 10_000;
const OTHER_ADDRESSES = '(other addresses)';

export interface RequestLogOptions {
  logger: Logger;
  /** TESSERA_TRUST_PROXY: only behind a trusted proxy is a request's own X-Request-Id taken. */
  trustedProxies: number;
}

/**
 * The request log (one line per request, on every route: GraphQL, /oauth/*,
 * the probes) and the request id: a trusted proxy's X-Request-Id, else a new
 * UUID, echoed in the response's X-Request-Id so that a client's report can
 * be found in the log. Failed credentials are logged as they come, up to
 * FAILURES_LOGGED_PER_MINUTE per address per minute; past that, one summary
 * line per address per minute says how many were left out.
 */
export class RequestLog {
  private readonly lines = new WeakMap<IncomingMessage, RequestLine>();
  private readonly failures = new Map<string, number>();
  private readonly summaryTimer: NodeJS.Timeout;
  /** One listener for every response (no closure per request). */
  private readonly onClose: (this: ServerResponse) => void;

  constructor(private readonly options: RequestLogOptions) {
    const log = this;
    this.onClose = function (this: ServerResponse) {
      log.write(this);
    };
    this.summaryTimer = setInterval(() => this.summarizeFailures(), SUMMARY_INTERVAL_MS);
    this.summaryTimer.unref();
  }

  /** Wraps the server's request listener: every request gets its id, and its line once its response closes. */
  listener(handler: RequestListener): RequestListener {
    return (request, response) => {
      const reqId = this.requestId(request);
      response.setHeader(REQUEST_ID_HEADER, reqId);
      if (this.options.logger.isLevelEnabled('info')) {
        this.lines.set(request, newLine(reqId, request));
        response.on('close', this.onClose);
      }
      handler(request, response);
    };
  }

  /** The line of a request in progress (undefined when the log is below info level). */
  lineOf(request: IncomingMessage | undefined): RequestLine | undefined {
    return request === undefined ? undefined : this.lines.get(request);
  }

  /** Writes the pending summaries and stops the timer (the server is closing). */
  close(): void {
    clearInterval(this.summaryTimer);
    this.summarizeFailures();
  }

  private requestId(request: IncomingMessage): string {
    if (this.options.trustedProxies > 0) {
      const given = request.headers[REQUEST_ID_HEADER];
      if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
    }
    return randomUUID();
  }

  private write(response: ServerResponse): void {
    const request = response.req;
    const line = this.lines.get(request);
    if (!line) return;
    this.lines.delete(request);
    line.status = response.statusCode;
    line.ms = Math.round((performance.now() - line.ms) * 10) / 10;
    if (!response.writableFinished) line.completed = false;
    const forwardedFor = request.headers['x-forwarded-for'];
    line.address = clientAddress(request, typeof forwardedFor === 'string' ? forwardedFor : null, this.options.trustedProxies);
    if (line.failure === undefined) {
      this.options.logger.info(line, 'request');
    } else if (this.countFailure(line.address ?? 'unknown') <= FAILURES_LOGGED_PER_MINUTE) {
      this.options.logger.info(line, 'authentication failed');
    }
  }

  /** This minute's failures from `address`, this one included. */
  private countFailure(address: string): number {
    const key = this.failures.has(address) || this.failures.size < MAX_TRACKED_ADDRESSES ? address : OTHER_ADDRESSES;
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    return count;
  }

  private summarizeFailures(): void {
    for (const [address, failures] of this.failures) {
      if (failures > FAILURES_LOGGED_PER_MINUTE) {
        this.options.logger.info(
          { address, failures, notLogged: failures - FAILURES_LOGGED_PER_MINUTE, seconds: SUMMARY_INTERVAL_MS / 1000 },
          'authentication failures summarized',
        );
      }
    }
    this.failures.clear();
  }
}

function newLine(reqId: string, request: IncomingMessage): RequestLine {
  const target = request.url ?? '';
  const queryStart = target.indexOf('?');
  // The query string is left out: a GET /graphql carries the whole query (and its variables) there.
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  return {
    reqId,
    method: request.method,
    path: path.length < 32 ? path : redact(path),
    status: 0,
    ms: performance.now(),
    actor: undefined,
    address: undefined,
    operation: undefined,
    operationType: undefined,
    changes: undefined,
    failure: undefined,
    limited: undefined,
    completed: undefined,
  };
}

/** Notes each GraphQL operation's name and type on its request's line. */
export function requestLogPlugin(log: RequestLog): Plugin<Record<string, unknown>, ServerContext> {
  const note = ({ args }: { args: { document: DocumentNode; operationName?: string | null; contextValue: unknown } }) => {
    const line = log.lineOf((args.contextValue as ServerContext).req);
    if (!line) return;
    const operation = getOperationAST(args.document, args.operationName);
    // Client-chosen: a name long enough to be a pasted token is cut short, as every logged input is.
    const name = operation?.name?.value;
    line.operation = name === undefined ? undefined : redact(name);
    line.operationType = operation?.operation;
  };
  return { onExecute: note, onSubscribe: note };
}
