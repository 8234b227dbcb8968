import { parseArgs } from 'node:util';
import { createTessera, type Tessera } from './app.ts';
import { ADMIN_SCOPE, ConfigError, USER_SCOPE, loadConfig, type Config } from './config.ts';
import { createAdapterFactory } from './db/client.ts';
import { migrateIfPending } from './db/pending-migrations.ts';
import { DomainError } from './domain/errors.ts';
import { operatorActor } from './domain/authorization.ts';
import { CLI_ACTOR, TOKEN_TYPES, type TokenType } from './domain/model.ts';

const USAGE = `Usage: tessera <command>

Commands:
  serve                 Apply pending migrations and serve GraphQL (what npm start runs)
  migrate               Apply pending database migrations and exit
  token create --username U --scopes a,b [--name N] [--type user|service] [--expires ISO-8601]
                        Mint a token and print it on stdout (how the first admin gets in)

Configuration comes from environment variables; see README.md.`;

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

async function serve(config: Config): Promise<void> {
  const tessera = await createTessera({ config });
  const url = await tessera.listen();
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

async function migrate(config: Config): Promise<void> {
  // The schema engine opens its own connection; no Prisma client may hold the SQLite file meanwhile.
  const adapterFactory = createAdapterFactory(config.engine, config.databaseUrl);
  const applied = await migrateIfPending(config.engine, adapterFactory, () => {});
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'The database is up to date.\n');
}

async function createToken(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      username: { type: 'string' },
      scopes: { type: 'string', default: '' },
      name: { type: 'string' },
      type: { type: 'string', default: 'user' },
      expires: { type: 'string' },
    },
  });
  if (!values.username) throw new UsageError('token create needs --username');
  if (!(TOKEN_TYPES as readonly string[]).includes(values.type)) throw new UsageError(`--type must be one of ${TOKEN_TYPES.join(', ')}`);
  const expires = values.expires ? new Date(values.expires) : null;
  if (expires && Number.isNaN(expires.getTime())) throw new UsageError('--expires must be an ISO-8601 date and time');

  let tessera: Tessera | undefined;
  try {
    tessera = await createTessera({ config: { ...config, logLevel: 'warn' } });
    const { token, secret } = await tessera.tokens.generateToken(operatorActor(CLI_ACTOR), {
      username: values.username,
      name: values.name ?? null,
      tokenType: values.type as TokenType,
      scopes: values.scopes.split(',').map((scope) => scope.trim()).filter(Boolean),
      expires,
    });
    process.stderr.write(`Created ${token.tokenType} token ${token.key} for ${token.username} with scopes [${token.scopes}]\n`);
    process.stdout.write(`${secret}\n`);
  } finally {
    await tessera?.close();
  }
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const config = loadConfig();
    if (command === 'serve') await serve(config);
    else if (command === 'migrate') await migrate(config);
    else if (command === 'token' && rest[0] === 'create') await createToken(config, rest.slice(1));
    else {
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
    }
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof DomainError) {
      process.stderr.write(`tessera: ${error.message}\n`);
      return 2;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tessera: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}
