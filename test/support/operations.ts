/**
 * The GraphQL operations the tests send, as typed documents, and the helpers
 * built on them: the one place a test finds them, so that no test keeps a copy.
 *
 * Every document is written with the `graphql(...)` that `npm run codegen`
 * generates into test/generated/ (git-ignored) from schema.graphql and the
 * documents it finds in test/**\/*.ts. A document's result and variable types
 * come from the schema, so a schema change that would break a client breaks
 * `tsc` over the tests. The text passed to `graphql(...)` must be a plain
 * template literal (no interpolation): it is the key of the generated overload.
 */
import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import { expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import type {
  GenerateTokenInput,
  HistoryEntryFragment,
  InvalidateTokensInput,
  RevokeTokenInput,
  TokenHistoryFilter,
  TokenViewFragment,
} from '../generated/graphql.ts';
import { BOOTSTRAP_TOKEN, type GraphQLResponse, type TestServer } from './harness.ts';

export type { GenerateTokenInput, InvalidateTokensInput, RevokeTokenInput, TokenChange, TokenFilter, TokenHistoryFilter } from '../generated/graphql.ts';

// ---- documents ---------------------------------------------------------------

/** A token as `token(key)` and `tokens` show it; the operations spread it by name (so not imported: @public). */
export const TOKEN_VIEW = graphql(`
  fragment TokenView on Token {
    id key username tokenType name note parentKey service scopes
    createdAt expiresAt lastUsedAt lastUpdatedAt valid invalidatedAt invalidReason
  }
`);

/** A history entry, every field, and the token it links to; spread by name (@public). */
export const HISTORY_ENTRY = graphql(`
  fragment HistoryEntry on TokenChangeHistoryEntry {
    id token username tokenType tokenName parent scopes service expires actor action
    oldTokenName oldScopes oldExpires ipAddress eventTime reduced tokenRecord { key }
  }
`);

export const VIEWER = graphql(`
  query Viewer {
    viewer { username scopes isAdmin tokenKey }
  }
`);

export const TOKEN = graphql(`
  query Token($key: String!) {
    token(key: $key) { ...TokenView }
  }
`);

export const TOKENS = graphql(`
  query Tokens($username: String, $filter: TokenFilter, $includeInvalid: Boolean, $first: Int, $after: String, $last: Int, $before: String) {
    tokens(username: $username, filter: $filter, includeInvalid: $includeInvalid, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...TokenView } }
    }
  }
`);

/** A page of the change history. */
export const HISTORY = graphql(`
  query History($filter: TokenHistoryFilter, $first: Int, $after: String, $last: Int, $before: String) {
    tokenHistory(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...HistoryEntry } }
    }
  }
`);

export const GENERATE = graphql(`
  mutation Generate($input: GenerateTokenInput!) {
    generateToken(input: $input) {
      __typename
      ... on GenerateTokenPayload {
        secret
        token { id key username tokenType name scopes service parentKey note policy metadata generatorId deprecated expiresAt valid }
      }
      ... on Error { code message }
      ... on InvalidInputError { field }
      ... on ScopesTooBroadError { scopes }
    }
  }
`);

export const INVALIDATE = graphql(`
  mutation Invalidate($input: InvalidateTokensInput!) {
    invalidateTokens(input: $input) {
      __typename
      ... on InvalidateTokensPayload { count keys }
      ... on Error { code message }
      ... on InvalidInputError { field }
    }
  }
`);

export const REVOKE = graphql(`
  mutation Revoke($input: RevokeTokenInput!) {
    revokeToken(input: $input) {
      __typename
      ... on InvalidateTokensPayload { count keys }
      ... on Error { code message }
      ... on InvalidInputError { field }
      ... on TokenNotFoundError { key }
    }
  }
`);

/** Relay's node(id): what a client sends with an id it was given (or, by mistake, something else). */
export const NODE_BY_ID = graphql(`
  query NodeById($id: ID!) {
    node(id: $id) { __typename id }
  }
`);

/** The history since an instant given as a DateTime variable. */
export const HISTORY_SINCE = graphql(`
  query HistorySince($since: DateTime) {
    tokenHistory(filter: { since: $since }, first: 1) { totalCount }
  }
`);

/** A token's children, a page of them. */
export const TOKEN_CHILDREN = graphql(`
  query TokenChildren($key: String!, $first: Int, $after: String, $last: Int, $before: String) {
    token(key: $key) {
      key
      children(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { key } }
      }
    }
  }
`);

/** Eight pages of tokens with their largest fields: what the cost limit prices by the page size variable. */
export const EIGHT_HEAVY_PAGES = graphql(`
  query EightHeavyPages($n: Int) {
    a: tokens(first: $n) { edges { node { note policy metadata } } }
    b: tokens(first: $n) { edges { node { note policy metadata } } }
    c: tokens(first: $n) { edges { node { note policy metadata } } }
    d: tokens(first: $n) { edges { node { note policy metadata } } }
    e: tokens(first: $n) { edges { node { note policy metadata } } }
    f: tokens(first: $n) { edges { node { note policy metadata } } }
    g: tokens(first: $n) { edges { node { note policy metadata } } }
    h: tokens(first: $n) { edges { node { note policy metadata } } }
  }
`);

/** A page of tokens, each with a page of its children's largest fields. */
export const CHILDREN_OF_EVERY_TOKEN = graphql(`
  query ChildrenOfEveryToken($n: Int, $m: Int) {
    tokens(first: $n) { edges { node { key children(first: $m) { edges { node { note policy metadata } } } } } }
  }
`);

// ---- result types --------------------------------------------------------------

export type TokenView = TokenViewFragment;
export type HistoryEntry = HistoryEntryFragment;
export type TokensPage = ResultOf<typeof TOKENS>['tokens'];
export type HistoryPage = ResultOf<typeof HISTORY>['tokenHistory'];
export type HistoryVariables = VariablesOf<typeof HISTORY>;
export type TokensVariables = VariablesOf<typeof TOKENS>;
export type GenerateResult = ResultOf<typeof GENERATE>['generateToken'];
export type InvalidateResult = ResultOf<typeof INVALIDATE>['invalidateTokens'];
export type RevokeResult = ResultOf<typeof REVOKE>['revokeToken'];

/** The member of a union result with the given __typename. */
export type Member<T extends { __typename?: string }, Name extends string> = Extract<T, { __typename?: Name }>;

/** A successful generateToken: the secret and the token. */
export type Minted = Member<GenerateResult, 'GenerateTokenPayload'>;

// ---- assertions ----------------------------------------------------------------

function hasTypename<T extends { __typename?: string }, Name extends string>(value: T, typename: Name): value is Member<T, Name> {
  return value.__typename === typename;
}

/** Asserts that a union result is the member `typename`, and returns it as that member. */
export function expectTypename<T extends { __typename?: string }, Name extends NonNullable<T['__typename']>>(
  value: T | null | undefined,
  typename: Name,
): Member<T, Name> {
  expect(value?.__typename, JSON.stringify(value)).toBe(typename);
  if (!value || !hasTypename(value, typename)) throw new Error(`expected ${typename}, got ${JSON.stringify(value)}`);
  return value;
}

/** Asserts HTTP 200, no GraphQL errors and some data, and returns the data. */
export function expectNoErrors<Data>(response: GraphQLResponse<Data>): Data {
  expect(response.status).toBe(200);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  if (response.data === null) throw new Error(`no data: ${JSON.stringify(response.body)}`);
  return response.data;
}

// ---- helpers -------------------------------------------------------------------

/** Calls generateToken and returns the union member as is. */
export async function generate(server: TestServer, actor: string, input: GenerateTokenInput, headers?: Record<string, string>): Promise<GenerateResult> {
  return expectNoErrors(await server.request(GENERATE, { input }, { token: actor, headers })).generateToken;
}

/** Calls generateToken and insists on success. */
export async function mint(server: TestServer, actor: string, input: GenerateTokenInput, headers?: Record<string, string>): Promise<Minted> {
  return expectTypename(await generate(server, actor, input, headers), 'GenerateTokenPayload');
}

/** An admin token and two user:token holders, the usual cast of a test. */
export async function cast(server: TestServer) {
  const admin = await mint(server, BOOTSTRAP_TOKEN, { username: 'admin', name: 'admin', scopes: ['admin:token', 'user:token'] });
  const alice = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'main', scopes: ['user:token', 'read:all', 'exec:notebook'] });
  const bob = await mint(server, BOOTSTRAP_TOKEN, { username: 'bob', name: 'main', scopes: ['user:token', 'read:all'] });
  return { admin: admin.secret, alice: alice.secret, bob: bob.secret, aliceKey: alice.token.key, bobKey: bob.token.key, adminKey: admin.token.key };
}

