import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed client documents from the committed schema.graphql: no server and no
// network needed. Client teams copy this setup and point `documents` at their
// own operations.
const scalars = { DateTime: 'string', JSONObject: 'Record<string, unknown>', SafeInt: 'number' };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    'examples/generated/': {
      documents: ['examples/**/*.graphql'],
      preset: 'client',
      // `.ts` extensions: examples/ is typechecked with the rest (NodeNext resolution) and runs under Node's tsx loader.
      config: { useTypeImports: true, enumsAsTypes: true, scalars, importExtension: '.ts' },
    },
    // The operations the tests send, written with the generated `graphql(...)`
    // (the preset's string-keyed overloads: no babel/swc plugin), so that a
    // schema change that breaks a client breaks `tsc` over the tests. Git-ignored;
    // `npm test` regenerates it first.
    'test/generated/': {
      documents: ['test/**/*.ts', '!test/generated/**'],
      preset: 'client',
      // Results are plain objects: a fragment's fields appear in the result type of every operation that spreads it.
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars, importExtension: '.ts' },
    },
    // The web console's operations (web/src/**), the same way: Vite bundles them, and `tsc -p web` checks them against the schema. Git-ignored.
    'web/src/generated/': {
      documents: ['web/src/**/*.{ts,tsx}', '!web/src/generated/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars, importExtension: '.ts' },
    },
  },
};

export default config;
