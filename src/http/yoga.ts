import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, type ValidationContext } from 'graphql';
import { createYoga, maskError as defaultMaskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Authenticator } from '../domain/authentication.ts';
import { DomainError } from '../domain/errors.ts';
import type { TokenService } from '../domain/tokens.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { createLoaders } from '../graphql/loaders.ts';
import { schema } from '../graphql/schema.ts';
import type { Logger } from '../logger.ts';
import { authenticationPlugin, type ServerContext, type SuccessfulAuthentication } from './authentication-plugin.ts';

export const GRAPHQL_PATH = '/graphql';

const GRAPHIQL_QUERY = `# Put your token in the Headers tab below:
#   { "Authorization": "Bearer <token>" }
query {
  viewer { username scopes isAdmin }
}
`;

export interface YogaOptions {
  tokens: TokenService;
  authenticator: Authenticator;
  trustedProxies: number;
  authFailuresPerMinute: number;
  logger: Logger;
}

/** A domain error raised in a query becomes a GraphQL error with its code; anything unexpected is logged and masked. */
function maskError(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof DomainError && error instanceof GraphQLError) {
      return new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: { code: original.code } });
    }
    if (error instanceof GraphQLError && !error.originalError) return error;
    logger.error({ err: original }, 'unexpected error while resolving');
    return defaultMaskError(error, message, isDev);
  };
}

/** graphql-armor throws out of validation by default; reported instead, its refusals join the other validation errors. */
const reportAsValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/**
 * Every error of the validation phase (unknown fields, bad variables, and
 * graphql-armor's depth, alias and cost limits) gets a machine-readable code,
 * as the domain's query errors do.
 */
const validationErrorCodes: Plugin = {
  onValidate: () => ({ result, setResult }) => {
    if (result.length === 0) return;
    setResult(
      result.map((error: Error) =>
        error instanceof GraphQLError && !error.extensions.code
          ? new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } })
          : error,
      ),
    );
  },
};

export function createGraphQLServer(options: YogaOptions): YogaServerInstance<ServerContext, GraphQLContext> {
  const authentications = new WeakMap<Request, SuccessfulAuthentication>();
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: { title: 'Tessera', defaultQuery: GRAPHIQL_QUERY, headers: '{\n  "Authorization": "Bearer "\n}' },
    renderGraphiQL,
    logging: options.logger,
    maskedErrors: { maskError: maskError(options.logger) },
    plugins: [
      authenticationPlugin({
        authenticator: options.authenticator,
        trustedProxies: options.trustedProxies,
        failuresPerMinute: options.authFailuresPerMinute,
        authentications,
        logger: options.logger,
      }),
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ...reportAsValidationError },
        maxAliases: { n: 30, ...reportAsValidationError },
        maxDirectives: reportAsValidationError,
        maxTokens: reportAsValidationError,
        // Priced per item of a page (armor multiplies by first/last): a full page of
        // 1000 history entries with their tokens fits; a page of pages does not.
        costLimit: { maxCost: 250_000, ...reportAsValidationError },
        blockFieldSuggestion: { enabled: false },
      }),
      validationErrorCodes,
    ],
    context: ({ request }): GraphQLContext => {
      const authentication = authentications.get(request);
      // The plugin ends every unauthenticated request before GraphQL runs.
      if (!authentication) throw new Error('GraphQL reached without authentication');
      return { actor: authentication.actor, tokens: options.tokens, loaders: createLoaders(options.tokens) };
    },
  });
}
