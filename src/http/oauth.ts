import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidInputError, PermissionDeniedError } from '../domain/errors.ts';
import type { Actor } from '../domain/model.ts';
import type { Introspection, PresentedToken, TokenService } from '../domain/token-service.ts';
import type { Logger } from '../logger.ts';
import { DEPRECATION_HEADERS, type RequestAuthenticator } from './authenticate-request.ts';
import { unavailability } from './errors.ts';
import type { OAuthErrorCode, Refusal } from './refusal.ts';
import { ClientGone, readBody } from './read-body.ts';
import { bodyLengthRefusal } from './request-limits.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

/**
 * RFC 7662 introspection and RFC 7009 revocation by value, for resource
 * servers and clients that speak OAuth rather than GraphQL. Introspection is
 * the hot path of a deployment (a resource server asks on every request it
 * receives), so these endpoints are served straight from node:http, beside
 * yoga rather than through it: the caller's authentication and the failure
 * limit (authenticate-request.ts, the same code and the same counts as
 * GraphQL's), the request limits, the form, the domain's answer, and nothing
 * of GraphQL's. Nothing is cached between requests: a revocation counts from
 * the very next introspection, on every process.
 */
const OAUTH_PREFIX = '/oauth/';
const INTROSPECT_PATH = '/oauth/introspect';
const REVOKE_PATH = '/oauth/revoke';

/** Whether node's request target (path and query) is one of the OAuth endpoints' paths. */
export function isOAuthTarget(target: string | undefined): boolean {
  return target?.startsWith(OAUTH_PREFIX) ?? false;
}

/** The code that goes with a status when nothing more specific is known. */
function oauthErrorCode(status: number): OAuthErrorCode {
  if (status === 401) return 'invalid_token';
  if (status === 403) return 'insufficient_scope';
  if (status === 429 || status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

/** One answer of an endpoint: a JSON body, or none (RFC 7009's 200, a preflight's 204). */
interface OAuthAnswer {
  status: number;
  body: string | null;
  headers?: Record<string, string>;
}

/**
 * The one spelling of every error an OAuth endpoint answers, whoever answers
 * it (this handler, authentication, the request limits): RFC 6749 §5.2's
 * `{ "error", "error_description" }`, never cached.
 */
function oauthError(status: number, description: string, options: { error?: OAuthErrorCode; headers?: Record<string, string> } = {}): OAuthAnswer {
  return { status, body: JSON.stringify({ error: options.error ?? oauthErrorCode(status), error_description: description }), headers: options.headers };
}

/** A refusal made before the endpoint's own work (authentication, request limits), in RFC 6749's shape. */
function oauthRefusal({ status, message, headers, oauthError: error }: Refusal): OAuthAnswer {
  return oauthError(status, message, { error, headers });
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

const INACTIVE_BODY = JSON.stringify({ active: false });

// Built once per process: every answer carries the security headers and, about tokens, is never cached (RFC 6749 §5.1).
const BASE_HEADERS: Readonly<Record<string, string>> = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };
const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json; charset=utf-8', ...BASE_HEADERS, pragma: 'no-cache' };

/** Whether the request's body is a form (RFC 7662 §2.1, RFC 7009 §2.1). */
function isForm(request: IncomingMessage): boolean {
  return request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded') ?? false;
}

/** URLSearchParams: its decoding is the standard's, and a home-made parser saved 0.3 µs a request (measured), nothing beside the lookups. */
async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(request));
}

/** An introspection's form, read before its caller is authenticated, and the lookup of the token it asks about. */
interface Introspecting {
  form: URLSearchParams;
  presented: PresentedToken | undefined;
}

export interface OAuthHandlerOptions {
  tokens: TokenService;
  /** The process's one request authenticator, which GraphQL shares (and with it the failure limit). */
  requests: RequestAuthenticator;
  /** The origins a browser may call from (TESSERA_CORS_ORIGINS), as yoga allows them for /graphql. */
  corsOrigins: readonly string[];
  logger: Logger;
}

