import type { Engine } from '../config.ts';
import type { Database } from '../db/client.ts';
import { claimDeliveries, type ClaimedDelivery } from '../db/webhook-deliveries.ts';
import type { Clock } from '../domain/model.ts';
import type { Logger } from '../logger.ts';
import { webhookDeliveries } from '../metrics.ts';
import { ATTEMPT_TIMEOUT_MS, sendDelivery, type Attempt } from './send.ts';
import { signedHeaders } from './signing.ts';

/** What became of one attempt: delivered, failed and to be retried, or failed for good (a day after the event). */
const OUTCOMES = ['delivered', 'retrying', 'failed'] as const;
type DeliveryOutcome = (typeof OUTCOMES)[number];
// Every outcome is exported from the start, at 0, so that a rate over it exists before the first attempt.
for (const outcome of OUTCOMES) webhookDeliveries.labels(outcome);

/** Deliveries one process sends at once. */
const MAX_IN_FLIGHT = 16;
/** How long a claim holds: well past an attempt's timeout, so that only a crashed worker's claim runs out. */
const LEASE_MS = 6 * ATTEMPT_TIMEOUT_MS;
/** A delivery is given up this long after its event. */
const GIVE_UP_AFTER_MS = 24 * 3600_000;
/** Retry delays double from the first up to this. */
const MAX_DELAY_MS = 3600_000;

export interface WorkerOptions {
  db: Database;
  engine: Engine;
  now: Clock;
  logger: Logger;
  /** TESSERA_WEBHOOK_RETRY_SECONDS: the delay after the first failure. */
  retrySeconds: number;
  allowPrivate: boolean;
}

/**
 * Sends due deliveries: claims them with a lease (db/webhook-deliveries.ts
 * claimDeliveries: each goes to one worker of however many processes),
 * signs and sends each, and records the outcome. A failure is retried after
 * the first delay, doubling each time (capped at an hour, with jitter so that
 * a receiver coming back is not hit by every retry at once), until a day
 * after the event, when the delivery is marked failed.
 */
export class DeliveryWorker {
  private readonly inFlight = new Map<number, { abort: AbortController; done: Promise<void> }>();

  constructor(private readonly options: WorkerOptions) {}

  /** Claims and starts what is due, up to the in-flight limit; does not wait for the sends. */
  async claim(): Promise<number> {
    const room = MAX_IN_FLIGHT - this.inFlight.size;
    if (room <= 0) return 0;
    const { db, engine } = this.options;
    const now = this.options.now();
    // A cheap look first: on SQLite the claim's UPDATE takes the write lock.
    if (!(await db.webhookDelivery.findFirst({ where: { nextAttemptAt: { lte: now } }, select: { id: true } }))) return 0;
    const claimed = await claimDeliveries(db, engine, now, new Date(now.getTime() + LEASE_MS), room);
    for (const delivery of claimed) {
      const abort = new AbortController();
      const done = this.attempt(delivery, abort.signal)
        .catch((error: unknown) => this.options.logger.error({ err: error, delivery: delivery.id }, 'webhooks: recording a delivery attempt failed'))
        .finally(() => this.inFlight.delete(delivery.id));
      this.inFlight.set(delivery.id, { abort, done });
    }
    return claimed.length;
  }

  /** Aborts the sends in progress; their deliveries are released, to be sent again (by this server after a restart, or another). */
  async stop(): Promise<void> {
    for (const { abort } of this.inFlight.values()) abort.abort();
    await Promise.all([...this.inFlight.values()].map(({ done }) => done));
  }

  private async attempt(delivery: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const { db } = this.options;
    const webhook = await db.webhook.findUnique({ where: { id: delivery.webhookId }, select: { url: true, secret: true } });
    // Deleted meanwhile: its deliveries went with it.
    if (!webhook) return;
    const result = await sendDelivery({
      url: webhook.url,
      body: delivery.payload,
      headers: signedHeaders(webhook.secret, delivery.eventId, delivery.payload),
      allowPrivate: this.options.allowPrivate,
      signal,
    });
    if (signal.aborted) {
      await db.webhookDelivery.updateMany({ where: { id: delivery.id, deliveredAt: null }, data: { leaseUntil: null } });
      return;
    }
    const outcome = await this.record(delivery, result);
    webhookDeliveries.inc({ outcome });
    this.options.logger[outcome === 'delivered' ? 'debug' : 'info'](
      { webhook: delivery.webhookId, event: delivery.eventId, attempt: delivery.attempts + 1, status: result.status, error: result.error, outcome },
      'webhook delivery attempt',
    );
  }

  private async record(delivery: ClaimedDelivery, result: Attempt): Promise<DeliveryOutcome> {
    const now = this.options.now();
    const attempts = delivery.attempts + 1;
    const common = { attempts, lastAttemptAt: now, lastStatus: result.status, lastError: result.error?.slice(0, 500) ?? null, leaseUntil: null };
    const where = { id: delivery.id, deliveredAt: null };
    if (result.ok) {
      await this.options.db.webhookDelivery.updateMany({ where, data: { ...common, deliveredAt: now, nextAttemptAt: null } });
      return 'delivered';
    }
    const giveUpAt = delivery.createdAt.getTime() + GIVE_UP_AFTER_MS;
    if (now.getTime() >= giveUpAt) {
      await this.options.db.webhookDelivery.updateMany({ where, data: { ...common, failedAt: now, nextAttemptAt: null } });
      return 'failed';
    }
    const delay = Math.min(this.options.retrySeconds * 1000 * 2 ** (attempts - 1), MAX_DELAY_MS) * (1 + Math.random() * 0.2);
    // The last try falls on the day's end, then it is given up.
    const next = new Date(Math.min(now.getTime() + delay, giveUpAt));
    await this.options.db.webhookDelivery.updateMany({ where, data: { ...common, nextAttemptAt: next } });
    return 'retrying';
  }
}
