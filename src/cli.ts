import { ConfigError, loadConfig } from './config.ts';
import { isDatabaseBusy } from './db/transaction.ts';
import { DomainError, redact } from './domain/errors.ts';
import { createToken, maintenance, migrate, revokeToken, rotateToken } from './cli/commands.ts';
import { StartupError, UsageError } from './cli/errors.ts';
import { serve } from './cli/serve.ts';

const USAGE = `Usage: tessera <command>

Commands:
  serve [--workers N]   Apply pending migrations and serve GraphQL (what npm start runs); with
                        --workers, N processes share the port (0: one per CPU core)
  migrate               Apply pending database migrations and exit
  maintenance           Record the expiry of expired tokens and delete history past its retention, now
  token create --username U --scopes a,b --name N [--expires ISO-8601]
                        Mint a USER token and print it on stdout (how the first admin gets in)
  token create --type service|session --username U --scopes a,b [--expires ISO-8601]
                        Mint a SERVICE (username bot-…) or SESSION token, which has no name
  token revoke --key K [--reason R]
                        Revoke a token and every token derived from it
  token rotate --key K [--grace SECONDS]
                        Issue a new token in place of K and print it on stdout; K keeps working
                        for the grace period (default 0: revoked at once)

Configuration comes from environment variables; see README.md.`;

/** One line for the operator: the stack helps no one who runs the command, and a message may be long. */
function oneLine(error: unknown): string {
  if (isDatabaseBusy(error)) return 'the database stayed busy (another process is writing to it); try again';
  const lines = (error instanceof Error ? error.message : String(error)).split('\n').filter((line) => line.trim() !== '');
  // Prisma's messages open with "Invalid `…` invocation in" and say what went wrong last.
  const line = lines[0]?.startsWith('Invalid `') ? lines.at(-1) : lines[0];
  return redact(line?.trim() ?? 'unknown error');
}

export async function main(argv: string[]): Promise<number> {
  const [command, subcommand, ...rest] = argv;
  try {
    const config = loadConfig();
    if (command === 'serve') await serve(config, argv.slice(1));
    else if (command === 'migrate') await migrate(config);
    else if (command === 'maintenance') await maintenance(config);
    else if (command === 'token' && subcommand === 'create') await createToken(config, rest);
    else if (command === 'token' && subcommand === 'revoke') await revokeToken(config, rest);
    else if (command === 'token' && subcommand === 'rotate') await rotateToken(config, rest);
    else {
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
    }
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof DomainError || error instanceof StartupError) {
      process.stderr.write(`tessera: ${error.message}\n`);
      return 2;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tessera: ${error.message} (tessera help lists the commands)\n`);
      return 2;
    }
    process.stderr.write(`tessera: ${oneLine(error)}\n`);
    return 1;
  }
}
