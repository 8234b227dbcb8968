/**
 * What a "personal access tokens" page does, as a program: sign in, list my
 * tokens page by page, create one, find it by name, edit it, rotate it, show the rotated-out
 * token with its history, page my history both ways, refetch a token by its
 * node id, revoke it. One line per step; the only secret it prints is the
 * first 8 characters of the one-time secrets.
 *
 *   TESSERA_URL=http://127.0.0.1:4000/graphql TESSERA_TOKEN=… npx tsx examples/token-page.ts
 *
 * It exits non-zero on any error.
 */
import { pathToFileURL } from 'node:url';
import type { Client } from '@urql/core';
import { createTesseraClient, expectSuccess, mutate, query } from './client.ts';
import { useFragment as readFragment } from './generated/index.ts';
import {
  CreateTokenDocument,
  EditTokenDocument,
  HistoryEntryFieldsFragmentDoc,
  HistoryPageDocument,
  MyTokensDocument,
  RefetchDocument,
  RevokeTokenDocument,
  RotateTokenDocument,
  TokenFieldsFragmentDoc,
  TokenWithHistoryDocument,
  ViewerDocument,
  type HistoryEntryFieldsFragment,
  type HistoryPageQueryVariables,
  type MyTokensQuery,
  type TokenFieldsFragment,
  type TokenFilter,
  type TokenOrder,
} from './generated/graphql.ts';

export interface TokenPageOptions {
  /** The GraphQL endpoint, such as http://127.0.0.1:4000/graphql. */
  url: string;
  /** The caller's token; it needs `user:token`. */
  token: string;
  /** Where each step's line goes; console.log by default. */
  print?: (line: string) => void;
  /** Items per page of the listings. */
  pageSize?: number;
}

/** What each step saw, for a caller that wants more than the printed lines. */
export interface TokenPageRun {
  username: string;
  /** The key of the token the page signed in with. */
  viewerTokenKey: string | null;
  /** My tokens by name, page by page. */
  myTokens: { totalCount: number; pages: TokenFieldsFragment[][] };
  created: TokenFieldsFragment;
  /** My tokens whose name contains the new token's. */
  found: TokenFieldsFragment[];
  edited: TokenFieldsFragment;
  rotated: { token: TokenFieldsFragment; replaced: TokenFieldsFragment };
  replacedWithHistory: { token: TokenFieldsFragment; replacedByKey: string | null; totalCount: number; entries: HistoryEntryFieldsFragment[] };
  /** My history, newest first, as pages: older and older (first/after), then newer and newer from the oldest (last/before). */
  history: { totalCount: number; forward: HistoryEntryFieldsFragment[][]; backward: HistoryEntryFieldsFragment[][] };
  refetched: TokenFieldsFragment;
  revoked: { count: number; tokens: TokenFieldsFragment[] };
  refetchedAfterRevoke: TokenFieldsFragment;
}

// Scopes that manage tokens: a token made for a script or a CI job should not carry them.
const TOKEN_MANAGING_SCOPES = new Set(['admin:token', 'user:token']);
const DAY_MS = 86_400_000;

const describeToken = (token: TokenFieldsFragment): string =>
  `${token.name ?? token.tokenType} (${token.key}, ${token.status.toLowerCase()}${token.invalidReason ? `: ${token.invalidReason}` : ''}, scopes ${token.scopes.join(' ') || 'none'}, expires ${token.expiresAt ?? 'never'})`;

const describeEntry = (entry: HistoryEntryFieldsFragment): string => `${entry.eventTime} ${entry.action} ${entry.tokenName ?? entry.token} by ${entry.actor}`;

/** Shows no more of a one-time secret than the reader needs to recognize it. */
const secretHint = (secret: string): string => `${secret.slice(0, 8)}…`;

async function myTokens(
  client: Client,
  pageSize: number,
  { filter, orderBy }: { filter?: TokenFilter; orderBy?: TokenOrder },
): Promise<{ totalCount: number; pages: TokenFieldsFragment[][] }> {
  const pages: TokenFieldsFragment[][] = [];
  let after: string | null = null;
  let totalCount = 0;
  for (;;) {
    // A connection whose page is empty holds no Token, so name the type: creating or revoking a token then refreshes this listing.
    const { tokens }: MyTokensQuery = await query(client, MyTokensDocument, { filter, orderBy, first: pageSize, after }, { additionalTypenames: ['Token'] });
    totalCount = tokens.totalCount;
    pages.push(tokens.edges.map((edge) => readFragment(TokenFieldsFragmentDoc, edge.node)));
    if (!tokens.pageInfo.hasNextPage) return { totalCount, pages };
    after = tokens.pageInfo.endCursor;
  }
}

/** Every page of the history matching `filter`, in the direction given: `first`/`after` or `last`/`before`. */
async function historyPages(client: Client, filter: HistoryPageQueryVariables['filter'], pageSize: number, direction: 'older' | 'newer') {
  const pages: HistoryEntryFieldsFragment[][] = [];
  let cursor: string | null = null;
  for (;;) {
    const variables: HistoryPageQueryVariables =
      direction === 'older' ? { filter, first: pageSize, after: cursor } : { filter, last: pageSize, before: cursor };
    const { tokenHistory } = await query(client, HistoryPageDocument, variables);
    pages.push(tokenHistory.edges.map((edge) => readFragment(HistoryEntryFieldsFragmentDoc, edge.node)));
    const { hasNextPage, hasPreviousPage, startCursor, endCursor } = tokenHistory.pageInfo;
    if (direction === 'older' ? !hasNextPage : !hasPreviousPage) return { totalCount: tokenHistory.totalCount, pages };
    cursor = direction === 'older' ? endCursor : startCursor;
  }
}

