import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { migrateIfPending } from './db/pending-migrations.ts';
import { Authenticator } from './domain/authentication.ts';
import { Authorizer } from './domain/rules/authorization.ts';
import { createDefaultRegistry, type TokenGeneratorRegistry } from './domain/generators/index.ts';
import { systemClock, type Clock } from './domain/model.ts';
import { TokenService } from './domain/token-service.ts';
import { UsageRecorder } from './domain/usage.ts';
import { openHotPath, type StatementListener } from './db/hot-path/index.ts';
import { pricingFor } from './graphql/complexity.ts';
import { GRAPHQL_PATH, createGraphQLServer } from './http/yoga.ts';
import { createLogger, type Logger } from './logger.ts';
import { startSweeper } from './sweeper.ts';

export interface TesseraOptions {
  config: Config;
  logger?: Logger;
  /** Replaces the default generator registry (tests register extra generators). */
  generators?: TokenGeneratorRegistry;
  /** Told every SQL statement sent, through Prisma or the hot path (tests count statements). */
  onStatement?: StatementListener;
  /** The clock every rule reads (expiry, event times); tests move it instead of editing rows. */
  now?: Clock;
}

export interface Tessera {
  config: Config;
  db: Database;
  tokens: TokenService;
  server: Server;
  logger: Logger;
  /** Writes the token uses noted so far (they are otherwise written every second, and at close). */
  flushUsage(): Promise<void>;
  /** Starts listening on the configured host and port, and the maintenance sweep; resolves to the GraphQL URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Opens and migrates the database and wires the domain to an HTTP server, without listening yet. */
export async function createTessera(options: TesseraOptions): Promise<Tessera> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  // Everything that can be refused is built before the database is touched.
  const generators = options.generators ?? createDefaultRegistry(config.defaultGeneratorId);
  const { db } = await openDatabase(config.engine, config.databaseUrl, {
    queryEvents: options.onStatement !== undefined,
    beforeConnect: async (adapterFactory) => {
      const applied = await migrateIfPending(config.engine, adapterFactory, (line) => logger.debug({ engine: config.engine }, line));
      if (applied.length > 0) logger.info({ engine: config.engine, applied }, 'applied database migrations');
    },
  });

  const now = options.now ?? systemClock;
  const { onStatement } = options;
  if (onStatement) db.$on('query', (event) => onStatement(event.query));
  const hotPath = openHotPath(config.engine, config.databaseUrl, { onStatement, logger });
  const usage = new UsageRecorder(hotPath, config.lastUsedIntervalSeconds * 1000, logger);
  usage.start(config.lastUsedFlushSeconds * 1000);
  const tokens = new TokenService({ db, config, generators, now, authorizer: new Authorizer(logger), hotPath, usage });
  const authenticator = new Authenticator(db, hotPath, usage, generators, config.bootstrapToken, now);
  const yoga = createGraphQLServer({
    tokens,
    authenticator,
    trustedProxies: config.trustedProxies,
    authFailuresPerMinute: config.authFailuresPerMinute,
    corsOrigins: config.corsOrigins,
    pricing: pricingFor(config.knownScopes),
    logger,
  });
  const server = createServer(yoga);
  let stopSweeper: (() => Promise<void>) | null = null;

  return {
    config,
    db,
    tokens,
    server,
    logger,
    flushUsage: () => usage.flush(),
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          if (config.sweepIntervalSeconds > 0) stopSweeper = startSweeper(() => tokens.runMaintenance(), config.sweepIntervalSeconds, logger);
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve(`http://${host}:${port}${GRAPHQL_PATH}`);
        });
      }),
    close: async () => {
      await stopSweeper?.();
      if (server.listening) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await usage.stop();
      await hotPath.close();
      await db.$disconnect();
    },
  };
}
