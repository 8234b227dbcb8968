import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed client documents from the committed schema.graphql: no server and no
// network needed. Client teams copy this setup and point `documents` at their
// own operations.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'examples/generated/': {
      preset: 'client',
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' },
      },
    },
  },
};

export default config;
