#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: no build step,
// and the same code paths in development, tests and production.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
// `serve` keeps running; one-shot commands exit even if a library left a timer behind.
if (process.argv[2] !== 'serve') process.exit(code);
else if (code !== 0) process.exit(code);
