import type { Config } from './config.ts';
import { isDatabaseBusy } from './db/transaction.ts';
import { DomainError, redact } from './domain/errors.ts';
import { StartupError, UsageError } from './cli/errors.ts';

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
  scan [--revoke] PATH…
                        Find Tessera tokens in files and folders and print path:line:column of each
                        (never the token); exits 1 when it found any, 0 when none. With --revoke,
                        revoke each one found (reason "leaked: found in <path>")

Configuration comes from environment variables; see README.md.`;

/** A command resolves to the exit code it chose (scan's 1: it found tokens), or to nothing when it succeeded (0). */
type Command = (config: Config, args: string[]) => Promise<unknown>;

/**
 * Each command's module, imported only when that command runs: `tessera
 * --help` loads none of them, and a one-shot command never loads the
 * GraphQL server that `serve` needs.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => (await import('./cli/serve.ts')).serve,
  migrate: async () => (await import('./cli/commands.ts')).migrate,
  maintenance: async () => (await import('./cli/commands.ts')).maintenance,
  'token create': async () => (await import('./cli/commands.ts')).createToken,
  'token revoke': async () => (await import('./cli/commands.ts')).revokeToken,
  'token rotate': async () => (await import('./cli/commands.ts')).rotateToken,
  scan: async () => (await import('./cli/scan.ts')).scan,
};

/** The command named by the first word or two of the command line, and the arguments after it; null when none is. */
function commandOf(argv: string[]): { load: () => Promise<Command>; args: string[] } | null {
  const [first, second] = argv;
  if (first === undefined) return null;
  const pair = `${first} ${second ?? ''}`;
  if (first === 'token') return Object.hasOwn(COMMANDS, pair) ? { load: COMMANDS[pair] as () => Promise<Command>, args: argv.slice(2) } : null;
  return Object.hasOwn(COMMANDS, first) ? { load: COMMANDS[first] as () => Promise<Command>, args: argv.slice(1) } : null;
}

/** One line for the operator: the stack helps no one who runs the command, and a message may be long. */
function oneLine(error: unknown): string {
  if (isDatabaseBusy(error)) return 'the database stayed busy (another process is writing to it); try again';
  const lines = (error instanceof Error ? error.message : String(error)).split('\n').filter((line) => line.trim() !== '');
  // Prisma's messages open with "Invalid `…` invocation in" and say what went wrong last.
  const line = lines[0]?.startsWith('Invalid `') ? lines.at(-1) : lines[0];
  return redact(line?.trim() ?? 'unknown error');
}

export async function main(argv: string[]): Promise<number> {
  const command = commandOf(argv);
  if (command === null) {
    process.stderr.write(`${USAGE}\n`);
    const [first] = argv;
    return first === undefined || first === 'help' || first === '--help' || first === '-h' ? 0 : 2;
  }
  // Imported here, not above: zod, which validates the configuration, is a fair part of a start.
  const { ConfigError, loadConfig } = await import('./config.ts');
  try {
    const config = loadConfig();
    const run = await command.load();
    const code = await run(config, command.args);
    return typeof code === 'number' ? code : 0;
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
