import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, JSONObjectResolver, SafeIntResolver } from 'graphql-scalars';
import type { JsonObject } from '../domain/model.ts';
import { complexityError, defaultFieldComplexity, MAX_QUERY_COST } from './complexity.ts';
import type { GraphQLContext } from './context.ts';

/**
 * Data loads one way only: resolvers call the domain, and links between
 * tokens (history entry → token, token → parent and children) go through the
 * per-request DataLoaders in loaders.ts, which call the domain too. That
 * keeps every read behind the domain's visibility rules and lets the domain
 * choose how each read is made. @pothos/plugin-prisma is therefore not used:
 * its `t.relation` and `findUnique` read through a Prisma client of their own,
 * beside the domain, which is exactly the second path this schema avoids.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: JsonObject; Output: JsonObject };
    /** Epoch seconds outgrow GraphQL's 32-bit Int in 2038. */
    SafeInt: { Input: number; Output: number };
  };
  Connection: { totalCount: () => Promise<number> };
}>({
  plugins: [ErrorsPlugin, RelayPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    // node(id) is defined in types/node.ts, so that lookups go through the domain.
    nodeQueryOptions: false,
  },
  errors: { directResult: true },
  complexity: { fieldComplexity: defaultFieldComplexity, limit: { complexity: MAX_QUERY_COST }, complexityError },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);
builder.addScalarType('SafeInt', SafeIntResolver);

builder.queryType({});
builder.mutationType({});

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'How many items match, across all pages.', resolve: (connection) => connection.totalCount() }),
);
