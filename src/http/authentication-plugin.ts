import type { Plugin } from 'graphql-yoga';
import type { Authentication, AuthenticationFailure, Authenticator } from '../domain/authentication.ts';
import type { Logger } from '../logger.ts';
import { clientAddress } from './client-address.ts';
import { presentedToken } from './credentials.ts';
import { unavailability } from './errors.ts';
import { FailureLimiter } from './failure-limiter.ts';
import { refusal, type Refusal } from './refusal.ts';
import type { ServerContext, SuccessfulAuthentication } from './server-context.ts';

export type { ServerContext, SuccessfulAuthentication };

/** djblets' header and wording for a request authenticated by a deprecated token format. */
const DEPRECATED_TOKEN_HEADER = 'x-api-token-deprecated';
const DEPRECATION_WARNING =
  'This token uses a deprecated format. The token can still be used, but you should remove it and generate a new one to take advantage of security improvements.';

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
      { status: 401, code: 'UNAUTHENTICATED', message: 'Authentication required', oauthError: 'invalid_client', headers: { 'www-authenticate': MISSING_CHALLENGE } }
    : { status: 401, code: 'UNAUTHENTICATED', message: 'The access token is invalid', oauthError: 'invalid_token', headers: { 'www-authenticate': INVALID_TOKEN_CHALLENGE } };
}

/** GraphiQL's page holds no data, so a browser may load it before it has a token to put in the headers editor. */
function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

export interface AuthenticationPluginOptions {
  authenticator: Authenticator;
  trustedProxies: number;
  failuresPerMinute: number;
  /** Where the plugin leaves each request's authentication for the context factory. */
  authentications: WeakMap<Request, SuccessfulAuthentication>;
  logger: Logger;
}

/** A CORS preflight carries no credentials; the CORS plugin answers it. */
function isPreflight(request: Request): boolean {
  return request.method === 'OPTIONS';
}

/**
 * Every request (GraphQL, and the OAuth endpoints) must carry a good token: anything else is answered
 * with 401 before any GraphQL work, so there is never a partial answer.
 * Credentials that keep failing from one address get 429 instead, for the
 * rest of the minute; a good credential is always let through.
 */
export function authenticationPlugin(options: AuthenticationPluginOptions): Plugin<Record<string, unknown>, ServerContext> {
  const { authenticator, authentications, logger } = options;
  // In memory, per process: enough to slow guessing down; a fleet behind a
  // load balancer would keep these counts in a shared store.
  const limiter = new FailureLimiter(options.failuresPerMinute);

  return {
    async onRequest({ request, serverContext, endResponse }) {
      if (isGraphiQLPage(request) || isPreflight(request)) return;
      const address = clientAddress(serverContext.req, request.headers.get('x-forwarded-for'), options.trustedProxies);
      let authentication: Authentication;
      try {
        authentication = await authenticator.authenticate(presentedToken(request.headers.get('authorization')), address);
      } catch (error) {
        // The database cannot answer who this is: that is neither a refusal of the credential nor a masked 500.
        const unavailable = unavailability(error);
        logger.error({ code: unavailable?.code, err: error }, unavailable ? 'database unavailable' : 'unexpected error');
        endResponse(
          refusal(
            request,
            unavailable
              ? { status: 503, code: unavailable.code, message: unavailable.message, headers: unavailable.headers }
              : { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' },
          ),
        );
        return;
      }
      if (authentication.ok) {
        authentications.set(request, authentication);
        return;
      }
      const { failure } = authentication;
      // Only a credential that was presented and failed counts: a request without one is not a guess.
      const retryAfter = failure === 'missing' ? null : limiter.recordFailure(address ?? 'unknown');
      logger.info({ address, failure, limited: retryAfter !== null }, 'authentication failed');
      if (retryAfter !== null) {
        const message = 'Too many failed authentication attempts; try again later';
        endResponse(refusal(request, { status: 429, code: 'RATE_LIMITED', message, headers: { 'retry-after': String(retryAfter) } }));
        return;
      }
      endResponse(refusal(request, unauthenticated(failure)));
    },
    onExecutionResult({ request, result, setResult }) {
      if (!authentications.get(request)?.deprecated || !result || Symbol.asyncIterator in result) return;
      setResult({
        ...result,
        extensions: { ...result.extensions, warnings: [{ code: 'DEPRECATED_TOKEN', message: DEPRECATION_WARNING }] },
      });
    },
    onResponse({ request, response }) {
      if (!authentications.get(request)?.deprecated) return;
      response.headers.set(DEPRECATED_TOKEN_HEADER, DEPRECATION_WARNING);
      response.headers.set('deprecation', 'true');
    },
  };
}
