import type { WebhookDeliveryRow, WebhookRow } from '../../db/client.ts';
import { eventsOf, WEBHOOK_EVENTS, type WebhookEvent } from '../../domain/webhooks/events.ts';
import { builder } from '../builder.ts';
import { PRICE } from '../complexity.ts';

/** The worker keeps at most 500 characters of an attempt's error. */
const LAST_ERROR_PRICE = Math.ceil((500 * 4) / 1024);
/** Recent deliveries shown by default: enough to see how the last events went. */
const DEFAULT_DELIVERIES = 20;

const EVENT_DESCRIPTIONS: Record<WebhookEvent, string> = {
  'token.created': 'A token was made (generateToken, a rotation, the command line): its CREATE entry. Sent as `token.created`.',
  'token.edited': 'A token was edited (editToken, a parent narrowed, a rotation grace period): its EDIT entry. Sent as `token.edited`.',
  'token.revoked': 'A token was revoked or invalidated (with its descendants, each its own event): its REVOKE entry. Sent as `token.revoked`.',
  'token.expired': 'The sweep recorded that a token expired: its EXPIRE entry. Sent as `token.expired`.',
  'token.expiring':
    'A token will expire within one of the warning thresholds (TESSERA_EXPIRY_WARNING_DAYS), sent once per token and threshold. Sent as `token.expiring`.',
};

const enumName = (event: WebhookEvent) => event.replace('.', '_').toUpperCase();

export const WebhookEventEnum = builder.enumType('WebhookEvent', {
  description: "An event a webhook may receive; a delivery's `type` is its name in lowercase with a dot (TOKEN_CREATED: `token.created`).",
  values: Object.fromEntries(WEBHOOK_EVENTS.map((event) => [enumName(event), { value: event, description: EVENT_DESCRIPTIONS[event] }])) as Record<
    string,
    { value: WebhookEvent; description: string }
  >,
});

const DeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where a delivery stands.',
  values: {
    PENDING: { value: 'pending', description: 'Not yet delivered: waiting for its first attempt or for a retry.' },
    DELIVERED: { value: 'delivered', description: 'The receiver answered an attempt with a 2xx status.' },
    FAILED: { value: 'failed', description: 'Given up, a day after the event, every attempt having failed.' },
  } as const,
});

const WebhookDeliveryRef = builder.objectRef<WebhookDeliveryRow>('WebhookDelivery').implement({
  description: 'One event sent (or to be sent) to a webhook, and what came of it.',
  fields: (t) => ({
    id: t.id({ description: 'Id of the delivery.', resolve: (delivery) => String(delivery.id) }),
    eventId: t.exposeString('eventId', { description: 'The webhook-id header it is sent with: the same on every attempt, so a receiver can drop repeats.' }),
    eventType: t.field({ type: WebhookEventEnum, description: 'The event.', resolve: (delivery) => delivery.eventType as WebhookEvent }),
    status: t.field({
      type: DeliveryStatus,
      description: 'Whether it was delivered, is still being tried, or was given up.',
      resolve: (delivery) => (delivery.deliveredAt ? 'delivered' : delivery.failedAt ? 'failed' : 'pending'),
    }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far.' }),
    lastStatusCode: t.int({
      nullable: true,
      description: 'The HTTP status of the last attempt; null when the receiver did not answer (or none was made).',
      resolve: (delivery) => delivery.lastStatus,
    }),
    lastError: t.string({
      nullable: true,
      description: 'Why the last attempt failed (an HTTP status, a timeout, a refused address); null after a success.',
      complexity: LAST_ERROR_PRICE,
      resolve: (delivery) => delivery.lastError,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the event was queued for this webhook.' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true, description: 'When the last attempt was made.' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true, description: 'When it will be tried next; null once delivered or given up.' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true, description: 'When an attempt succeeded.' }),
    failedAt: t.expose('failedAt', { type: 'DateTime', nullable: true, description: 'When it was given up.' }),
  }),
});

export const WebhookRef = builder.objectRef<WebhookRow>('Webhook').implement({
  description: 'A receiver of signed event notifications (Standard Webhooks). Its signing secret is shown once, by createWebhook.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Id of the webhook (deleteWebhook takes it).' }),
    url: t.exposeString('url', { description: 'Where events are POSTed.', complexity: PRICE.longText }),
    events: t.field({ type: [WebhookEventEnum], description: 'The events it receives.', resolve: (webhook) => eventsOf(webhook.events) }),
    description: t.exposeString('description', { description: 'What it is for, in words for people.', complexity: PRICE.longText }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    createdBy: t.exposeString('createdBy', { description: 'Who created it.' }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: 'Its most recent deliveries, newest first.',
      args: {
        first: t.arg.int({
          required: false,
          defaultValue: DEFAULT_DELIVERIES,
          description: `How many (default ${DEFAULT_DELIVERIES}; the page size limit applies).`,
        }),
      },
      resolve: (webhook, { first }, context) => context.webhooks.deliveries(context.actor, webhook.id, first ?? DEFAULT_DELIVERIES),
    }),
  }),
});

builder.queryField('webhooks', (t) =>
  t.field({
    type: [WebhookRef],
    description: 'Every webhook, oldest first (administrators only; at most 100 exist).',
    complexity: { field: PRICE.shortScalar, multiplier: 100 },
    resolve: (_root, _args, context) => context.webhooks.list(context.actor),
  }),
);
