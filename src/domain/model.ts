/** The vocabulary the domain speaks: Gafaelfawr's token types and change types, stored lowercase as Gafaelfawr writes them. */
export const TOKEN_TYPES = ['session', 'user', 'notebook', 'internal', 'service'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export const TOKEN_CHANGES = ['create', 'revoke', 'expire', 'edit'] as const;
export type TokenChange = (typeof TOKEN_CHANGES)[number];

/** Token types that exist only as children of another token. */
export const DERIVED_TOKEN_TYPES: ReadonlySet<TokenType> = new Set(['notebook', 'internal']);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Gafaelfawr's username rule: lowercase, digits and single inner dashes, with at least one letter. */
export const USERNAME_PATTERN = /^[a-z0-9](?:[a-z0-9]|-[a-z0-9])*[a-z](?:[a-z0-9]|-[a-z0-9])*$/;

/** Who is making a request, as authentication established it. */
export interface Actor {
  /** The token owner's username, or `<bootstrap>` for the configured bootstrap secret. */
  username: string;
  scopes: readonly string[];
  /** Key of the token that authenticated the request; null for the bootstrap secret. */
  tokenKey: string | null;
  /** The address recorded in history for changes this request makes. */
  ipAddress: string | null;
}

export const BOOTSTRAP_ACTOR = '<bootstrap>';
/** Actor recorded for changes the server makes by itself (expiry sweeps). */
export const INTERNAL_ACTOR = '<internal>';

/** Rows are written only by the domain, so an unknown value here means a corrupted row: fail loudly. */
export function parseTokenType(value: string): TokenType {
  if ((TOKEN_TYPES as readonly string[]).includes(value)) return value as TokenType;
  throw new Error(`Unknown token type in the database: ${value}`);
}

export function parseTokenChange(value: string): TokenChange {
  if ((TOKEN_CHANGES as readonly string[]).includes(value)) return value as TokenChange;
  throw new Error(`Unknown token change in the database: ${value}`);
}

export function asJsonObject(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}
