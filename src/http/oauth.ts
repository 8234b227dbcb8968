import type { Plugin } from 'graphql-yoga';
import { InvalidInputError, PermissionDeniedError } from '../domain/errors.ts';
import type { Introspection, TokenService } from '../domain/token-service.ts';
import type { Logger } from '../logger.ts';
import type { ServerContext, SuccessfulAuthentication } from './server-context.ts';
import { unavailability } from './errors.ts';

/**
 * RFC 7662 introspection and RFC 7009 revocation by value, for resource
 * servers and clients that speak OAuth rather than GraphQL. The caller
 * authenticates with its own Bearer token (authentication-plugin.ts, which
 * runs first); the answers are the domain's, spelled as the RFCs spell them.
 */
const INTROSPECT_PATH = '/oauth/introspect';
const REVOKE_PATH = '/oauth/revoke';

export function isOAuthRequest(request: Request): boolean {
  return new URL(request.url).pathname.startsWith('/oauth/');
}

function json(status: number, body: object, headers: Record<string, string> = {}): Response {
  // RFC 6749 §5.1: answers about tokens are never cached.
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache', ...headers },
  });
}

/** The error codes of RFC 6749 §5.2 and RFC 6750 §3.1 that the endpoints answer with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unauthorized_client'
  | 'temporarily_unavailable'
  | 'server_error';

/** The code that goes with a status when nothing more specific is known. */
function oauthErrorCode(status: number): OAuthErrorCode {
  if (status === 401) return 'invalid_token';
  if (status === 403) return 'insufficient_scope';
  if (status === 429 || status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

/**
 * The one spelling of every error an OAuth endpoint answers, whoever answers
 * it (this plugin, authentication, the request limits): RFC 6749 §5.2's
 * `{ "error", "error_description" }`, never cached.
 */
export function oauthError(status: number, description: string, options: { error?: OAuthErrorCode; headers?: Record<string, string> } = {}): Response {
  return json(status, { error: options.error ?? oauthErrorCode(status), error_description: description }, options.headers);
}

/** RFC 7662 §2.2's members, with Tessera's own beside them. */
function introspectionResponse(result: Introspection): object {
  if (!result.active) return { active: false };
  return {
    active: true,
    scope: result.scope,
    username: result.username,
    sub: result.username,
    ...(result.exp === null ? {} : { exp: result.exp }),
    iat: result.iat,
    jti: result.key,
    // RFC 7662's token_type is the OAuth one; Gafaelfawr's type is token_class.
    token_type: 'Bearer',
    key: result.key,
    token_class: result.tokenClass,
    policy: result.policy,
    service: result.service,
    parent: result.parent,
    deprecated: result.deprecated,
    ...(result.allowed === undefined ? {} : { allowed: result.allowed }),
  };
}

async function readForm(request: Request): Promise<URLSearchParams | null> {
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return null;
  return new URLSearchParams(await request.text());
}

export interface OAuthPluginOptions {
  tokens: TokenService;
  authentications: WeakMap<Request, SuccessfulAuthentication>;
  logger: Logger;
}

export function oauthPlugin(options: OAuthPluginOptions): Plugin<Record<string, unknown>, ServerContext> {
  const handle = async (request: Request, path: string): Promise<Response> => {
    if (path !== INTROSPECT_PATH && path !== REVOKE_PATH) return oauthError(404, 'No such OAuth endpoint');
    if (request.method !== 'POST') return oauthError(405, 'Use POST', { headers: { allow: 'POST' } });
    const authentication = options.authentications.get(request);
    // The authentication plugin answers every request it cannot authenticate.
    if (!authentication) throw new Error('OAuth endpoint reached without authentication');
    const form = await readForm(request);
    if (!form) return oauthError(415, 'The body must be application/x-www-form-urlencoded');
    const token = form.get('token');
    if (!token) return oauthError(400, 'The token parameter is missing');
    const { actor } = authentication;

    if (path === REVOKE_PATH) {
      // RFC 7009 §2.1: a client may not revoke a token it has no right to; anything
      // else (revoked, or nothing to revoke) is 200 and an empty body (§2.2).
      const outcome = await options.tokens.revokeByValue(actor, token);
      if (outcome === 'not-permitted') return oauthError(400, 'The caller may not revoke this token', { error: 'unauthorized_client' });
      return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
    }
    const resource = form.get('resource');
    const method = form.get('method');
    const access = resource !== null || method !== null ? { resource: resource ?? '', method: method ?? '', resourceId: form.get('resource_id') } : null;
    try {
      return json(200, introspectionResponse(await options.tokens.introspectToken(actor, token, access)));
    } catch (error) {
      if (error instanceof PermissionDeniedError) return oauthError(403, error.message);
      if (error instanceof InvalidInputError) return oauthError(400, error.message);
      throw error;
    }
  };

  return {
    async onRequest({ request, url, endResponse }) {
      if (!url.pathname.startsWith('/oauth/')) return;
      try {
        endResponse(await handle(request, url.pathname));
      } catch (error) {
        // Faults too are answered in RFC 6749's shape, not in GraphQL's.
        const unavailable = unavailability(error);
        if (unavailable) {
          options.logger.error({ code: unavailable.code, err: error }, 'database unavailable');
          endResponse(oauthError(503, unavailable.message, { headers: unavailable.headers }));
        } else {
          options.logger.error({ err: error }, 'unexpected error');
          endResponse(oauthError(500, 'Unexpected error.'));
        }
      }
    },
  };
}
