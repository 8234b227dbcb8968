import DataLoader from 'dataloader';
import type { TokenService } from '../domain/token-service.ts';
import type { Loaders } from './context.ts';

/** New for each request, so that a cache never outlives the request that filled it. */
export function createLoaders(tokens: TokenService): Loaders {
  return {
    tokenByKey: new DataLoader((keys) => tokens.tokensByKeys(keys), { maxBatchSize: 500 }),
    childrenByParentKey: new DataLoader((keys) => tokens.childrenByParentKeys(keys), { maxBatchSize: 500 }),
    successorByKey: new DataLoader((keys) => tokens.successorsByKeys(keys), { maxBatchSize: 500 }),
  };
}
