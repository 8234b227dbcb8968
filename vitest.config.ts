import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node (and every externalized dependency such as
    // graphql-yoga / @graphql-tools) loads the CJS build, while Vite would pick the ESM
    // build ("module": index.mjs) for our own sources -> two graphql instances and
    // "Cannot use GraphQLSchema from another module or realm". Pin our sources to the
    // same files Node resolves. Regex so that 'graphql/...' subpaths are covered too.
    alias: [{ find: /^graphql(\/.*)?$/, replacement: '$&', customResolver: (id) => require.resolve(id) }],
  },
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
