import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { createAdapterFactory } from '../db/client.ts';
import { migrateIfPending } from '../db/pending-migrations.ts';
import { operatorActor } from '../domain/rules/authorization.ts';
import { CLI_ACTOR, TOKEN_TYPES, type TokenType } from '../domain/model.ts';
import { withDomain } from './domain.ts';
import { UsageError } from './errors.ts';

/** The one-shot commands. Changes they make are recorded with actor `<cli>`; the token string goes to stdout, the rest to stderr. */

export async function migrate(config: Config): Promise<void> {
  // The schema engine opens its own connection; no Prisma client may hold the SQLite file meanwhile.
  const adapterFactory = createAdapterFactory(config.engine, config.databaseUrl);
  const applied = await migrateIfPending(config.engine, adapterFactory, () => {});
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'The database is up to date.\n');
}

const cli = operatorActor(CLI_ACTOR);

type StringOptions = Record<string, { type: 'string'; default?: string }>;

/**
 * parseArgs, with each value taken as the value of the option before it even
 * when it starts with a dash: token keys are URL-safe base64 and may
 * ("--key -x3…"), which parseArgs would otherwise refuse as ambiguous.
 */
function parse<Options extends StringOptions>(args: string[], options: Options) {
  const joined: string[] = [];
  const rest = [...args];
  for (let arg = rest.shift(); arg !== undefined; arg = rest.shift()) {
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    const value = rest[0];
    if (name !== null && Object.hasOwn(options, name) && value !== undefined) {
      joined.push(`${arg}=${value}`);
      rest.shift();
    } else {
      joined.push(arg);
    }
  }
  return parseArgs({ args: joined, options }).values;
}

export async function createToken(config: Config, args: string[]): Promise<void> {
  const values = parse(args, {
    username: { type: 'string' },
    scopes: { type: 'string', default: '' },
    name: { type: 'string' },
    type: { type: 'string', default: 'user' },
    expires: { type: 'string' },
  });
  if (!values.username) throw new UsageError('token create needs --username');
  if (!(TOKEN_TYPES as readonly string[]).includes(values.type)) throw new UsageError(`--type must be one of ${TOKEN_TYPES.join(', ')}`);
  const expires = values.expires ? new Date(values.expires) : null;
  if (expires && Number.isNaN(expires.getTime())) throw new UsageError('--expires must be an ISO-8601 date and time');

  await withDomain(config, async ({ tokens }) => {
    const { token, secret } = await tokens.generateToken(cli, {
      username: values.username,
      name: values.name ?? null,
      tokenType: values.type as TokenType,
      scopes: values.scopes
        .split(',')
        .map((scope) => scope.trim())
        .filter(Boolean),
      expires,
    });
    process.stderr.write(`Created ${token.tokenType} token ${token.key} for ${token.username} with scopes [${token.scopes}]\n`);
    process.stdout.write(`${secret}\n`);
  });
}

export async function revokeToken(config: Config, args: string[]): Promise<void> {
  const values = parse(args, { key: { type: 'string' }, reason: { type: 'string', default: '' } });
  const { key } = values;
  if (!key) throw new UsageError('token revoke needs --key');
  await withDomain(config, async ({ tokens }) => {
    const { count, keys } = await tokens.revokeToken(cli, key, values.reason);
    // The result names only the first keys of a large tree; say how many more there were.
    const more = count > keys.length ? ` and ${count - keys.length} more` : '';
    process.stdout.write(count > 0 ? `Revoked ${keys.join(', ')}${more}\n` : `Token ${values.key} was already revoked.\n`);
  });
}

export async function rotateToken(config: Config, args: string[]): Promise<void> {
  const values = parse(args, { key: { type: 'string' }, grace: { type: 'string', default: '0' } });
  const { key } = values;
  if (!key) throw new UsageError('token rotate needs --key');
  if (!/^\d+$/.test(values.grace)) throw new UsageError('--grace must be a number of seconds');
  await withDomain(config, async ({ tokens }) => {
    const { token, secret, replaced } = await tokens.rotateToken(cli, { key, gracePeriodSeconds: Number(values.grace) });
    const fate = replaced.valid ? `works until ${replaced.expiresAt?.toISOString()}` : 'is revoked';
    process.stderr.write(`Rotated ${replaced.key} into ${token.key}; the old token ${fate}\n`);
    process.stdout.write(`${secret}\n`);
  });
}

export async function maintenance(config: Config): Promise<void> {
  await withDomain(config, async ({ tokens }) => {
    const { expired, pruned } = await tokens.runMaintenance();
    process.stdout.write(
      `Recorded the expiry of ${expired} token${expired === 1 ? '' : 's'}; deleted ${pruned} history ` +
        `entr${pruned === 1 ? 'y' : 'ies'} older than ${config.historyRetentionDays} days.\n`,
    );
  });
}
