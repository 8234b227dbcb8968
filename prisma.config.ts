import { defineConfig } from 'prisma/config';

// The Prisma CLI wants a native schema-engine binary even for `generate`, and
// downloading one is impossible offline. Any existing file satisfies the check;
// migrations run through the WebAssembly engine instead (src/db/migrations/run-engine.ts).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/false';

// `npm run generate` passes --schema for each engine; this default serves tools
// that read one schema.
export default defineConfig({
  schema: 'prisma/sqlite',
});
