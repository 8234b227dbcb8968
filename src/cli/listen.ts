import { createTessera, type Tessera } from '../app.ts';
import { ADMIN_SCOPE, USER_SCOPE, type Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { StartupError } from './errors.ts';

/** What `serve` does in each process that listens, alone or as one of `--workers`. */

export function firstRunMessage(url: string): string {
  return [
    '',
    'Tessera has no tokens yet. Mint the first admin token with:',
    '',
    `  npx tessera token create --username admin --name admin --scopes ${ADMIN_SCOPE},${USER_SCOPE}`,
    '',
    `then send it as "Authorization: Bearer <token>" to ${url}`,
    '(or set TESSERA_BOOTSTRAP_TOKEN to a secret of 32+ characters and use that).',
    '',
  ].join('\n');
}

/** Why the server could not listen, in words that name the setting to change. */
function listenFailure(config: Config, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EADDRINUSE') return new StartupError(`port ${config.port} on ${config.host} is already in use (set PORT to a free one)`);
  if (error.code === 'EACCES') return new StartupError(`port ${config.port} on ${config.host} needs privileges this process lacks (set PORT above 1023)`);
  if (error.code === 'EADDRNOTAVAIL') return new StartupError(`HOST ${config.host} is not an address of this machine`);
  return error;
}

/** A Tessera listening on the configured address, and whether it has no token yet (the first-run message is due). */
export async function startListening(config: Config, logger?: Logger): Promise<{ tessera: Tessera; url: string; firstRun: boolean }> {
  const tessera = await createTessera({ config, logger });
  const url = await tessera.listen().catch(async (error: NodeJS.ErrnoException) => {
    await tessera.close();
    throw listenFailure(config, error);
  });
  const firstRun = !config.bootstrapToken && (await tessera.db.token.count()) === 0;
  return { tessera, url, firstRun };
}

/**
 * Closes `tessera` on SIGINT or SIGTERM and exits 0. A second, different
 * signal is ignored (a worker gets the terminal's SIGINT and its primary's
 * SIGTERM); the same signal again kills at once, as an impatient operator means.
 */
export function closeOnSignals(tessera: Tessera): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    tessera.logger.info({ signal }, 'shutting down');
    void tessera.close().then(
      () => process.exit(0),
      (error: unknown) => {
        tessera.logger.error({ err: error }, 'could not shut down cleanly');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop(signal));
}
