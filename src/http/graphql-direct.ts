import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import { processRegularResult, type GraphQLParams, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { GraphQLContext } from '../graphql/context.ts';
import type { Logger } from '../logger.ts';
import type { RequestAuthenticator } from './authenticate-request.ts';
import { withDeprecationWarning, type Authentications, type ServerContext, type SuccessfulAuthentication } from './authentication-plugin.ts';
import { DEPRECATION_HEADERS } from './authenticate-request.ts';
import { maskError } from './errors.ts';
import { ClientGone, readBody } from './read-body.ts';
import { bodyLengthRefusal } from './request-limits.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

/**
 * The GraphQL requests that make up nearly all of the traffic, served straight
 * from node:http: a POST to /graphql without an Origin (a server or a script,
 * not a browser page), a JSON body holding a query or mutation, answered as one
 * JSON result. They run through yoga's own enveloped parse, validate, context
 * and execute, so every GraphQL plugin applies as before (graphql-armor,
 * validation codes and cache, masked errors, the request log, metrics, and the
 * complexity plugin inside the schema), and the same authenticator and failure
 * limit as every endpoint. What they skip is yoga's HTTP layer: the Fetch API
 * Request and Response built for each request and its chain of hooks, about
 * half of a verification's CPU (measured: 168 → 88 µs a request, req/s 1.9×).
 * No library serves GraphQL over node:http through an existing yoga instance's
 * plugins, hence this file.
 *
 * Anything else goes to yoga as it came (GET, SSE and subscriptions, other
 * content types or Accept values, browsers' requests and their CORS, a body
 * that is not a plain GraphQL request, the first request of a query text and
 * any text that does not parse or validate), with the body already read handed
 * over and the authentication already made kept: yoga answers those exactly as
 * before.
 */

type MediaType = 'application/json' | 'application/graphql-response+json';

/**
 * The media type yoga answers a single result with for this Accept header, or
 * null when that is not one of its two JSON types. yoga (use-result-processor.ts)
 * lets the JSON processor win whenever an asked type matches one of its types;
 * the earliest asked type that matches decides, and where it matches both
 * (a wildcard), application/json. Types asked with a charset other than utf-8 are skipped.
 */
export function jsonMediaType(accept: string | undefined): MediaType | null {
  for (const entry of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [type = '', ...parameters] = entry.split(';');
    const charset = parameters.find((parameter) => parameter.includes('charset=')) ?? 'charset=utf-8';
    if (charset !== 'charset=utf-8') continue;
    const [main, sub] = type.split('/');
    if (main !== '*' && main !== 'application') continue;
    if (sub === '*' || sub === 'json') return 'application/json';
    if (sub === 'graphql-response+json') return 'application/graphql-response+json';
  }
  return null;
}

/** Whether a Content-Type is JSON's exactly as yoga's POST parser tells (request-parser/utils.ts); yoga refuses the rest. */
function isJson(contentType: string | undefined): boolean {
  const first = contentType?.split(',', 1)[0];
  return first === 'application/json' || (first?.startsWith('application/json;') ?? false);
}

/** The parameters of a plain GraphQL request, as yoga reads them; null for any other body, which yoga then answers. */
function graphqlParams(body: string): (GraphQLParams & { query: string }) | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { query, variables, operationName, ...rest } = parsed as Record<string, unknown>;
  // extensions (persisted queries and the like) and unknown parameters are yoga's to judge.
  if (Object.keys(rest).length > 0 || typeof query !== 'string') return null;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  if (operationName != null && typeof operationName !== 'string') return null;
  return { query, variables: (variables ?? undefined) as Record<string, unknown> | undefined, operationName: operationName ?? undefined };
}

/** How many query texts the direct path knows: yoga's own parse cache holds as many. */
const MAX_DOCUMENTS = 1024;

/**
 * The documents yoga has executed, by query text: each one parsed and passed validation there (graphql-armor's
 * limits, every rule), so the direct path runs it again without parsing or validating. The first request of a
 * text goes to yoga, and so does every request of a text that does not parse or validate: yoga answers (and
 * counts) those as before, and the direct path never repeats its work.
 */
export interface KnownDocuments {
  get(query: string): DocumentNode | undefined;
  /** Notes each document yoga executes. */
  plugin: Plugin;
}

export function knownDocuments(): KnownDocuments {
  const documents = new LRUCache<string, DocumentNode>({ max: MAX_DOCUMENTS });
  return {
    get: (query) => documents.get(query),
    plugin: {
      onExecute({ args }) {
        const query = (args.contextValue as { params?: GraphQLParams }).params?.query;
        if (typeof query === 'string' && !documents.has(query)) documents.set(query, args.document);
      },
    },
  };
}

/** The request's body, already read, for yoga (@whatwg-node reads a `body` set on node's request instead of its stream). */
function handOver(request: IncomingMessage, body: string): IncomingMessage {
  return Object.assign(request, { body });
}

