import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { migrateIfPending } from './db/pending-migrations.ts';
import { listenForWrittenEntries, reportingInserts } from './db/written-entries.ts';
import { Authenticator } from './domain/authentication.ts';
import { Authorizer } from './domain/rules/authorization.ts';
import { createDefaultRegistry, type TokenGeneratorRegistry } from './domain/generators/index.ts';
import { systemClock, type Clock } from './domain/model.ts';
import { TokenService } from './domain/token-service.ts';
import { UsageRecorder } from './domain/usage.ts';
import { openHotPath, type StatementListener } from './db/hot-path/index.ts';
import { pricingFor } from './graphql/complexity.ts';
import { RequestAuthenticator } from './http/authenticate-request.ts';
import { consoleHandler } from './http/console.ts';
import { createFailureCounter } from './http/failure-counter.ts';
import { isLeaksTarget, leaksHandler } from './http/leaks.ts';
import { isOAuthTarget, oauthHandler } from './http/oauth.ts';
import { isProbeTarget, probesHandler, ReadinessCheck } from './http/probes.ts';
import { RequestLog } from './http/request-log.ts';
import { SECURITY_HEADERS } from './http/security-headers.ts';
import { GRAPHQL_PATH, createGraphQLServer } from './http/yoga.ts';
import { LiveFeed } from './feed/feed.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { startSweeper } from './sweeper.ts';
import { WebhookService } from './domain/webhooks/service.ts';
import { startWebhooks } from './notifications/webhooks.ts';

export interface TesseraOptions {
  config: Config;
  logger?: Logger;
  /** Replaces the default generator registry (tests register extra generators). */
  generators?: TokenGeneratorRegistry;
  /** Told every SQL statement sent, through Prisma or the hot path (tests count statements). */
  onStatement?: StatementListener;
  /** The clock every rule reads (expiry, event times); tests move it instead of editing rows. */
  now?: Clock;
  /** The built web console served at `/` (tests point it at a fixture); `web/dist` of this checkout when omitted. */
  consoleDir?: string;
}

export interface Tessera {
  config: Config;
  db: Database;
  tokens: TokenService;
  webhooks: WebhookService;
  /** The live change feed of this process. */
  feed: LiveFeed;
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
  // The feed is built below; the gauge reads it only when scraped.
  const metrics = createMetrics({ openStreams: () => feed.openStreams });
  const countChanges = (action: string, count: number) => metrics.tokenChanges.inc({ action }, count);
  listenForWrittenEntries(db, countChanges);
  const hotPath = reportingInserts(openHotPath(config.engine, config.databaseUrl, { onStatement, logger }), countChanges);
  const usage = new UsageRecorder(hotPath, config.lastUsedIntervalSeconds * 1000, logger);
  usage.start(config.lastUsedFlushSeconds * 1000);
  const authorizer = new Authorizer(logger);
  const tokens = new TokenService({ db, config, generators, now, authorizer, hotPath, usage });
  const authenticator = new Authenticator(db, hotPath, usage, generators, config.bootstrapToken, now);
  // One for every endpoint: a failed credential counts toward the same limit wherever it is presented.
  const failures = createFailureCounter({ engine: config.engine, db, failuresPerMinute: config.authFailuresPerMinute, now, logger });
  const requestLog = new RequestLog({ logger, trustedProxies: config.trustedProxies });
  const requests = new RequestAuthenticator({ authenticator, trustedProxies: config.trustedProxies, failures, logger, requestLog, metrics });
  // Its reader starts with the first subscription.
  const feed = new LiveFeed({
    engine: config.engine,
    databaseUrl: config.databaseUrl,
    db,
    authorizer,
    now,
    logger,
    maxStreamsPerToken: config.maxStreamsPerToken,
    backlog: config.feedBacklog,
  });
  const webhooks = new WebhookService({ db, engine: config.engine, authorizer, now, allowPrivate: config.webhookAllowPrivate });
  const { yoga, direct: directGraphQL } = createGraphQLServer({
    tokens,
    webhooks,
    requests,
    corsOrigins: config.corsOrigins,
    pricing: pricingFor(config.knownScopes),
    logger,
    feed,
    requestLog,
    metrics,
  });
  const oauth = oauthHandler({ tokens, requests, corsOrigins: config.corsOrigins, logger });
  const leaks = leaksHandler({ tokens, trustedProxies: config.trustedProxies, reportsPerMinute: config.leakReportsPerMinute, now, logger });
  const webConsole = consoleHandler({ directory: options.consoleDir, logger, graphiql: yoga });
  // The OAuth endpoints, a resource server's hot path, need nothing of GraphQL's: they skip yoga's pipeline altogether.
  const probes = probesHandler({ readiness: new ReadinessCheck({ db, engine: config.engine, logger }), requests, authorizer, metrics, logger });
  // Read once: yoga's server adapter is a proxy that binds a new function on every property read.
  const yogaListener = yoga.requestListener;
  // Every route's request gets an id and a line in the request log (http/request-log.ts).
  const server = createServer(
    requestLog.listener((request, response) => {
      if (isOAuthTarget(request.url)) oauth(request, response);
      else if (isProbeTarget(request.url)) probes(request, response);
      else if (isLeaksTarget(request.url)) leaks(request, response);
      else if (!hasUsableHost(request.headers.host)) refuseBadHost(response);
      else if (webConsole.serves(request)) webConsole.handle(request, response);
      else if (directGraphQL.takes(request)) directGraphQL.handle(request, response);
      else yogaListener(request, response);
    }),
  );
  let stopSweeper: (() => Promise<void>) | null = null;
  let stopWebhooks: Promise<() => Promise<void>> | null = null;

  return {
    config,
    db,
    tokens,
    webhooks,
    feed,
    server,
    logger,
    flushUsage: () => usage.flush(),
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          if (config.sweepIntervalSeconds > 0)
            stopSweeper = startSweeper(
              () => tokens.runMaintenance(),
              config.sweepIntervalSeconds,
              logger,
              (seconds) => metrics.sweepDuration.observe(seconds),
            );
          // Webhook deliveries: queued from the history and sent, from this process as from any other.
          stopWebhooks = startWebhooks({
            engine: config.engine,
            databaseUrl: config.databaseUrl,
            now,
            logger,
            retrySeconds: config.webhookRetrySeconds,
            allowPrivate: config.webhookAllowPrivate,
          });
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve(`http://${host}:${port}${GRAPHQL_PATH}`);
        });
      }),
    close: async () => {
      await stopSweeper?.();
      await (await stopWebhooks)?.();
      // Streams end (complete) before the connections carrying them are closed.
      await feed.close();
      if (server.listening) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      requestLog.close();
      await usage.stop();
      await hotPath.close();
      await db.$disconnect();
    },
  };
}

/** Host headers of the plain kind, which need no parsing to trust; anything else must make a URL. */
const PLAIN_HOST = /^[A-Za-z0-9.:[\]-]*$/;

/**
 * Whether a URL can be built from the Host header. yoga's adapter builds one
 * for every request, and answers one it cannot build with a 500 whose body
 * carries the exception's stack.
 */
function hasUsableHost(host: string | undefined): boolean {
  return host === undefined || PLAIN_HOST.test(host) || URL.canParse(`http://${host}/`);
}

function refuseBadHost(response: ServerResponse): void {
  response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  response.end('Bad Host header\n');
}
