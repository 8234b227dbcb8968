/**
 * A small typed Tessera client on urql's core, as a frontend would set it up:
 * the document cache and fetch, with urql's defaults (queries as GET while the
 * URL stays short, mutations as POST). The only header it adds is the
 * caller's `Authorization`. The documents come from examples/generated/
 * (`npm run codegen` over examples/*.graphql), so results and variables are typed.
 */
import { cacheExchange, Client, fetchExchange, type AnyVariables, type OperationContext, type OperationResult, type TypedDocumentNode } from '@urql/core';

export function createTesseraClient(url: string, token: string): Client {
  return new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
  });
}

/** An expected failure of a mutation (one of Tessera's typed errors): nothing was changed. */
class TesseraError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TesseraError';
  }
}

function dataOf<Data>(result: OperationResult<Data>): Data {
  // A refused credential (HTTP 401), a bad cursor or a network failure: urql's CombinedError says which.
  if (result.error) throw result.error;
  if (!result.data) throw new Error(`no data for ${result.operation.kind}`);
  return result.data;
}

/** Runs a query (through the cache: urql's default `cache-first`) and returns its data; any error throws. */
export async function query<Data, Variables extends AnyVariables>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  context?: Partial<OperationContext>,
): Promise<Data> {
  return dataOf(await client.query(document, variables, context).toPromise());
}

/** Runs a mutation and returns its data; any error throws. */
export async function mutate<Data, Variables extends AnyVariables>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
): Promise<Data> {
  return dataOf(await client.mutation(document, variables).toPromise());
}

type Member<Result, Name> = Extract<Result, { __typename: Name }>;

function isMember<Result extends { __typename: string }, Name extends Result['__typename']>(result: Result, typename: Name): result is Member<Result, Name> {
  return result.__typename === typename;
}

/** A mutation's result union narrowed to its success member; a typed error throws as a TesseraError. */
export function expectSuccess<Result extends { __typename: string; code?: string; message?: string }, Name extends Result['__typename']>(
  result: Result,
  typename: Name,
): Member<Result, Name> {
  if (isMember(result, typename)) return result;
  throw new TesseraError(result.code ?? result.__typename, result.message ?? `expected ${typename}, got ${result.__typename}`);
}
