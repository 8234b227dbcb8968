import type DataLoader from 'dataloader';
import type { TokenRow } from '../db/client.ts';
import type { Actor } from '../domain/model.ts';
import type { TokenService } from '../domain/token-service.ts';
import type { Pricing } from './complexity.ts';

export interface ChildrenRequest {
  parentKey: string;
  first: number;
}

export interface Loaders {
  tokenByKey: DataLoader<string, TokenRow | null>;
  /** The first `first` children of a parent: one statement per batch and page size. */
  childrenByParentKey: DataLoader<ChildrenRequest, TokenRow[], string>;
  /** The token that replaced this one (rotateToken). */
  successorByKey: DataLoader<string, TokenRow | null>;
}

/** What every resolver gets: who is asking, the domain, and this request's loaders. */
export interface GraphQLContext {
  actor: Actor;
  tokens: TokenService;
  loaders: Loaders;
  /** What fields cost in this process's configuration (complexity.ts). */
  pricing: Pricing;
}
