import type { Plugin } from 'graphql-yoga';
import { InvalidInputError, PermissionDeniedError } from '../domain/errors.ts';
import type { Introspection, TokenService } from '../domain/token-service.ts';
import type { ServerContext, SuccessfulAuthentication } from './authentication-plugin.ts';

/**
 * RFC 7662 introspection and RFC 7009 revocation by value, for resource
 * servers and clients that speak OAuth rather than GraphQL. The caller
 * authenticates with its own Bearer token (authentication-plugin.ts, which
 * runs first); the answers are the domain's, spelled as the RFCs spell them.
 */
export const INTROSPECT_PATH = '/oauth/introspect';
export const REVOKE_PATH = '/oauth/revoke';

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

const oauthError = (status: number, error: string, description: string) => json(status, { error, error_description: description });

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
}

export function oauthPlugin(options: OAuthPluginOptions): Plugin<Record<string, unknown>, ServerContext> {
  const handle = async (request: Request, path: string): Promise<Response> => {
    if (path !== INTROSPECT_PATH && path !== REVOKE_PATH) return oauthError(404, 'not_found', 'No such OAuth endpoint');
    if (request.method !== 'POST') return json(405, { error: 'invalid_request', error_description: 'Use POST' }, { allow: 'POST' });
    const authentication = options.authentications.get(request);
    // The authentication plugin answers every request it cannot authenticate.
    if (!authentication) throw new Error('OAuth endpoint reached without authentication');
    const form = await readForm(request);
    if (!form) return oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded');
    const token = form.get('token');
    if (!token) return oauthError(400, 'invalid_request', 'The token parameter is missing');
    const { actor } = authentication;

    if (path === REVOKE_PATH) {
      // RFC 7009 §2.2: 200 and an empty body, whether or not anything was revoked.
      await options.tokens.revokeByValue(actor, token);
      return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
    }
    const resource = form.get('resource');
    const method = form.get('method');
    const access = resource !== null || method !== null ? { resource: resource ?? '', method: method ?? '', resourceId: form.get('resource_id') } : null;
    try {
      return json(200, introspectionResponse(await options.tokens.introspectToken(actor, token, access)));
    } catch (error) {
      if (error instanceof PermissionDeniedError) return oauthError(403, 'insufficient_scope', error.message);
      if (error instanceof InvalidInputError) return oauthError(400, 'invalid_request', error.message);
      throw error;
    }
  };

  return {
    async onRequest({ request, url, endResponse }) {
      if (url.pathname.startsWith('/oauth/')) endResponse(await handle(request, url.pathname));
    },
  };
}
