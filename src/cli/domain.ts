import type { Config } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { openHotPath } from '../db/hot-path/index.ts';
import { migrateIfPending } from '../db/pending-migrations.ts';
import { createDefaultRegistry } from '../domain/generators/index.ts';
import { systemClock } from '../domain/model.ts';
import { Authorizer } from '../domain/rules/authorization.ts';
import { TokenService } from '../domain/token-service.ts';
import { UsageRecorder } from '../domain/usage.ts';
import { createLogger } from '../logger.ts';

/** What a one-shot command works with. */
export interface CommandDomain {
  tokens: TokenService;
}

/**
 * The domain over a migrated database, for one command, closed afterwards.
 * Built as createTessera (app.ts) builds it, without the HTTP server, the
 * GraphQL schema or the live feed, which no command needs and which made up
 * most of a command's start: what a command changes reaches a server's feed
 * and webhooks through the history it writes.
 */
export async function withDomain<T>(config: Config, work: (domain: CommandDomain) => Promise<T>): Promise<T> {
  const logger = createLogger('warn');
  const generators = createDefaultRegistry(config.defaultGeneratorId);
  const { db } = await openDatabase(config.engine, config.databaseUrl, {
    beforeConnect: async (adapterFactory) => {
      const applied = await migrateIfPending(config.engine, adapterFactory, (line) => logger.debug({ engine: config.engine }, line));
      if (applied.length > 0) logger.info({ engine: config.engine, applied }, 'applied database migrations');
    },
  });
  const hotPath = openHotPath(config.engine, config.databaseUrl, { logger });
  // Not started: the uses a command notes (none, today) are written when it closes.
  const usage = new UsageRecorder(hotPath, config.lastUsedIntervalSeconds * 1000, logger);
  const tokens = new TokenService({ db, config, generators, now: systemClock, authorizer: new Authorizer(logger), hotPath, usage });
  try {
    return await work({ tokens });
  } finally {
    await usage.stop();
    await hotPath.close();
    await db.$disconnect();
  }
}