async function refetchToken(client: Client, id: string): Promise<TokenFieldsFragment> {
  const { node } = await query(client, RefetchDocument, { id });
  if (node?.__typename !== 'Token') throw new Error(`node ${id} is not a token I can see`);
  return readFragment(TokenFieldsFragmentDoc, node);
}

export async function runTokenPage({ url, token, print = console.log, pageSize = 10 }: TokenPageOptions): Promise<TokenPageRun> {
  const client = createTesseraClient(url, token);

  const { viewer } = await query(client, ViewerDocument, {});
  print(`signed in as ${viewer.username} with token ${viewer.token?.key ?? '(none)'} (scopes ${viewer.scopes.join(' ')})`);

  const listing = await myTokens(client, pageSize, { orderBy: { field: 'NAME', direction: 'ASC' } });
  print(`my tokens by name: ${listing.totalCount}, in ${listing.pages.length} page(s) of ${pageSize}`);
  for (const [index, page] of listing.pages.entries()) print(`  page ${index + 1}: ${page.map((item) => item.name ?? item.key).join(', ')}`);

  const name = `token-page-${Date.now().toString(36)}`;
  const generated = await mutate(client, CreateTokenDocument, {
    input: {
      name,
      scopes: viewer.scopes.filter((scope) => !TOKEN_MANAGING_SCOPES.has(scope)),
      expires: new Date(Date.now() + 30 * DAY_MS).toISOString(),
      note: 'made by examples/token-page.ts',
    },
  });
  const minted = expectSuccess(generated.generateToken, 'GenerateTokenPayload');
  const created = readFragment(TokenFieldsFragmentDoc, minted.token);
  print(`created ${describeToken(created)}; its secret, shown once, starts ${secretHint(minted.secret)}`);

  const search = await myTokens(client, pageSize, { filter: { nameContains: name } });
  const found = search.pages.flat();
  print(`searched my tokens for "${name}": ${found.map((item) => item.key).join(', ') || 'none'}`);

  const editResult = await mutate(client, EditTokenDocument, {
    input: { key: created.key, note: 'for the nightly export', expires: new Date(Date.now() + 7 * DAY_MS).toISOString() },
  });
  const edited = readFragment(TokenFieldsFragmentDoc, expectSuccess(editResult.editToken, 'EditTokenPayload').token);
  print(`edited ${describeToken(edited)}, note "${edited.note}"`);

  const rotateResult = await mutate(client, RotateTokenDocument, { input: { key: created.key } });
  const rotation = expectSuccess(rotateResult.rotateToken, 'RotateTokenPayload');
  const rotated = { token: readFragment(TokenFieldsFragmentDoc, rotation.token), replaced: readFragment(TokenFieldsFragmentDoc, rotation.replaced) };
  print(`rotated into ${describeToken(rotated.token)}; its secret starts ${secretHint(rotation.secret)}`);

  const withHistory = await query(client, TokenWithHistoryDocument, { key: created.key, first: pageSize });
  if (!withHistory.token) throw new Error(`token ${created.key} is gone`);
  const replacedWithHistory = {
    token: readFragment(TokenFieldsFragmentDoc, withHistory.token),
    replacedByKey: withHistory.token.replacedBy?.key ?? null,
    totalCount: withHistory.token.history.totalCount,
    entries: withHistory.token.history.edges.map((edge) => readFragment(HistoryEntryFieldsFragmentDoc, edge.node)),
  };
  print(`${describeToken(replacedWithHistory.token)}, replaced by ${replacedWithHistory.replacedByKey}: ${replacedWithHistory.totalCount} history entries`);
  for (const entry of replacedWithHistory.entries) print(`  ${describeEntry(entry)}`);

  // An admin's history holds everyone's: ask for mine.
  const mine = { username: viewer.username };
  const older = await historyPages(client, mine, pageSize, 'older');
  const newer = await historyPages(client, mine, pageSize, 'newer');
  const history = { totalCount: older.totalCount, forward: older.pages, backward: newer.pages };
  print(`my history: ${history.totalCount} entries, ${history.forward.length} page(s) from the newest, ${history.backward.length} from the oldest`);

  const refetched = await refetchToken(client, rotated.token.id);
  print(`refetched by node id: ${describeToken(refetched)}`);

  const revokeResult = await mutate(client, RevokeTokenDocument, { key: rotated.token.key, reason: 'example finished' });
  const revocation = expectSuccess(revokeResult.revokeToken, 'InvalidateTokensPayload');
  const revoked = { count: revocation.count, tokens: revocation.tokens.map((item) => readFragment(TokenFieldsFragmentDoc, item)) };
  print(`revoked ${revoked.count} token(s): ${revoked.tokens.map((item) => item.key).join(', ')}`);

  // The revocation returned a Token, so urql's cache dropped the cached refetch above: this asks the server again.
  const refetchedAfterRevoke = await refetchToken(client, rotated.token.id);
  print(`refetched by node id: ${describeToken(refetchedAfterRevoke)}`);

  return {
    username: viewer.username,
    viewerTokenKey: viewer.token?.key ?? null,
    myTokens: listing,
    created,
    found,
    edited,
    rotated,
    replacedWithHistory,
    history,
    refetched,
    revoked,
    refetchedAfterRevoke,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { TESSERA_URL: url, TESSERA_TOKEN: token } = process.env;
  if (!url || !token) {
    console.error('Set TESSERA_URL (such as http://127.0.0.1:4000/graphql) and TESSERA_TOKEN (a token with user:token).');
    process.exitCode = 2;
  } else {
    runTokenPage({ url, token }).catch((error: unknown) => {
      console.error(`token page failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
  }
}
