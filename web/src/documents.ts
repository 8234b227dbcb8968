/**
 * Every GraphQL operation the console sends, as typed documents generated from
 * schema.graphql by `npm run codegen` (web/src/generated/, git-ignored).
 */
import { graphql } from './generated/index.ts';

/** A token as the tables show it; the operations spread it by name (so not imported: @public). */
export const TOKEN_ROW = graphql(`
  fragment TokenRow on Token {
    id key username tokenType name note scopes status expiresAt lastUsedAt lastUsedIp createdAt valid
    replacedBy { key }
  }
`);

/** A history entry as the tables show it; spread by name (@public). */
export const CONSOLE_ENTRY = graphql(`
  fragment ConsoleEntry on TokenChangeHistoryEntry {
    id token username tokenType tokenName scopes expires actor action oldTokenName oldScopes oldExpires ipAddress eventTime
  }
`);

export const VIEWER = graphql(`
  query ConsoleViewer {
    viewer { username scopes isAdmin tokenKey }
  }
`);

export const TOKENS = graphql(`
  query ConsoleTokens($username: String, $filter: TokenFilter, $includeInvalid: Boolean, $first: Int, $after: String, $last: Int, $before: String) {
    tokens(username: $username, filter: $filter, includeInvalid: $includeInvalid, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...TokenRow } }
    }
  }
`);

export const TOKEN_DETAILS = graphql(`
  query ConsoleToken($key: String!) {
    token(key: $key) {
      ...TokenRow
      service parentKey generatorId deprecated lastUpdatedAt invalidatedAt invalidReason policy
      replacedBy { key name }
      replaces { key name }
      children(first: 100) { totalCount edges { node { ...TokenRow } } }
      history(first: 100) { totalCount edges { cursor node { ...ConsoleEntry } } }
    }
  }
`);

export const HISTORY = graphql(`
  query ConsoleHistory($filter: TokenHistoryFilter, $first: Int, $after: String, $last: Int, $before: String) {
    tokenHistory(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...ConsoleEntry } }
    }
  }
`);

export const TOKEN_CHANGES = graphql(`
  subscription ConsoleTokenChanges($filter: TokenHistoryFilter, $resumeFrom: String) {
    tokenChanges(filter: $filter, resumeFrom: $resumeFrom) { cursor node { ...ConsoleEntry } }
  }
`);

export const GENERATE = graphql(`
  mutation ConsoleGenerate($input: GenerateTokenInput!) {
    generateToken(input: $input) {
      __typename
      ... on GenerateTokenPayload { secret token { ...TokenRow } }
      ... on Error { code message }
      ... on InvalidInputError { field }
    }
  }
`);

export const EDIT = graphql(`
  mutation ConsoleEdit($input: EditTokenInput!) {
    editToken(input: $input) {
      __typename
      ... on EditTokenPayload { token { ...TokenRow } }
      ... on Error { code message }
      ... on InvalidInputError { field }
    }
  }
`);

export const ROTATE = graphql(`
  mutation ConsoleRotate($input: RotateTokenInput!) {
    rotateToken(input: $input) {
      __typename
      ... on RotateTokenPayload { secret token { ...TokenRow } replaced { ...TokenRow } }
      ... on Error { code message }
      ... on InvalidInputError { field }
    }
  }
`);

export const REVOKE = graphql(`
  mutation ConsoleRevoke($input: RevokeTokenInput!) {
    revokeToken(input: $input) {
      __typename
      ... on InvalidateTokensPayload { count tokens { ...TokenRow } }
      ... on Error { code message }
      ... on InvalidInputError { field }
    }
  }
`);