export type Cast = Awaited<ReturnType<typeof cast>>;

/** Calls invalidateTokens and returns the union member as is. */
export async function invalidateTokens(
  server: TestServer,
  actor: string,
  input: InvalidateTokensInput,
  headers?: Record<string, string>,
): Promise<InvalidateResult> {
  return expectNoErrors(await server.request(INVALIDATE, { input }, { token: actor, headers })).invalidateTokens;
}

/** Calls revokeToken and returns the union member as is. */
export async function revokeToken(server: TestServer, actor: string, input: RevokeTokenInput, headers?: Record<string, string>): Promise<RevokeResult> {
  return expectNoErrors(await server.request(REVOKE, { input }, { token: actor, headers })).revokeToken;
}

/** Revokes a token by key and insists on success; returns the keys revoked. */
export async function revoke(server: TestServer, actor: string, key: string): Promise<string[]> {
  return expectTypename(await revokeToken(server, actor, { key }), 'InvalidateTokensPayload').keys;
}

/** The token as `actor` (by default the bootstrap secret) sees it, or null. */
export async function lookup(server: TestServer, key: string, actor = BOOTSTRAP_TOKEN): Promise<TokenView | null> {
  return expectNoErrors(await server.request(TOKEN, { key }, { token: actor })).token;
}

