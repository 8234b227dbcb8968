import { PermissionDeniedError, WebhookNotFoundError } from '../../domain/errors.ts';
import { builder } from '../builder.ts';

const DeleteWebhookInput = builder.inputType('DeleteWebhookInput', {
  description: 'The webhook to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Id of the webhook.' }) }),
});

const DeleteWebhookPayload = builder.objectRef<{ id: string }>('DeleteWebhookPayload').implement({
  description: 'A successful deleteWebhook.',
  fields: (t) => ({ id: t.exposeID('id', { description: 'Id of the deleted webhook.' }) }),
});

builder.mutationField('deleteWebhook', (t) =>
  t.field({
    type: DeleteWebhookPayload,
    description: 'Deletes a webhook and its deliveries, sent or not (administrators only).',
    args: { input: t.arg({ type: DeleteWebhookInput, required: true, description: 'The webhook to delete.' }) },
    errors: {
      types: [PermissionDeniedError, WebhookNotFoundError],
      union: { name: 'DeleteWebhookResult', description: 'The deleted webhook, or why nothing was deleted.' },
    },
    resolve: async (_root, { input }, context) => ({ id: await context.webhooks.delete(context.actor, String(input.id)) }),
  }),
);
