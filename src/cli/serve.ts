import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { UsageError } from './errors.ts';
import { closeOnSignals, firstRunMessage, startListening } from './listen.ts';
import { isClusterWorker, serveAsWorker, serveWorkers } from './workers.ts';

/** `--workers N`: N processes (0: one per CPU core); absent: this process serves alone. */
function workerCount(args: string[]): number | null {
  const { values } = parseArgs({ args, options: { workers: { type: 'string' } } });
  if (values.workers === undefined) return null;
  const count = Number(values.workers);
  if (!/^\d+$/.test(values.workers) || count > 1024)
    throw new UsageError(`--workers takes a number of processes from 0 (one per CPU core) to 1024, not "${values.workers}"`);
  return count;
}

export async function serve(config: Config, args: string[] = []): Promise<void> {
  const workers = workerCount(args);
  if (workers !== null) {
    // A worker runs this same command line: cluster tells it apart.
    await (isClusterWorker() ? serveAsWorker(config) : serveWorkers(config, workers));
    return;
  }
  const { tessera, url, firstRun } = await startListening(config);
  tessera.logger.info({ url, engine: config.engine }, 'Tessera is listening');
  process.stdout.write(`Tessera is serving GraphQL and GraphiQL at ${url}\n`);
  process.stdout.write(`The web console is at ${new URL('/', url).href}\n`);
  if (firstRun) process.stdout.write(firstRunMessage(url));
  closeOnSignals(tessera);
}