/** Every valid token's key across all users (the bootstrap secret's view), sorted; the test's tokens fit one page of 200. */
export async function everyValidKey(server: TestServer): Promise<string[]> {
  const { tokens } = expectNoErrors(await server.request(TOKENS, { first: 200 }, { token: BOOTSTRAP_TOKEN }));
  expect(tokens.pageInfo.hasNextPage).toBe(false);
  return tokens.edges.map((edge) => edge.node.key).sort();
}

/**
 * Every history entry matching `filter`, newest first, in one page of 200 (a
 * test's data set is smaller; pages of up to 1000 are tested in history.test.ts).
 */
export async function historyEntries(server: TestServer, filter?: TokenHistoryFilter, actor = BOOTSTRAP_TOKEN): Promise<HistoryEntry[]> {
  const { tokenHistory } = expectNoErrors(await server.request(HISTORY, { filter, first: 200 }, { token: actor }));
  expect(tokenHistory.pageInfo.hasNextPage).toBe(false);
  expect(tokenHistory.edges).toHaveLength(tokenHistory.totalCount);
  return tokenHistory.edges.map((edge) => edge.node);
}

/**
 * The history entries matching `filter` as one page reads them while something else may be writing:
 * a page's rows and its totalCount are two statements, so a commit landing between them makes them
 * differ, and only the rows are returned (for polling until a background writer's entry appears).
 */
export async function historyEntriesSoFar(server: TestServer, filter?: TokenHistoryFilter, actor = BOOTSTRAP_TOKEN): Promise<HistoryEntry[]> {
  const { tokenHistory } = expectNoErrors(await server.request(HISTORY, { filter, first: 200 }, { token: actor }));
  return tokenHistory.edges.map((edge) => edge.node);
}

/** Row counts of both tables: what "nothing was written" is measured with. */
export async function rowCounts(server: TestServer): Promise<{ tokens: number; history: number }> {
  const [tokens, history] = await Promise.all([server.tessera.db.token.count(), server.tessera.db.tokenChangeHistoryEntry.count()]);
  return { tokens, history };
}

// ---- time ----------------------------------------------------------------------

/** What the time helpers read: a server's clock (`server.clock`). */
export interface Clock {
  now(): Date;
}

/** An instant `minutes` from the clock's now, as the ISO string GraphQL's DateTime takes. */
/** Epoch seconds of an ISO time, as `reduced` and introspection write times. */
export const epochSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** Waits in real time (for other processes and timers, never for the server's clock). */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function minutesFromNow(minutes: number, clock: Clock): string {
  return new Date(clock.now().getTime() + minutes * 60_000).toISOString();
}