export type OAuthHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** The node:http handler of every request under /oauth/ (app.ts routes them here, everything else to yoga). */
export function oauthHandler(options: OAuthHandlerOptions): OAuthHandler {
  const { tokens, requests, logger } = options;
  // CORS as yoga's for /graphql (yoga.ts), so that a browser sees the same answers as before these endpoints left yoga: closed
  // unless the request's origin is named, then it alone is allowed, without credentials.
  const allowHeaders = 'authorization, content-type, x-graphql-yoga-csrf';
  const corsByOrigin = new Map<string, Readonly<Record<string, string>>>(
    options.corsOrigins.map((origin) => [
      origin,
      { 'access-control-allow-origin': origin, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': allowHeaders },
    ]),
  );

  const send = (response: ServerResponse, answer: OAuthAnswer, cors: Readonly<Record<string, string>> | undefined, deprecated: boolean): void => {
    const { status, body } = answer;
    const headers =
      cors === undefined && !deprecated && answer.headers === undefined
        ? { ...(body === null ? BASE_HEADERS : JSON_HEADERS), 'content-length': body === null ? '0' : String(Buffer.byteLength(body)) }
        : {
            ...(body === null ? BASE_HEADERS : JSON_HEADERS),
            ...cors,
            ...(deprecated ? DEPRECATION_HEADERS : {}),
            ...answer.headers,
            'content-length': body === null ? '0' : String(Buffer.byteLength(body)),
          };
    response.writeHead(status, headers);
    response.end(body ?? undefined);
  };

  /**
   * What the endpoint answers an authenticated request. An introspection's form
   * has been read before its caller was authenticated, and the token it asks
   * about looked up beside the caller (handle, below).
   */
  const answer = async (request: IncomingMessage, path: string, actor: Actor, introspection?: Introspecting): Promise<OAuthAnswer> => {
    if (path !== INTROSPECT_PATH && path !== REVOKE_PATH) return oauthError(404, 'No such OAuth endpoint');
    if (request.method !== 'POST') return oauthError(405, 'Use POST', { headers: { allow: 'POST' } });
    if (!isForm(request)) return oauthError(415, 'The body must be application/x-www-form-urlencoded');
    const form = introspection?.form ?? (await readForm(request));
    const token = form.get('token');
    if (!token) return oauthError(400, 'The token parameter is missing');

    if (path === REVOKE_PATH) {
      // RFC 7009 §2.1: a client may not revoke a token it has no right to; anything
      // else (revoked, or nothing to revoke) is 200 and an empty body (§2.2).
      const outcome = await tokens.revokeByValue(actor, token);
      if (outcome === 'not-permitted') return oauthError(400, 'The caller may not revoke this token', { error: 'unauthorized_client' });
      return { status: 200, body: null };
    }
    const resource = form.get('resource');
    const method = form.get('method');
    const access = resource !== null || method !== null ? { resource: resource ?? '', method: method ?? '', resourceId: form.get('resource_id') } : null;
    try {
      const result = await tokens.introspectToken(actor, introspection?.presented ?? token, access);
      return { status: 200, body: result.active ? JSON.stringify(introspectionResponse(result)) : INACTIVE_BODY };
    } catch (error) {
      if (error instanceof PermissionDeniedError) return oauthError(403, error.message);
      if (error instanceof InvalidInputError) return oauthError(400, error.message);
      throw error;
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const { origin } = request.headers;
    const cors = origin === undefined ? undefined : corsByOrigin.get(origin);
    // A preflight carries no credentials; from an origin not named it gets no Access-Control header, which tells the browser no.
    if (request.method === 'OPTIONS') return send(response, { status: 204, body: null }, cors, false);
    if (request.method === 'POST') {
      const refused = bodyLengthRefusal(request.headers['content-length']);
      if (refused) return send(response, oauthRefusal(refused), cors, false);
    }
    const target = request.url ?? '';
    const queryStart = target.indexOf('?');
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    // An introspection's form is read first, so that the token it asks about is looked up beside the caller, in the
    // same turn of the event loop: on PostgreSQL both lookups leave in one statement, a round trip less.
    const form = path === INTROSPECT_PATH && request.method === 'POST' && isForm(request) ? await readForm(request) : undefined;
    const authorization = request.headers.authorization ?? null;
    const forwardedFor = request.headers['x-forwarded-for'];
    const authenticating = requests.authenticate(request, authorization, typeof forwardedFor === 'string' ? forwardedFor : null);
    const presented = form?.get('token');
    const introspection = form && { form, presented: presented ? tokens.lookUpPresented(presented) : undefined };
    const outcome = await authenticating;
    if (!outcome.ok) return send(response, oauthRefusal(outcome.refusal), cors, false);
    const { actor, deprecated } = outcome.authentication;
    try {
      send(response, await answer(request, path, actor, introspection), cors, deprecated);
    } catch (error) {
      if (error instanceof ClientGone) throw error;
      // Faults too are answered in RFC 6749's shape.
      const unavailable = unavailability(error);
      if (unavailable) {
        logger.error({ code: unavailable.code, err: error }, 'database unavailable');
        send(response, oauthError(503, unavailable.message, { headers: unavailable.headers }), cors, deprecated);
      } else {
        logger.error({ err: error }, 'unexpected error');
        send(response, oauthError(500, 'Unexpected error.'), cors, deprecated);
      }
    }
  };

  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      // The client went away (its body cut short, or the answer could not be written): nothing is left to answer.
      logger.debug({ err: error }, 'could not answer an OAuth request');
      if (!response.headersSent) response.destroy();
    });
  };
}
