import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Authentication, AuthenticationFailure, Authenticator } from '../domain/authentication.ts';
import type { Logger } from '../logger.ts';
import { clientAddress } from './client-address.ts';
import { presentedToken } from './credentials.ts';
import { FailureLimiter } from './failure-limiter.ts';
import { isOAuthRequest } from './oauth.ts';

export type ServerContext = { req?: IncomingMessage };
export type SuccessfulAuthentication = Extract<Authentication, { ok: true }>;

/** djblets' header and wording for a request authenticated by a deprecated token format. */
export const DEPRECATED_TOKEN_HEADER = 'x-api-token-deprecated';
export const DEPRECATION_WARNING =
  'This token uses a deprecated format. The token can still be used, but you should remove it and generate a new one to take advantage of security improvements.';

const challenge: Record<AuthenticationFailure, string> = {
  missing: 'Bearer realm="tessera"',
  malformed: 'Bearer realm="tessera", error="invalid_token", error_description="The token is not in a format Tessera issues"',
  unknown: 'Bearer realm="tessera", error="invalid_token", error_description="The token is not recognized"',
  invalid: 'Bearer realm="tessera", error="invalid_token", error_description="The token has been revoked"',
  expired: 'Bearer realm="tessera", error="invalid_token", error_description="The token has expired"',
};

/** The refusal in the shape the endpoint speaks: GraphQL's errors, or RFC 6749's error object at the OAuth endpoints. */
function refusal(request: Request, status: number, code: string, message: string, headers: Record<string, string>): Response {
  const body = isOAuthRequest(request)
    ? { error: status === 429 ? 'too_many_requests' : 'invalid_client', error_description: message }
    : { errors: [{ message, extensions: { code } }] };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
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
      const authentication = await authenticator.authenticate(presentedToken(request.headers.get('authorization')), address);
      if (authentication.ok) {
        authentications.set(request, authentication);
        return;
      }
      const { failure } = authentication;
      // Only a credential that was presented and failed counts: a request without one is not a guess.
      const retryAfter = failure === 'missing' ? null : limiter.recordFailure(address ?? 'unknown');
      logger.info({ address, failure, limited: retryAfter !== null }, 'authentication failed');
      if (retryAfter !== null) {
        endResponse(refusal(request, 429, 'RATE_LIMITED', 'Too many failed authentication attempts; try again later', { 'retry-after': String(retryAfter) }));
        return;
      }
      const message = failure === 'missing' ? 'Authentication required' : 'Invalid or expired token';
      endResponse(refusal(request, 401, 'UNAUTHENTICATED', message, { 'www-authenticate': challenge[failure] }));
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
