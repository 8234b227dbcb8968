import type { Engine } from '../config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import type { Clock } from '../domain/model.ts';
import type { Logger } from '../logger.ts';
import { Dispatcher } from './dispatcher.ts';
import { DeliveryWorker } from './worker.ts';

/** How often the history is looked at and due deliveries are claimed. */
const TICK_MS = 500;

export interface WebhookRunnerOptions {
  engine: Engine;
  databaseUrl: string;
  now: Clock;
  logger: Logger;
  retrySeconds: number;
  allowPrivate: boolean;
}

/**
 * The webhooks of this server: every half second, queues what the history
 * recorded since (dispatcher.ts) and sends what is due (worker.ts). It has
 * its own database client, so that its background statements neither wait
 * for nor hold up the requests' (nor show among a request's statements).
 * Returns a stop function, which aborts sends in progress and releases their
 * deliveries for the next start.
 */
export async function startWebhooks(options: WebhookRunnerOptions): Promise<() => Promise<void>> {
  const { db } = await openDatabase(options.engine, options.databaseUrl);
  const dispatcher = new Dispatcher(db, options.engine, options.now);
  const worker = new DeliveryWorker({ ...options, db });
  let stopped = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    timer = null;
    running = once(db, dispatcher, worker)
      .catch((error: unknown) => options.logger.error({ err: error }, 'webhooks: dispatching or claiming deliveries failed; retrying'))
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(tick, TICK_MS).unref();
      });
  };
  timer = setTimeout(tick, 0).unref();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
    await worker.stop();
    await db.$disconnect();
  };
}

async function once(db: Database, dispatcher: Dispatcher, worker: DeliveryWorker): Promise<void> {
  const webhooks = await db.webhook.findMany({ select: { id: true, events: true, cursorTxId: true, cursorId: true } });
  // Deliveries go with their webhook: without one there is nothing to do.
  if (webhooks.length === 0) return;
  await dispatcher.run(webhooks);
  await worker.claim();
}
