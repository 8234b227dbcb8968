/**
 * The GraphQL documents the cases send (the throughput ones exactly as
 * side-by-side.sh sends them), and a small client for setting cases up
 * (minting tokens, checking a page). Nothing measured goes through the client.
 */

export const VERIFY_QUERY = '{ viewer { username } }';
export const INTROSPECT_QUERY = 'query($t: String!) { introspectToken(token: $t) { active scope } }';
export const CREATE_MUTATION =
  'mutation($name: String!) { generateToken(input: { name: $name }) { __typename ... on GenerateTokenPayload { secret token { key } } ... on Error { code message } } }';
const HISTORY_NODE = 'node { token action eventTime tokenRecord { key name parent { key } } parentRecord { key } }';
export const HISTORY_QUERY = `{ tokenHistory(first: 100) { edges { ${HISTORY_NODE} } } }`;
/** The history page of the deep-history case: the same selection, from a cursor and with a filter. */
export const HISTORY_PAGE_QUERY = `query($after: String, $filter: TokenHistoryFilter) { tokenHistory(first: 100, after: $after, filter: $filter) { edges { ${HISTORY_NODE} } } }`;
export const HISTORY_CURSORS_QUERY =
  'query($after: String, $filter: TokenHistoryFilter) { tokenHistory(first: 100, after: $after, filter: $filter) { edges { cursor node { token } } } }';
export const INVALIDATE_MUTATION =
  'mutation($usernames: [String!]) { invalidateTokens(input: { usernames: $usernames }) { __typename ... on InvalidateTokensPayload { count } ... on Error { code message } } }';

/** A request body, as JSON text. */
export const body = (query: string, variables?: Record<string, unknown>): string => JSON.stringify(variables ? { query, variables } : { query });

export const bearer = (token: string): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

class GraphQLFailure extends Error {}

/** Posts one operation; its `data`, or a GraphQLFailure with what came back. */
export async function graphql<Data>(url: string, query: string, variables: Record<string, unknown> | undefined, token: string | null): Promise<Data> {
  const response = await fetch(url, {
    method: 'POST',
    headers: token ? bearer(token) : { 'content-type': 'application/json' },
    body: body(query, variables),
  });
  const text = await response.text();
  let parsed: { data?: Data; errors?: unknown } = {};
  try {
    parsed = JSON.parse(text) as { data?: Data; errors?: unknown };
  } catch {
    // reported below
  }
  if (response.status !== 200 || parsed.errors !== undefined || parsed.data === undefined) {
    throw new GraphQLFailure(`${response.status} ${text.slice(0, 400)}`);
  }
  return parsed.data;
}

interface Minted {
  generateToken: { __typename: string; secret?: string; token?: { key: string }; code?: string; message?: string };
}

/** Mints a token as `caller` (the bootstrap secret, usually); its secret and key. */
export async function mintToken(
  url: string,
  caller: string,
  input: { username: string; name?: string; scopes: string[]; tokenType?: 'USER' | 'NOTEBOOK'; parent?: string },
): Promise<{ secret: string; key: string }> {
  const data = await graphql<Minted>(
    url,
    'mutation($input: GenerateTokenInput!) { generateToken(input: $input) { __typename ... on GenerateTokenPayload { secret token { key } } ... on Error { code message } } }',
    { input },
    caller,
  );
  const { secret, token, code, message } = data.generateToken;
  if (!secret || !token) throw new GraphQLFailure(`could not mint a token for ${input.username}: ${code} ${message}`);
  return { secret, key: token.key };
}
