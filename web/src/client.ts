/**
 * The urql client for one signed-in token: queries and mutations over
 * `POST /graphql` (urql's default exchanges), and the `tokenChanges`
 * subscription over Server-Sent Events on the same path (graphql-sse's
 * distinct-connections mode, which is graphql-yoga's transport).
 */
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';

const GRAPHQL_PATH = '/graphql';

/** `onUnauthorized`: the server refused the token on some request (revoked or expired since sign-in). */
export function createConsoleClient(token: string, onUnauthorized?: () => void): Client {
  const authorization = `Bearer ${token}`;
  const sse = createSseClient({ url: GRAPHQL_PATH, headers: { authorization }, retryAttempts: 3 });
  return new Client({
    url: GRAPHQL_PATH,
    fetchOptions: { headers: { authorization } },
    // Results as the server has them now: another tab, the CLI or a sweep may have changed tokens meanwhile.
    requestPolicy: 'cache-and-network',
    exchanges: [
      mapExchange({
        onError: (error) => {
          if (isUnauthorized(error)) onUnauthorized?.();
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
}

/** The server refused the token itself (revoked, expired or unknown): the session is over. */
export function isUnauthorized(error: CombinedError | undefined): boolean {
  const response = error?.response as { status?: number } | undefined;
  return response?.status === 401;
}
