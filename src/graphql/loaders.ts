import DataLoader from 'dataloader';
import type { TokenRow } from '../db/client.ts';
import type { Position } from '../domain/pagination.ts';
import type { ChildrenPage, TokenService } from '../domain/token-service.ts';
import type { ChildrenRequest, Loaders } from './context.ts';

/**
 * New for each request, so that a cache never outlives the request that
 * filled it. Each loader is made when a resolver first asks for it: most
 * requests (a verification, a mutation) use none.
 */
export function createLoaders(tokens: TokenService): Loaders {
  return new RequestLoaders(tokens);
}

class RequestLoaders implements Loaders {
  private tokens?: DataLoader<string, TokenRow | null>;
  private children?: DataLoader<ChildrenRequest, ChildrenPage, string>;
  private childCounts?: DataLoader<string, number>;
  private successors?: DataLoader<string, TokenRow | null>;

  constructor(private readonly service: TokenService) {}

  get tokenByKey(): DataLoader<string, TokenRow | null> {
    this.tokens ??= new DataLoader((keys) => this.service.tokensByKeys(keys), { maxBatchSize: 500 });
    return this.tokens;
  }

  get childrenByParentKey(): DataLoader<ChildrenRequest, ChildrenPage, string> {
    this.children ??= new DataLoader((requests) => childrenByPage(this.service, requests), { maxBatchSize: 500, cacheKeyFn: childrenKey });
    return this.children;
  }

  get childCountByParentKey(): DataLoader<string, number> {
    this.childCounts ??= new DataLoader((keys) => this.service.childCounts(keys), { maxBatchSize: 500 });
    return this.childCounts;
  }

  get successorByKey(): DataLoader<string, TokenRow | null> {
    this.successors ??= new DataLoader((keys) => this.service.successorsByKeys(keys), { maxBatchSize: 500 });
    return this.successors;
  }
}

/** The page asked for, whoever's children: requests for the same page share a statement. */
const pageKey = ({ page }: ChildrenRequest): string => JSON.stringify([page.first, page.last, positionKey(page.after), positionKey(page.before)]);
const positionKey = (position: Position<string> | null | undefined) =>
  position ? [position.value instanceof Date ? `time:${position.value.getTime()}` : position.value, position.id] : null;
const childrenKey = (request: ChildrenRequest): string => `${pageKey(request)}:${request.parentKey}`;

/** A batch of children requests: one statement per distinct page (a page of tokens usually asks for one). */
async function childrenByPage(tokens: TokenService, requests: readonly ChildrenRequest[]): Promise<(ChildrenPage | Error)[]> {
  const pages = new Map<string, ChildrenRequest[]>();
  for (const request of requests) pages.set(pageKey(request), [...(pages.get(pageKey(request)) ?? []), request]);
  const answers = await Promise.all(
    [...pages.values()].map(async (group) => {
      const parentKeys = [...new Set(group.map((request) => request.parentKey))];
      const [{ page }] = group as [ChildrenRequest];
      try {
        const children = await tokens.childrenPages(parentKeys, page);
        return parentKeys.map((parentKey, index) => [childrenKey({ parentKey, page }), children[index] as ChildrenPage] as const);
      } catch (error) {
        // A page request the domain refuses (a size out of bounds) fails the fields that asked for it, not the whole batch.
        return parentKeys.map((parentKey) => [childrenKey({ parentKey, page }), error as Error] as const);
      }
    }),
  );
  const byRequest = new Map<string, ChildrenPage | Error>(answers.flat());
  return requests.map((request) => byRequest.get(childrenKey(request)) ?? new Error('children page missing from its batch'));
}