const BASE_HEADERS: Readonly<Record<string, string>> = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };
const CONTENT_TYPES: Readonly<Record<MediaType, string>> = {
  'application/json': 'application/json; charset=utf-8',
  'application/graphql-response+json': 'application/graphql-response+json; charset=utf-8',
};

/**
 * Whether a request is one for the direct path, by its line and headers (its body decides the rest): a POST to the
 * endpoint without a query string, from no browser page (no Origin: CORS stays yoga's), with a JSON body whose
 * Content-Length the request limits accept (yoga refuses the others, as before).
 */
export function servedDirectly(request: IncomingMessage, path: string): boolean {
  return (
    request.method === 'POST' &&
    request.url === path &&
    request.headers.origin === undefined &&
    isJson(request.headers['content-type']) &&
    bodyLengthRefusal(request.headers['content-length']) === null
  );
}

export interface DirectGraphQLOptions {
  /** The GraphQL endpoint's path (/graphql). */
  path: string;
  yoga: YogaServerInstance<ServerContext, GraphQLContext>;
  /** The context yoga's context option builds, for a request the direct path has authenticated. */
  contextOf: (authentication: SuccessfulAuthentication, req: IncomingMessage, res: ServerResponse) => GraphQLContext;
  requests: RequestAuthenticator;
  authentications: Authentications;
  documents: KnownDocuments;
  logger: Logger;
}

export interface DirectGraphQL {
  /** Whether the request is one for this path (servedDirectly). */
  takes(request: IncomingMessage): boolean;
  handle(request: IncomingMessage, response: ServerResponse): void;
}

export function directGraphQL({ path, yoga, contextOf, requests, authentications, documents, logger }: DirectGraphQLOptions): DirectGraphQL {
  // Read once: the yoga instance is a proxy that binds a new function on every property read.
  const { getEnveloped, requestListener, fetchAPI } = yoga;
  // envelop's execute takes the context in its arguments: one enveloped instance serves every request (yoga makes
  // one per request for its parse and validate, bound to the context, which this path does not run).
  const { execute, schema } = getEnveloped();

  const send = (response: ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>>): void => {
    response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    response.end(body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const params = graphqlParams(body);
    const mediaType = jsonMediaType(request.headers.accept);
    if (params === null || mediaType === null) return requestListener(handOver(request, body), response);

    const forwardedFor = request.headers['x-forwarded-for'];
    const outcome = await requests.authenticate(request, request.headers.authorization ?? null, typeof forwardedFor === 'string' ? forwardedFor : null);
    if (!outcome.ok) {
      const { status, code, message, headers } = outcome.refusal;
      const refusal = JSON.stringify({ errors: [{ message, extensions: { code } }] });
      return send(response, status, refusal, { 'content-type': CONTENT_TYPES['application/json'], ...headers, ...BASE_HEADERS });
    }
    const { authentication } = outcome;
    // yoga, if it gets the request after all, finds it authenticated and does not ask again.
    const toYoga = () => {
      authentications.set(request, authentication);
      requestListener(handOver(request, body), response);
    };

    const document = documents.get(params.query);
    const operation = document && getOperationAST(document, params.operationName);
    if (!document || !operation || operation.operation === 'subscription') return toYoga();

    let result: ExecutionResult;
    try {
      // What yoga's context factory would make: the server's context, the parameters, and the context option's
      // fields. No plugin of this server extends the context otherwise (onContextBuilding), and the factory's
      // merging of one into the other cost 4 % of a verification's CPU (measured).
      const contextValue = { req: request, res: response, params, ...contextOf(authentication, request, response) };
      result = (await execute({
        schema,
        document,
        contextValue,
        variableValues: params.variables,
        operationName: params.operationName,
      })) as ExecutionResult;
    } catch (error) {
      // yoga answers what escapes execution as a masked error; so does this path, through the same mask.
      if (!(error instanceof GraphQLError)) logger.error({ err: error }, 'unexpected error');
      result = { errors: [maskError(error, 'Unexpected error.') as GraphQLError] };
    }
    const { deprecated } = authentication;
    if (deprecated) result = withDeprecationWarning(result);
    const headers = deprecated ? { ...BASE_HEADERS, ...DEPRECATION_HEADERS } : BASE_HEADERS;
    if (!result.errors?.length && !result.extensions?.http) {
      return send(response, 200, JSON.stringify(result), { 'content-type': CONTENT_TYPES[mediaType], ...headers });
    }
    // Errors decide the status (and may add headers): yoga's own result processor says how.
    const answer = processRegularResult(result, fetchAPI, mediaType);
    const answerHeaders: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      answerHeaders[name] = value;
    });
    send(response, answer.status, await answer.text(), { ...answerHeaders, ...headers });
  };

  return {
    takes: (request) => servedDirectly(request, path),
    handle: (request, response) => {
      handle(request, response).catch((error: unknown) => {
        // The client went away (its body cut short, or the answer could not be written): nothing is left to answer.
        if (!(error instanceof ClientGone)) logger.error({ err: error }, 'could not answer a GraphQL request');
        if (!response.headersSent) response.destroy();
      });
    },
  };
}
