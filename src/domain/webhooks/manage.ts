import { z } from 'zod';
import type { Database } from '../../db/client.ts';
import { inTransaction } from '../../db/transaction.ts';
import { InvalidInputError, WebhookNotFoundError } from '../errors.ts';
import { secureRandomBytes } from '../secrets.ts';
import type { Actor, Clock } from '../model.ts';
import type { Authorizer } from '../rules/authorization.ts';
import { longText, parseInput } from '../rules/input.ts';
import type { Engine } from '../../config.ts';
import { WEBHOOK_EVENTS } from './events.ts';
import { refusedLiteral } from './destinations.ts';

/** What the webhook operations work with; built once by createTessera. */
export interface WebhookDeps {
  db: Database;
  engine: Engine;
  authorizer: Authorizer;
  now: Clock;
  /** TESSERA_WEBHOOK_ALLOW_PRIVATE: whether an address literal in a private range is accepted. */
  allowPrivate: boolean;
}

/** More would make every sweep and every history tail that much longer. */
const MAX_WEBHOOKS = 100;
const MAX_URL_LENGTH = 2000;

const webhookUrl = z
  .string()
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .refine((value) => URL.canParse(value), { message: 'is not a URL', abort: true })
  .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), { message: 'must be an http or https URL', abort: true })
  .refine((value) => new URL(value).username === '' && new URL(value).password === '', { message: 'must not carry a user name or password', abort: true })
  .refine((value) => !/[\p{Cc}\s]/u.test(value), 'must not contain spaces or control characters');

const createInput = z.object({
  url: webhookUrl,
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1, 'must name at least one event')
    .transform((events) => [...new Set(events)].sort()),
  description: longText.default(''),
});

export interface CreateWebhookInput {
  url: string;
  events: readonly string[];
  description?: string | null;
}

/** `whsec_` and 32 random bytes in base64, the secret format Standard Webhooks libraries read. */
const newSecret = () => `whsec_${secureRandomBytes(32).toString('base64')}`;
const newId = () => `wh_${secureRandomBytes(16).toString('base64url')}`;

/**
 * Creates a webhook; the answer carries its signing secret, which is never
 * shown again. Its tail of the history starts now: it receives the events
 * recorded from here on, not the past ones.
 */
export async function createWebhook(deps: WebhookDeps, actor: Actor, input: CreateWebhookInput) {
  deps.authorizer.authorize(actor, 'create webhooks', { admin: true });
  const parsed = parseInput(createInput, { ...input, description: input.description ?? undefined });
  const literal = deps.allowPrivate ? null : refusedLiteral(new URL(parsed.url).hostname);
  if (literal) throw new InvalidInputError(`url points at ${literal} (loopback, private and link-local addresses are refused)`, 'url');
  const secret = newSecret();
  const webhook = await inTransaction(deps.db, async (tx) => {
    if ((await tx.webhook.count()) >= MAX_WEBHOOKS) throw new InvalidInputError(`There are already ${MAX_WEBHOOKS} webhooks, the most allowed`, null);
    const cursor = await tailStart(tx, deps.engine);
    return tx.webhook.create({
      data: {
        id: newId(),
        url: parsed.url,
        events: parsed.events,
        description: parsed.description,
        secret,
        createdAt: deps.now(),
        createdBy: actor.username,
        cursorTxId: cursor.txId,
        cursorId: cursor.id,
      },
    });
  });
  return { webhook, secret };
}

/**
 * Where a new webhook's tail starts: after the last entry on SQLite (one
 * writer: ids are in commit order); on PostgreSQL at the oldest running
 * transaction, so that no entry committed from now on is missed (a few
 * committed just before may be delivered too: at least once).
 */
async function tailStart(tx: Parameters<Parameters<Database['$transaction']>[0]>[0], engine: Engine): Promise<{ txId: bigint; id: number }> {
  if (engine === 'sqlite') {
    const last = await tx.tokenChangeHistoryEntry.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
    return { txId: 0n, id: last?.id ?? 0 };
  }
  const rows = await tx.$queryRawUnsafe<{ xmin: string }[]>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
  return { txId: BigInt(rows[0]?.xmin ?? '0'), id: -1 };
}

/** Deletes a webhook and its deliveries (queued ones are never sent). */
export async function deleteWebhook(deps: WebhookDeps, actor: Actor, id: string): Promise<string> {
  deps.authorizer.authorize(actor, 'delete webhooks', { admin: true });
  const { count } = await deps.db.webhook.deleteMany({ where: { id } });
  if (count === 0) throw new WebhookNotFoundError(id);
  return id;
}

export async function listWebhooks(deps: WebhookDeps, actor: Actor) {
  deps.authorizer.authorize(actor, 'list webhooks', { admin: true });
  return deps.db.webhook.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/** A webhook's most recent deliveries, newest first. */
export async function recentDeliveries(deps: WebhookDeps, actor: Actor, webhookId: string, first: number) {
  deps.authorizer.authorize(actor, 'list webhook deliveries', { admin: true });
  return deps.db.webhookDelivery.findMany({ where: { webhookId }, orderBy: { id: 'desc' }, take: first });
}
