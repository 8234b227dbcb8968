// Prints the Pothos schema to schema.graphql (--write) or fails when the committed file is stale (--check).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from '../src/graphql/schema.ts';

const path = fileURLToPath(new URL('../schema.graphql', import.meta.url));
const printed = printedSchema();

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(path, 'utf8');
  } catch {
    // a missing file is stale too
  }
  if (committed !== printed) {
    process.stderr.write('schema.graphql is stale: run `npm run schema:print` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('schema.graphql is up to date.\n');
} else {
  writeFileSync(path, printed);
  process.stdout.write(`wrote ${path}\n`);
}
