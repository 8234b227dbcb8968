#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (what `npm install` builds, tsconfig.build.json): a start costs no
// TypeScript. Only a checkout that has not been built, or whose sources changed since the build, runs the
// sources through tsx's loader instead, so that a developer never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli.js');

/** Whether dist/ was built after the last change to src/ (a few milliseconds: one stat per source file). */
function isBuiltFromCurrentSources() {
  if (!existsSync(compiled)) return false;
  const builtAt = statSync(compiled).mtimeMs;
  const sources = join(root, 'src');
  if (!existsSync(sources)) return true;
  for (const entry of readdirSync(sources, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && statSync(join(entry.parentPath, entry.name)).mtimeMs > builtAt) return false;
  }
  return true;
}

let main;
if (isBuiltFromCurrentSources()) {
  ({ main } = await import(pathToFileURL(compiled).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli.ts'));
}
const code = await main(process.argv.slice(2));
// `serve` keeps running; one-shot commands exit even if a library left a timer behind.
if (process.argv[2] !== 'serve') process.exit(code);
else if (code !== 0) process.exit(code);
