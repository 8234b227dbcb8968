import type { Plugin } from 'graphql-yoga';
import { DEPRECATION_HEADERS, DEPRECATION_WARNING, type RequestAuthenticator } from './authenticate-request.ts';
import { refusal } from './refusal.ts';
import type { ServerContext, SuccessfulAuthentication } from './server-context.ts';

export type { ServerContext, SuccessfulAuthentication };

/** GraphiQL's page holds no data, so a browser may load it before it has a token to put in the headers editor. */
function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

export interface AuthenticationPluginOptions {
  /** The process's one request authenticator, which the OAuth endpoints share (and with it the failure limit). */
  requests: RequestAuthenticator;
  /** Where the plugin leaves each request's authentication for the context factory. */
  authentications: WeakMap<Request, SuccessfulAuthentication>;
}

/** A CORS preflight carries no credentials; the CORS plugin answers it. */
function isPreflight(request: Request): boolean {
  return request.method === 'OPTIONS';
}

/**
 * Every GraphQL request must carry a good token: anything else is answered
 * with 401 (or 429, authenticate-request.ts) before any GraphQL work, so
 * there is never a partial answer.
 */
export function authenticationPlugin(options: AuthenticationPluginOptions): Plugin<Record<string, unknown>, ServerContext> {
  const { requests, authentications } = options;

  return {
    async onRequest({ request, serverContext, endResponse }) {
      if (isGraphiQLPage(request) || isPreflight(request)) return;
      const outcome = await requests.authenticate(serverContext.req, request.headers.get('authorization'), request.headers.get('x-forwarded-for'));
      if (outcome.ok) authentications.set(request, outcome.authentication);
      else endResponse(refusal(outcome.refusal));
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
      for (const [name, value] of Object.entries(DEPRECATION_HEADERS)) response.headers.set(name, value);
    },
  };
}
