import SchemaBuilder from '@pothos/core';
import '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, JSONObjectResolver, SafeIntResolver } from 'graphql-scalars';
import type PrismaTypes from '../db/generated/pothos-types.ts';
import { getDatamodel } from '../db/generated/pothos-types.ts';
import type { JsonObject } from '../domain/model.ts';
import { MAX_PAGE_SIZE } from '../domain/pagination.ts';
import { complexityError, defaultFieldComplexity, documentPricedComplexityPlugin, MAX_QUERY_COST, pageSizeLimitPlugin } from './complexity.ts';
import type { GraphQLContext } from './context.ts';

/**
 * How data is loaded. @pothos/plugin-prisma defines Token and
 * TokenChangeHistoryEntry from the Prisma model, so that their fields' types
 * and nullability follow the schema. It never reads by itself: every root
 * field calls the domain, which decides what the caller may see, and every
 * link (t.relation and the connections on Token) resolves through the domain
 * or the per-request DataLoaders in loaders.ts, which batch a page's links
 * into one statement each. The plugin's own fallback reads are refused
 * (refusePluginReads below), so a field that forgets its resolver fails
 * loudly instead of opening a second path to the database.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: JsonObject; Output: JsonObject };
    /** Epoch seconds outgrow GraphQL's 32-bit Int in 2038. */
    SafeInt: { Input: number; Output: number };
  };
  Connection: { totalCount: () => Promise<number> };
}>({
  // pageSizeLimitPlugin before the complexity plugin: it wraps the prices that one sets (complexity.ts). That one is
  // @pothos/plugin-complexity's, pricing each document without variables once (documentPricedComplexityPlugin).
  plugins: [ErrorsPlugin, PrismaPlugin, RelayPlugin, pageSizeLimitPlugin, documentPricedComplexityPlugin],
  defaultFieldNullability: false,
  prisma: {
    // The domain's client, for the plugin's types and its per-request cache; the plugin reads nothing through it.
    client: (context) => context.tokens.prismaClient,
    // A Prisma 7 client no longer carries its datamodel: the prisma-pothos-types generator writes it.
    dmmf: getDatamodel(),
    // Descriptions are written where the fields are, for clients; the model's comments are for maintainers.
    exposeDescriptions: false,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    // node(id) is defined in types/node.ts, so that lookups go through the domain.
    nodeQueryOptions: false,
    // What every connection's arguments and fields mean, for clients (relay's own have no descriptions).
    firstArgOptions: { description: `Page forward: at most this many items (0 to ${MAX_PAGE_SIZE}), from the start or after \`after\`.` },
    afterArgOptions: { description: 'An endCursor (or edge cursor) this connection gave out: the page starts after it.' },
    lastArgOptions: { description: `Page backward: at most this many items (0 to ${MAX_PAGE_SIZE}), from the end or before \`before\`.` },
    beforeArgOptions: { description: 'A startCursor (or edge cursor) this connection gave out: the page ends before it.' },
    edgesFieldOptions: { description: 'The items of this page, each with its cursor.' },
    pageInfoFieldOptions: { description: 'Where this page lies, and the cursors to ask for the next or previous one.' },
    cursorFieldOptions: { description: 'Opaque position of this item: pass it as after or before to page from here.' },
    nodeFieldOptions: { description: 'The item.' },
    nodeTypeOptions: { description: 'An object with a global id, which node(id) finds again: what a normalized client cache keys objects by.' },
    idFieldOptions: { description: 'Globally unique and stable id of this object: pass it to node(id).' },
    pageInfoTypeOptions: { description: "Relay's page information: whether there are more items either way, and the cursors of this page's ends." },
    hasNextPageFieldOptions: { description: "Whether there are items after this page, in the list's order." },
    hasPreviousPageFieldOptions: { description: "Whether there are items before this page, in the list's order." },
    startCursorFieldOptions: { description: "The first item's cursor: pass it as before to read the page before this one; null for an empty page." },
    endCursorFieldOptions: { description: "The last item's cursor: pass it as after to read the next page; null for an empty page." },
  },
  errors: { directResult: true },
  complexity: { fieldComplexity: defaultFieldComplexity, limit: { complexity: MAX_QUERY_COST }, complexityError },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);
builder.addScalarType('SafeInt', SafeIntResolver);

builder.queryType({ description: 'What can be read: tokens, their history, the caller, and introspection of token strings.' });
builder.mutationType({
  description: 'What changes tokens. Each answers a union of its success and typed errors (the Error interface); an error changes nothing.',
});

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'How many items match, across all pages.', resolve: (connection) => connection.totalCount() }),
);

/**
 * The `findUnique` of every Prisma node type: the plugin would otherwise load
 * a row by itself, beside the domain, whenever a field lacks its data. Every
 * field here resolves through the domain, so this never runs; if a field ever
 * forgets to, it fails instead of reading.
 */
export function refusePluginReads(typename: string): () => never {
  return () => {
    throw new Error(`${typename} is read through the domain only, never by @pothos/plugin-prisma`);
  };
}
