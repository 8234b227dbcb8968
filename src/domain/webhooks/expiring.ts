import { pruneWebhookRows, queueDeliveries, recordWarnings, tokensToWarn } from '../../db/webhook-deliveries.ts';
import type { Database } from '../../db/client.ts';
import { betweenChunks, inTransaction } from '../../db/transaction.ts';
import type { DomainDeps } from '../deps.ts';
import { eventsOf, expiringEvent } from './events.ts';

const DAY_MS = 86_400_000;
/** Tokens per transaction, as the rest of the sweep. */
const CHUNK = 500;

/**
 * The sweep's token.expiring events: once per token and threshold
 * (TESSERA_EXPIRY_WARNING_DAYS). Thresholds are visited from the nearest: a
 * token found inside several at once is warned at the nearest only, and the
 * farther ones are recorded as passed, so that it gets one warning, not one
 * per threshold. Each chunk's warnings and their deliveries are written in one
 * transaction. Nothing is recorded while no webhook listens for the event, so
 * that a webhook created later still hears of tokens about to expire.
 * Returns how many tokens were warned.
 */
export async function recordExpiryWarnings(deps: DomainDeps): Promise<number> {
  const { db, config } = deps;
  const thresholds = config.expiryWarningDays;
  if (thresholds.length === 0) return 0;
  const listening = async (client: Pick<Database, 'webhook'>) =>
    (await client.webhook.findMany({ select: { id: true, events: true } })).filter((hook) => eventsOf(hook.events).includes('token.expiring'));
  if ((await listening(db)).length === 0) return 0;
  const now = deps.now();
  let warned = 0;
  for (const [index, days] of thresholds.entries()) {
    const farther = thresholds.slice(index + 1);
    for (;;) {
      const { found, claimed } = await inTransaction(db, async (tx) => {
        const keys = await tokensToWarn(tx, config.engine, now, new Date(now.getTime() + days * DAY_MS), days, CHUNK);
        const claimed = await recordWarnings(tx, config.engine, keys, days, now);
        for (const beyond of farther) await recordWarnings(tx, config.engine, claimed, beyond, now);
        const hooks = await listening(tx);
        const tokens = claimed.length === 0 ? [] : await tx.token.findMany({ where: { key: { in: claimed } } });
        const deliveries = tokens.flatMap((token) => {
          const event = expiringEvent(token, days, now);
          return hooks.map((hook) => ({ webhookId: hook.id, ...event }));
        });
        await queueDeliveries(tx, config.engine, deliveries, now);
        return { found: keys.length, claimed: claimed.length };
      });
      warned += claimed;
      if (found < CHUNK) break;
      await betweenChunks();
    }
  }
  return warned;
}

/**
 * Keeps the webhook tables bounded: deliveries finished before `cutoff` (the
 * history's retention) go, as do the warnings of tokens that can never be
 * warned again. A chunk at a time, as the rest of the sweep.
 */
export async function pruneWebhookHistory(deps: DomainDeps, cutoff: Date): Promise<void> {
  for (;;) {
    const deleted = await pruneWebhookRows(deps.db, deps.config.engine, cutoff, deps.now(), CHUNK);
    if (deleted < CHUNK) return;
    await betweenChunks();
  }
}
