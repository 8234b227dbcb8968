import type { Actor } from '../model.ts';
import { createWebhook, deleteWebhook, listWebhooks, recentDeliveries, type CreateWebhookInput, type WebhookDeps } from './manage.ts';

export type { CreateWebhookInput, WebhookDeps };

/** The webhook operations, for the API: each authorizes its actor (admins only) and runs its own statements. */
export class WebhookService {
  constructor(private readonly deps: WebhookDeps) {}

  create(actor: Actor, input: CreateWebhookInput) {
    return createWebhook(this.deps, actor, input);
  }

  delete(actor: Actor, id: string): Promise<string> {
    return deleteWebhook(this.deps, actor, id);
  }

  list(actor: Actor) {
    return listWebhooks(this.deps, actor);
  }

  deliveries(actor: Actor, webhookId: string, first: number) {
    return recentDeliveries(this.deps, actor, webhookId, first);
  }
}
