import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Authentication, AuthenticationFailure, Authenticator } from '../domain/authentication.ts';
import type { Logger } from '../logger.ts';
import { clientAddress } from './client-address.ts';
import { presentedToken } from './credentials.ts';

export type ServerContext = { req?: IncomingMessage };
export type SuccessfulAuthentication = Extract<Authentication, { ok: true }>;

const DEPRECATION_WARNING =
  'This request was authenticated by a legacy_sha1 token, which is deprecated: generate a replacement and revoke this one.';

const challenge: Record<AuthenticationFailure, string> = {
  missing: 'Bearer realm="tessera"',
  malformed: 'Bearer realm="tessera", error="invalid_token", error_description="The token is not in a format Tessera issues"',
  unknown: 'Bearer realm="tessera", error="invalid_token", error_description="The token is not recognized"',
  invalid: 'Bearer realm="tessera", error="invalid_token", error_description="The token has been revoked"',
  expired: 'Bearer realm="tessera", error="invalid_token", error_description="The token has expired"',
};

function jsonResponse(status: number, code: string, message: string, headers: Record<string, string>): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
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

/**
 * Every GraphQL request must carry a good token: anything else is answered
 * with 401 before any GraphQL work, so there is never a partial answer.
 * Addresses that keep failing are refused with 429 for a while.
 */
export function authenticationPlugin(options: AuthenticationPluginOptions): Plugin<Record<string, unknown>, ServerContext> {
  const { authenticator, authentications, logger } = options;
  // In memory, per process: enough to slow guessing down; a fleet behind a
  // load balancer would move this to a shared store (rate-limiter-flexible has them).
  const failures = new RateLimiterMemory({ points: options.failuresPerMinute, duration: 60 });

  return {
    async onRequest({ request, serverContext, endResponse }) {
      if (isGraphiQLPage(request)) return;
      const address = clientAddress(serverContext.req, request.headers.get('x-forwarded-for'), options.trustedProxies);
      const limiterKey = address ?? 'unknown';
      const record = await failures.get(limiterKey);
      if (record && record.consumedPoints >= options.failuresPerMinute) {
        const retryAfter = String(Math.max(1, Math.ceil(record.msBeforeNext / 1000)));
        endResponse(jsonResponse(429, 'RATE_LIMITED', 'Too many failed authentication attempts; try again later', { 'retry-after': retryAfter }));
        return;
      }
      const authentication = await authenticator.authenticate(presentedToken(request.headers.get('authorization')), address);
      if (!authentication.ok) {
        await failures.penalty(limiterKey, 1);
        logger.info({ address, failure: authentication.failure }, 'authentication failed');
        const message = authentication.failure === 'missing' ? 'Authentication required' : 'Invalid or expired token';
        endResponse(jsonResponse(401, 'UNAUTHENTICATED', message, { 'www-authenticate': challenge[authentication.failure] }));
        return;
      }
      authentications.set(request, authentication);
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
      response.headers.set('deprecation', 'true');
      response.headers.set('warning', `299 tessera "${DEPRECATION_WARNING}"`);
    },
  };
}
