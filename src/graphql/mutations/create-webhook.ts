import type { WebhookRow } from '../../db/client.ts';
import { InvalidInputError, PermissionDeniedError } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { WebhookEventEnum, WebhookRef } from '../types/webhook.ts';

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  description: 'A receiver of event notifications.',
  fields: (t) => ({
    url: t.string({
      required: true,
      description: 'Where to POST events: an http or https URL (up to 2,000 characters). Loopback, private and link-local destinations are refused.',
    }),
    events: t.field({ type: [WebhookEventEnum], required: true, description: 'The events to receive (at least one).' }),
    description: t.string({ required: false, description: 'What it is for (up to 1,000 characters).' }),
  }),
});

const CreateWebhookPayload = builder.objectRef<{ webhook: WebhookRow; secret: string }>('CreateWebhookPayload').implement({
  description: 'A successful createWebhook: the webhook and, this once, its signing secret.',
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, description: 'The new webhook.', resolve: (result) => result.webhook }),
    secret: t.exposeString('secret', {
      description: 'The signing secret (whsec_…), for the receiver to verify each delivery with (Standard Webhooks). Shown this once.',
    }),
  }),
});

builder.mutationField('createWebhook', (t) =>
  t.field({
    type: CreateWebhookPayload,
    description: 'Creates a webhook (administrators only); it receives the events recorded from now on. Returns its signing secret, once.',
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: 'The webhook to create.' }) },
    errors: {
      types: [InvalidInputError, PermissionDeniedError],
      union: { name: 'CreateWebhookResult', description: 'The new webhook and its secret, or why none was made.' },
    },
    resolve: (_root, { input }, context) => context.webhooks.create(context.actor, input),
  }),
);
