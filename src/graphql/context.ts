import type DataLoader from 'dataloader';
import type { TokenRow } from '../db/client.ts';
import type { Actor } from '../domain/model.ts';
import type { LiveFeed } from '../feed/feed.ts';
import type { PageRequest } from '../domain/pagination.ts';
import type { ChildrenPage, TokenService } from '../domain/token-service.ts';
import type { WebhookService } from '../domain/webhooks/service.ts';
import type { Pricing } from './complexity.ts';

export interface ChildrenRequest {
  parentKey: string;
  page: PageRequest<string>;
}

export interface Loaders {
  tokenByKey: DataLoader<string, TokenRow | null>;
  /** A page of a parent's children: one statement per batch and page asked for. */
  childrenByParentKey: DataLoader<ChildrenRequest, ChildrenPage, string>;
  /** How many children a parent has (the children connection's totalCount): one statement per batch. */
  childCountByParentKey: DataLoader<string, number>;
  /** The token that replaced this one (rotateToken). */
  successorByKey: DataLoader<string, TokenRow | null>;
}

/** Where a mutation notes what it changed, for the request's log line (http/request-log.ts): keys and counts, never a secret. */
interface ChangeNote {
  changes: Readonly<Record<string, string | number>> | undefined;
}

/** What every resolver gets: who is asking, the domain, and this request's loaders. */
export interface GraphQLContext {
  actor: Actor;
  tokens: TokenService;
  /** Webhooks (admins only). */
  webhooks: WebhookService;
  loaders: Loaders;
  /** What fields cost in this process's configuration (complexity.ts). */
  pricing: Pricing;
  /** The live change feed (subscription tokenChanges). */
  feed: LiveFeed;
  /** The client's connection: aborted when it goes away; close() drops it. */
  connection: { signal: AbortSignal; close: () => void };
  requestLog: ChangeNote;
}
