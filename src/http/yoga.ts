import type { IncomingMessage, ServerResponse } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, OperationTypeNode, type DocumentNode, type ValidationContext } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { redact } from '../domain/errors.ts';
import type { TokenService } from '../domain/token-service.ts';
import type { WebhookService } from '../domain/webhooks/service.ts';
import type { LiveFeed } from '../feed/feed.ts';
import type { Pricing } from '../graphql/complexity.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { createLoaders } from '../graphql/loaders.ts';
import { schema } from '../graphql/schema.ts';
import type { Logger } from '../logger.ts';
import type { TesseraMetrics } from '../metrics.ts';
import type { RequestAuthenticator } from './authenticate-request.ts';
import { authenticationPlugin, type Authentications, type ServerContext, type SuccessfulAuthentication } from './authentication-plugin.ts';
import { directGraphQL, knownDocuments, type DirectGraphQL } from './graphql-direct.ts';
import { maskError, yogaLogger } from './errors.ts';
import { graphqlMetricsPlugin } from './graphql-metrics.ts';
import { requestLogPlugin, type RequestLog } from './request-log.ts';
import { requestLimitsPlugin } from './request-limits.ts';
import { securityHeadersPlugin } from './security-headers.ts';

export const GRAPHQL_PATH = '/graphql';

const GRAPHIQL_QUERY = `# Put your token in the Headers tab below:
#   { "Authorization": "Bearer <token>" }
query {
  viewer { username scopes isAdmin }
}
`;

export interface YogaOptions {
  tokens: TokenService;
  webhooks: WebhookService;
  /** Shared with the OAuth endpoints (oauth.ts), which yoga does not serve. */
  requests: RequestAuthenticator;
  corsOrigins: readonly string[];
  pricing: Pricing;
  logger: Logger;
  feed: LiveFeed;
  /** Each request's line: the operation, and what a mutation changed. */
  requestLog: RequestLog;
  metrics: TesseraMetrics;
}

/** Lexical tokens a query may hold (graphql-armor's default): a parser's work is bounded before any other. */
const MAX_QUERY_TOKENS = 1000;

/** graphql-armor throws out of validation by default; reported instead, its refusals join the other validation errors. */
const reportAsValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/**
 * Every error of the validation phase (unknown fields, bad variables, and
 * graphql-armor's depth, alias and token limits) gets a machine-readable code,
 * as the domain's query errors do. These errors do not pass through maskError,
 * and their messages quote the query ("Cannot query field …", where a pasted
 * token string may be): they are redacted here.
 */
