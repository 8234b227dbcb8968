/**
 * ESLint holds one thing here: the printed schema (schema.graphql) that clients
 * generate their types and documentation from; TypeScript is Biome's business
 * (biome.jsonc). graphql-eslint's recommended schema rules and its relay rules,
 * with every type, field, argument, enum value and input value described.
 */
import graphql from '@graphql-eslint/eslint-plugin';

export default [
  {
    files: ['schema.graphql'],
    languageOptions: { parser: graphql.parser, parserOptions: { graphQLConfig: { schema: 'schema.graphql' } } },
    plugins: { '@graphql-eslint': graphql },
    rules: {
      ...graphql.configs['flat/schema-recommended'].rules,
      ...graphql.configs['flat/schema-relay'].rules,
      '@graphql-eslint/require-description': [
        'error',
        { types: true, rootField: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true, DirectiveDefinition: true },
      ],
      // Objects a client caches by id have one; these are answers, not entities: a mutation's payload or typed error,
      // a connection and its edges and page info, the caller (Viewer, cached through Viewer.token) and an introspection.
      '@graphql-eslint/strict-id-in-types': [
        'error',
        {
          acceptedIdNames: ['id'],
          acceptedIdTypes: ['ID'],
          exceptions: { types: ['PageInfo', 'Viewer', 'TokenIntrospection'], suffixes: ['Payload', 'Error', 'Connection', 'Edge'] },
        },
      ],
      // Lists of scalars (scopes, keys) and short bounded lists (the tokens a revocation reports) are not pages;
      // every list that pages is a connection, which the other relay rules hold.
      '@graphql-eslint/relay-edge-types': ['error', { listTypeCanWrapOnlyEdgeType: false }],
      // Token.tokenType is the specification's name (Gafaelfawr's token_type), which clients already rely on.
      '@graphql-eslint/no-typename-prefix': 'off',
    },
  },
];
