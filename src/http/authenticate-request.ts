import type { IncomingMessage } from 'node:http';
import type { Authentication, AuthenticationFailure, Authenticator } from '../domain/authentication.ts';
import type { Logger } from '../logger.ts';
import { AUTHENTICATION_OUTCOMES, type AuthenticationOutcome, type TesseraMetrics } from '../metrics.ts';
import { clientAddress } from './client-address.ts';
import { presentedToken } from './credentials.ts';
import { unavailability } from './errors.ts';
import type { FailureCounter } from './failure-counter.ts';
import type { Refusal } from './refusal.ts';
import type { RequestLog } from './request-log.ts';
import type { SuccessfulAuthentication } from './server-context.ts';

/** djblets' header and wording for a request authenticated by a deprecated token format. */
const DEPRECATED_TOKEN_HEADER = 'x-api-token-deprecated';
export const DEPRECATION_WARNING =
  'This token uses a deprecated format. The token can still be used, but you should remove it and generate a new one to take advantage of security improvements.';
/** What every answer to a request authenticated by a deprecated token format carries. */
export const DEPRECATION_HEADERS: Readonly<Record<string, string>> = { [DEPRECATED_TOKEN_HEADER]: DEPRECATION_WARNING, deprecation: 'true' };

/**
 * RFC 6750 §3: a request without credentials gets a bare challenge; every presented string that
 * fails gets one neutral `invalid_token`, the same whatever the reason (malformed, unknown, revoked
 * or expired), so that a leaked string's holder learns nothing from it. The log keeps the reason.
 */
const MISSING_CHALLENGE = 'Bearer realm="tessera"';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="tessera", error="invalid_token", error_description="The access token is invalid"';

function unauthenticated(failure: AuthenticationFailure): Refusal {
  return failure === 'missing'
    ? // RFC 6749 §5.2: no client authentication included is invalid_client; the challenge carries no error (RFC 6750 §3.1).
      {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'Authentication required',
        oauthError: 'invalid_client',
        headers: { 'www-authenticate': MISSING_CHALLENGE },
      }
    : {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'The access token is invalid',
        oauthError: 'invalid_token',
        headers: { 'www-authenticate': INVALID_TOKEN_CHALLENGE },
      };
}

/** Who a request is, or the refusal to answer it with (each endpoint spells it in its own shape: refusal.ts, oauth.ts). */
export type RequestAuthentication = { ok: true; authentication: SuccessfulAuthentication } | { ok: false; refusal: Refusal };

export interface RequestAuthenticatorOptions {
  authenticator: Authenticator;
  trustedProxies: number;
  /** Failed credentials per address: in the database on PostgreSQL, so that every process counts toward one limit. */
  failures: FailureCounter;
  logger: Logger;
  /** Where the request's line is noted: who it is, or why its credential was refused. */
  requestLog?: RequestLog;
  /** tessera_authentications_total. */
  metrics?: Pick<TesseraMetrics, 'authentications'>;
}

type OutcomeCounter = { inc(): void };

/**
 * Authenticates an HTTP request, for every endpoint alike (yoga's plugin for
 * /graphql, the OAuth handler for /oauth/*): the client's address, the
 * presented token, the domain's Authenticator, and the limit on failed
 * credentials. One instance per process serves every endpoint, so failures
 * count toward one limit wherever they are presented. Credentials that keep
 * failing from one address get 429 for the rest of the minute; a good
 * credential is always let through.
 */
export class RequestAuthenticator {
  /** Each outcome's counter, bound once: counting costs the hot path no label lookup. */
  private readonly outcomes: Partial<Record<AuthenticationOutcome, OutcomeCounter>> = {};

  constructor(private readonly options: RequestAuthenticatorOptions) {
    const counter = options.metrics?.authentications;
    if (counter) for (const outcome of AUTHENTICATION_OUTCOMES) this.outcomes[outcome] = counter.labels(outcome);
  }

  /** `connection` is node's request (its socket is the peer); the two headers as the request carries them. */
  async authenticate(connection: IncomingMessage | undefined, authorization: string | null, forwardedFor: string | null): Promise<RequestAuthentication> {
    const { authenticator, logger } = this.options;
    const address = clientAddress(connection, forwardedFor, this.options.trustedProxies);
    let authentication: Authentication;
    try {
      authentication = await authenticator.authenticate(presentedToken(authorization), address);
    } catch (error) {
      // The database cannot answer who this is: that is neither a refusal of the credential nor a masked 500.
      const unavailable = unavailability(error);
      logger.error({ code: unavailable?.code, err: error }, unavailable ? 'database unavailable' : 'unexpected error');
      return {
        ok: false,
        refusal: unavailable
          ? { status: 503, code: unavailable.code, message: unavailable.message, headers: unavailable.headers }
          : { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' },
      };
    }
    const line = this.options.requestLog?.lineOf(connection);
    if (authentication.ok) {
      this.outcomes.ok?.inc();
      if (line) line.actor = authentication.actor.username;
      return { ok: true, authentication };
    }
    const { failure } = authentication;
    // Only a credential that was presented and failed counts: a request without one is not a guess.
    const retryAfter = failure === 'missing' ? null : await this.options.failures.recordFailure(address ?? 'unknown');
    this.outcomes[retryAfter === null ? failure : 'limited']?.inc();
    // The request's own line says it (request-log.ts, which summarizes a storm of them); without one, a line of its own.
    if (line) {
      line.failure = failure;
      line.limited = retryAfter !== null;
    } else {
      logger.info({ address, failure, limited: retryAfter !== null }, 'authentication failed');
    }
    if (retryAfter !== null) {
      const message = 'Too many failed authentication attempts; try again later';
      return { ok: false, refusal: { status: 429, code: 'RATE_LIMITED', message, headers: { 'retry-after': String(retryAfter) } } };
    }
    return { ok: false, refusal: unauthenticated(failure) };
  }
}
