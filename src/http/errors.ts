import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { databaseFault, type DatabaseFault } from '../db/faults.ts';
import { DomainError, InvalidInputError, redact } from '../domain/errors.ts';
import type { Logger } from '../logger.ts';

/**
 * What leaves the server when something goes wrong: client errors keep their
 * message (cut short where it could carry a secret) and gain a code;
 * unexpected faults are masked in the response and logged in full.
 */

/** A fault of the request (bad input, refused query, a domain rule), as opposed to a fault of the server. */
function isClientError(error: unknown): boolean {
  if (error instanceof DomainError) return true;
  if (!(error instanceof GraphQLError)) return false;
  const original = error.originalError;
  // Scalars refuse variables with a GraphQLError of their own.
  return original == null || original instanceof DomainError || original instanceof GraphQLError;
}

function codeOf(error: GraphQLError): string {
  const original = error.originalError;
  if (original instanceof DomainError) return original.code;
  if (typeof error.extensions?.code === 'string') return error.extensions.code;
  // Variables that cannot be coerced (Int out of range, a DateTime that is not one).
  return original instanceof GraphQLError || error.message.startsWith('Variable "$') ? 'BAD_USER_INPUT' : 'BAD_REQUEST';
}

/** How long a client is told to wait when the database is full, read-only or gone: these pass in seconds to minutes. */
const DATABASE_RETRY_AFTER_SECONDS = 30;

const FAULT_MESSAGES: Record<DatabaseFault, string> = {
  STORAGE_FULL: 'The database is full: nothing can be written until space is freed. Try again later',
  DATABASE_READ_ONLY: 'The database is read-only for now: nothing can be written. Try again later',
  DATABASE_UNAVAILABLE: 'The database cannot be reached. Try again later',
};

/** What a client is told when its request met a database fault: HTTP 503, a code, and when to retry. */
interface Unavailability {
  code: DatabaseFault;
  message: string;
  headers: { 'retry-after': string };
}

/** The 503 for an error that is a fault of the database itself, else null. */
export function unavailability(error: unknown): Unavailability | null {
  const fault = databaseFault(error);
  return fault && { code: fault, message: FAULT_MESSAGES[fault], headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } };
}

export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  const unavailable = unavailability(error);
  if (unavailable) {
    const located = error instanceof GraphQLError ? error : undefined;
    return new GraphQLError(unavailable.message, {
      nodes: located?.nodes,
      source: located?.source,
      positions: located?.positions,
      path: located?.path,
      // Yoga turns `http` into the response's status and headers, and leaves it out of the body.
      extensions: { code: unavailable.code, http: { status: 503, headers: unavailable.headers } },
    });
  }
  if (!(error instanceof GraphQLError) || !isClientError(error)) return yogaMaskError(error, message, isDev);
  const original = error.originalError;
  // originalError (yoga puts the unparsable body there) never leaves the server. Yoga reads it too: an
  // error without one counts as a GraphQL error, which application/json answers with 200 when marked
  // `spec`. A body that is not JSON is no GraphQL request at all: its mark goes too, and yoga's 400 stands.
  // graphql-jit's errors (yoga.ts) carry no extensions object at all when their original error has none.
  const { originalError: hidden, ...extensions } = error.extensions ?? {};
  if (hidden != null && !(hidden instanceof GraphQLError) && typeof extensions.http === 'object' && extensions.http !== null) {
    const { spec: _answerableWith200, ...status } = extensions.http as Record<string, unknown>;
    extensions.http = status;
  }
  return new GraphQLError(redact(original instanceof DomainError ? original.message : error.message), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: {
      ...extensions,
      code: codeOf(error),
      ...(original instanceof InvalidInputError && original.field ? { field: original.field } : {}),
    },
  });
}

/** graphql-yoga's logger interface (its package does not export the type). */
type YogaLogger = Record<'debug' | 'info' | 'warn' | 'error', (...args: unknown[]) => void>;

/**
 * The logger yoga writes through. Yoga logs every error it masks at error
 * level; client errors are the client's business, so they go to info, as a
 * code and a short message without a stack. Yoga's debug lines carry whole
 * requests (variables included, where a token string may be): only their
 * message is kept.
 */
export function yogaLogger(logger: Logger): YogaLogger {
  // Yoga logs at debug on every request: the level is checked before any work.
  const line =
    (level: 'debug' | 'info' | 'warn') =>
    (...args: unknown[]) => {
      if (logger.isLevelEnabled(level)) logger[level](typeof args[0] === 'string' ? redact(args[0]) : 'graphql-yoga');
    };
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: (...args: unknown[]) => {
      const [error] = args;
      const unavailable = unavailability(error);
      if (unavailable) {
        logger.error({ code: unavailable.code, err: error }, 'database unavailable');
      } else if (isClientError(error)) {
        const graphQLError = error as GraphQLError | DomainError;
        const code = graphQLError instanceof GraphQLError ? codeOf(graphQLError) : graphQLError.code;
        logger.info({ code, message: redact(graphQLError.message) }, 'request refused');
      } else {
        logger.error({ err: error }, 'unexpected error');
      }
    },
  };
}