/** An instant `days` from the clock's now on a whole second, so that no engine rounds it and its epoch-second form is exact. */
export function daysFromNow(days: number, clock: Clock): string {
  return new Date(Math.floor(clock.now().getTime() / 1000) * 1000 + Math.round(days * 86_400_000)).toISOString();
}

// ---- lifecycle: editToken and rotateToken (edit-token*, rotate-token*, maintenance, cli-lifecycle tests) ----

export const EDIT = graphql(`
  mutation Edit($input: EditTokenInput!) {
    editToken(input: $input) {
      __typename
      ... on EditTokenPayload { token { key username tokenType name scopes expiresAt note policy valid lastUpdatedAt } }
      ... on Error { code message }
      ... on InvalidInputError { field }
      ... on ScopesTooBroadError { scopes }
      ... on UnknownScopeError { scopes }
      ... on DuplicateTokenNameError { name }
      ... on TokenNotFoundError { key }
      ... on TokenNotActiveError { key }
    }
  }
`);

export const ROTATE = graphql(`
  mutation Rotate($input: RotateTokenInput!) {
    rotateToken(input: $input) {
      __typename
      ... on RotateTokenPayload {
        secret
        token { key username tokenType name scopes service parentKey note policy metadata generatorId autoGenerated expiresAt valid }
        replaced { key name valid expiresAt invalidReason }
      }
      ... on Error { code message }
      ... on InvalidInputError { field }
      ... on TokenNotFoundError { key }
      ... on TokenNotActiveError { key }
    }
  }
`);

export type EditTokenInput = VariablesOf<typeof EDIT>['input'];
export type RotateTokenInput = VariablesOf<typeof ROTATE>['input'];
export type EditResult = ResultOf<typeof EDIT>['editToken'];
export type RotateResult = ResultOf<typeof ROTATE>['rotateToken'];

/** Calls editToken and returns the union member as is. */
export async function editToken(server: TestServer, actor: string, input: EditTokenInput, headers?: Record<string, string>): Promise<EditResult> {
  return expectNoErrors(await server.request(EDIT, { input }, { token: actor, headers })).editToken;
}

/** Calls rotateToken and returns the union member as is. */
export async function rotateToken(server: TestServer, actor: string, input: RotateTokenInput, headers?: Record<string, string>): Promise<RotateResult> {
  return expectNoErrors(await server.request(ROTATE, { input }, { token: actor, headers })).rotateToken;
}

// ---- OAuth endpoints (introspection and revocation by value) --------------------

/** RFC 7662's and RFC 7009's endpoints, beside the GraphQL one. */
export const INTROSPECT_PATH = '/oauth/introspect';
export const REVOKE_PATH = '/oauth/revoke';

export interface OAuthResponse {
  status: number;
  headers: Headers;
  /** The body as it came ('' for RFC 7009's empty answer). */
  text: string;
  /** The body parsed as JSON; undefined when it is empty. */
  body: unknown;
}

/**
 * POSTs form fields (application/x-www-form-urlencoded) to an OAuth endpoint of
 * the server, with `Authorization: Bearer <token>` when `token` is given.
 */
export async function oauthPost(
  server: TestServer,
  path: typeof INTROSPECT_PATH | typeof REVOKE_PATH,
  fields: Record<string, string>,
  { token = null, headers = {} }: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<OAuthResponse> {
  const response = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

// ---- introspection, asked in GraphQL (minting-rule and authorization tests) ------

/** introspectToken with the access question: what a resource server asks of a presented token. */
export const INTROSPECT_ACCESS = graphql(`
  query IntrospectAccess($token: String!, $access: AccessQuery) {
    introspectToken(token: $token, access: $access) { active key username scope policy allowed }
  }
`);

// ---- the live change feed (feed*.test.ts; sent over SSE by test/support/sse.ts) ----

export const TOKEN_CHANGES = graphql(`
  subscription TokenChanges($filter: TokenHistoryFilter, $resumeFrom: String) {
    tokenChanges(filter: $filter, resumeFrom: $resumeFrom) {
      cursor
      node { id token username actor action eventTime }
    }
  }
`);
