import DataLoader from 'dataloader';
import type { TokenService } from '../domain/token-service.ts';
import type { TokenRow } from '../db/client.ts';
import type { ChildrenRequest, Loaders } from './context.ts';

/** New for each request, so that a cache never outlives the request that filled it. */
export function createLoaders(tokens: TokenService): Loaders {
  return {
    tokenByKey: new DataLoader((keys) => tokens.tokensByKeys(keys), { maxBatchSize: 500 }),
    childrenByParentKey: new DataLoader((requests) => childrenBySize(tokens, requests), { maxBatchSize: 500, cacheKeyFn: childrenKey }),
    successorByKey: new DataLoader((keys) => tokens.successorsByKeys(keys), { maxBatchSize: 500 }),
  };
}

const childrenKey = ({ parentKey, first }: ChildrenRequest): string => `${first}:${parentKey}`;

/** A batch of children requests: one statement per distinct page size (a page of tokens usually asks for one). */
async function childrenBySize(tokens: TokenService, requests: readonly ChildrenRequest[]): Promise<TokenRow[][]> {
  const sizes = [...new Set(requests.map((request) => request.first))];
  const answers = await Promise.all(
    sizes.map(async (first) => {
      const parentKeys = [...new Set(requests.filter((request) => request.first === first).map((request) => request.parentKey))];
      const children = await tokens.childrenByParentKeys(parentKeys, first);
      return parentKeys.map((parentKey, index) => [childrenKey({ parentKey, first }), children[index] ?? []] as const);
    }),
  );
  const byRequest = new Map(answers.flat());
  return requests.map((request) => byRequest.get(childrenKey(request)) ?? []);
}