const validationErrorCodes: Plugin = {
  onValidate:
    () =>
    ({ result, setResult }) => {
      if (result.length === 0) return;
      setResult(
        result.map((error: Error) =>
          error instanceof GraphQLError
            ? new GraphQLError(redact(error.message), {
                nodes: error.nodes,
                source: error.source,
                positions: error.positions,
                extensions: { ...error.extensions, code: error.extensions.code ?? 'GRAPHQL_VALIDATION_FAILED' },
              })
            : new GraphQLError(redact(error.message), { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
        ),
      );
    },
};

/**
 * Validation results by document. yoga's own cache (turned off below) keys
 * them by the validation rules too, and builds that key on every request by
 * joining the names of the ~30 rules, which envelop hands over as a new array
 * each time (5 % of a verification's CPU). This server has one schema and one
 * rule set for its lifetime, so the parsed document, which yoga's parse cache
 * hands out again for the same query text, is key enough. Last of the
 * plugins, as yoga's is: what it keeps has passed validationErrorCodes.
 */
function validationCache(): Plugin {
  const results = new WeakMap<DocumentNode, readonly Error[]>();
  return {
    onValidate({ params: { documentAST }, setResult }) {
      const cached = results.get(documentAST);
      if (cached) return setResult(cached);
      return ({ result }) => {
        results.set(documentAST, result);
      };
    },
  };
}

/**
 * Queries and mutations run as code that graphql-jit compiles once per
 * document (envelop's plugin), instead of graphql-js walking the document
 * field by field on every request: a history page of 100 entries with their
 * tokens and parents (about 1,000 fields) ran 1.8 times as fast (373 → 688
 * req/s), a verification 1.13 times. The plugin keeps a compiled query by its
 * document alone, compiled for one operation, so a document that holds
 * several operations stays with graphql-js; so do subscriptions (the feed's
 * streams, which graphql-js serves as async iterators).
 */
function compiledExecution(): ReturnType<typeof useGraphQlJit> {
  return useGraphQlJit(
    {},
    {
      enableIf: ({ document }) => {
        const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
        return operations.length === 1 && operations[0]?.operation !== OperationTypeNode.SUBSCRIPTION;
      },
    },
  );
}

/** A preflight from an origin CORS does not allow is answered without any Access-Control header, which tells the browser no. */
const refusePreflights: Plugin = {
  onRequest({ request, endResponse }) {
    if (request.method === 'OPTIONS') endResponse(new Response(null, { status: 204 }));
  },
};

/** What the connection's streams need: a signal for when the client goes away (made on first use), and a way to drop it. */
function connectionOf(req: IncomingMessage | undefined, res: ServerResponse | undefined): GraphQLContext['connection'] {
  let closed: AbortController | undefined;
  return {
    get signal() {
      if (!closed) {
        const controller = new AbortController();
        if (!res || res.closed) controller.abort();
        else res.once('close', () => controller.abort());
        closed = controller;
      }
      return closed.signal;
    },
    close: () => req?.socket.destroy(),
  };
}

export interface GraphQLServer {
  yoga: YogaServerInstance<ServerContext, GraphQLContext>;
  /** The common requests, served beside yoga with its plugins (graphql-direct.ts). */
  direct: DirectGraphQL;
}

export function createGraphQLServer(options: YogaOptions): GraphQLServer {
  const authentications: Authentications = new WeakMap();
  const documents = knownDocuments();
  /** Each request's context, for yoga's requests and for the direct path's alike. */
  const contextOf = (authentication: SuccessfulAuthentication, req: IncomingMessage | undefined, res: ServerResponse | undefined): GraphQLContext => {
    return {
      actor: authentication.actor,
      tokens: options.tokens,
      webhooks: options.webhooks,
      loaders: createLoaders(options.tokens),
      pricing: options.pricing,
      feed: options.feed,
      connection: connectionOf(req, res),
      // Below info level there is no line: the note goes nowhere.
      requestLog: options.requestLog.lineOf(req) ?? { changes: undefined },
    };
  };
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: { title: 'Tessera', defaultQuery: GRAPHIQL_QUERY, headers: '{\n  "Authorization": "Bearer "\n}' },
    // Loaded on the first page view: the module holds GraphiQL's whole bundle
    // as strings, 80 MB of resident memory that an API-only server never needs.
    renderGraphiQL: async (graphiqlOptions) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiqlOptions),
    // requestLimitsPlugin bounds every body by its Content-Length before it is
    // read (and refuses a body without one), so yoga's own limit, which pipes
    // each body through a TransformStream (an AbortController and a
    // DOMException per request, 5 % of the verification path's CPU), adds nothing.
    maxRequestBodySize: false,
    // Documents stay cached by their text; validation results are cached by validationCache below.
    parserAndValidationCache: { validationCache: false },
    logging: yogaLogger(options.logger),
    maskedErrors: { maskError },
    // Closed unless the request's origin is named; then it alone is allowed (tokens travel in the
    // Authorization header, never in cookies, so credentials stay off).
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (origin === null || !options.corsOrigins.includes(origin)) return false;
      // x-graphql-yoga-csrf is no longer required, but clients written when it was still send it.
      return { origin, methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type', 'x-graphql-yoga-csrf'], credentials: false };
    },
    plugins: [
      securityHeadersPlugin,
      refusePreflights,
      requestLimitsPlugin,
      authenticationPlugin({ requests: options.requests, authentications }),
      // No CSRF plugin: a forged cross-site request is one the browser sends on its own, with what it attaches by itself
      // (cookies), and Tessera reads none. Every GraphQL request must carry its token in the Authorization header, which
      // no "simple" cross-site request can set (it needs a preflight, which CORS refuses unless the origin is named), so
      // such a request is answered 401 before GraphQL runs. A CSRF header requirement would protect nothing more, and it
      // broke clients that query over GET (urql's default). Mutations stay POST-only: yoga refuses them over GET (405).
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ...reportAsValidationError },
        maxAliases: { n: 30, ...reportAsValidationError },
        maxDirectives: reportAsValidationError,
        // The token limit is checked while parsing, where there is no validation context to report to: it must throw.
        maxTokens: { n: MAX_QUERY_TOKENS },
        // Cost is priced by the Pothos complexity plugin (graphql/complexity.ts), which sees variables.
        costLimit: { enabled: false },
        blockFieldSuggestion: { enabled: false },
      }),
      validationErrorCodes,
      requestLogPlugin(options.requestLog),
      graphqlMetricsPlugin(options.metrics.registry),
      validationCache(),
      documents.plugin,
      compiledExecution(),
    ],
    context: ({ req, res }) => {
      const authentication = req && authentications.get(req);
      // Every unauthenticated request is answered before GraphQL runs.
      if (!authentication) throw new Error('GraphQL reached without authentication');
      return contextOf(authentication, req, res);
    },
  });
  return {
    yoga,
    direct: directGraphQL({ path: GRAPHQL_PATH, yoga, contextOf, requests: options.requests, authentications, documents, logger: options.logger }),
  };
}
