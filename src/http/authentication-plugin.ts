import type { IncomingMessage } from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DEPRECATION_HEADERS, DEPRECATION_WARNING, type RequestAuthenticator } from './authenticate-request.ts';
import { refusal } from './refusal.ts';
import type { ServerContext, SuccessfulAuthentication } from './server-context.ts';

export type { ServerContext, SuccessfulAuthentication };

/**
 * Each request's authentication, by node's request: made once, by whichever path
 * meets the request first (this plugin, or graphql-direct.ts, which may hand the
 * request on to yoga), and read by the context factory.
 */
export type Authentications = WeakMap<IncomingMessage, SuccessfulAuthentication>;

/** GraphiQL's page holds no data, so a browser may load it before it has a token to put in the headers editor. */
function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

export interface AuthenticationPluginOptions {
  /** The process's one request authenticator, which the OAuth endpoints share (and with it the failure limit). */
  requests: RequestAuthenticator;
  /** Where the plugin leaves each request's authentication for the context factory. */
  authentications: Authentications;
}

/** A CORS preflight carries no credentials; the CORS plugin answers it. */
function isPreflight(request: Request): boolean {
  return request.method === 'OPTIONS';
}

/** djblets' warning, in a result's extensions, for a request authenticated by a deprecated token format. */
export function withDeprecationWarning<Result extends ExecutionResult>(result: Result): Result {
  return { ...result, extensions: { ...result.extensions, warnings: [{ code: 'DEPRECATED_TOKEN', message: DEPRECATION_WARNING }] } };
}

/**
 * Every GraphQL request must carry a good token: anything else is answered
 * with 401 (or 429, authenticate-request.ts) before any GraphQL work, so
 * there is never a partial answer.
 */
export function authenticationPlugin(options: AuthenticationPluginOptions): Plugin<Record<string, unknown>, ServerContext> {
  const { requests, authentications } = options;
  const authenticationOf = (serverContext: ServerContext) => (serverContext.req ? authentications.get(serverContext.req) : undefined);

  return {
    async onRequest({ request, serverContext, endResponse }) {
      if (isGraphiQLPage(request) || isPreflight(request) || authenticationOf(serverContext)) return;
      const outcome = await requests.authenticate(serverContext.req, request.headers.get('authorization'), request.headers.get('x-forwarded-for'));
      if (!outcome.ok) endResponse(refusal(outcome.refusal));
      else if (serverContext.req) authentications.set(serverContext.req, outcome.authentication);
      else throw new Error('yoga reached without a node request');
    },
    onExecutionResult({ context, result, setResult }) {
      if (!authenticationOf(context)?.deprecated || !result || Symbol.asyncIterator in result) return;
      setResult(withDeprecationWarning(result));
    },
    onResponse({ serverContext, response }) {
      if (!authenticationOf(serverContext)?.deprecated) return;
      for (const [name, value] of Object.entries(DEPRECATION_HEADERS)) response.headers.set(name, value);
    },
  };
}
