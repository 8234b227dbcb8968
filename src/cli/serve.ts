import { createTessera } from '../app.ts';
import { ADMIN_SCOPE, USER_SCOPE, type Config } from '../config.ts';
import { StartupError } from './errors.ts';

function firstRunMessage(url: string): string {
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

export async function serve(config: Config): Promise<void> {
  const tessera = await createTessera({ config });
  const url = await tessera.listen().catch(async (error: NodeJS.ErrnoException) => {
    await tessera.close();
    throw listenFailure(config, error);
  });
  tessera.logger.info({ url, engine: config.engine }, 'Tessera is listening');
  process.stdout.write(`Tessera is serving GraphQL and GraphiQL at ${url}\n`);
  if (!config.bootstrapToken && (await tessera.db.token.count()) === 0) process.stdout.write(firstRunMessage(url));
  const stop = (signal: string) => {
    tessera.logger.info({ signal }, 'shutting down');
    void tessera.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
