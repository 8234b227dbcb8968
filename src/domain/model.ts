import { TokenChange, TokenType } from '../db/client.ts';

/**
 * The vocabulary the domain speaks. Token types and change types are the
 * Prisma enums (Gafaelfawr's lowercase values), so rows carry them typed.
 */
export { TokenChange, TokenType };
export const TOKEN_TYPES = Object.values(TokenType);
export const TOKEN_CHANGES = Object.values(TokenChange);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Reads the clock; injected so that tests move time instead of editing rows. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** Gafaelfawr's username rule: lowercase, digits and single inner dashes, with at least one letter. */
export const USERNAME_PATTERN = /^[a-z0-9](?:[a-z0-9]|-[a-z0-9])*[a-z](?:[a-z0-9]|-[a-z0-9])*$/;

/** Who is making a request, as authentication established it. */
export interface Actor {
  /** The token owner's username, or a reserved name in angle brackets (never a valid username). */
  username: string;
  scopes: readonly string[];
  /** Key of the token that authenticated the request; null for the bootstrap secret and the command line. */
  tokenKey: string | null;
  /** The address recorded in history for changes this request makes. */
  ipAddress: string | null;
  /** The access policy of the token that authenticated the request ({} for the operator): what it mints is never less restricted. */
  policy: JsonObject;
}

/** The configured bootstrap secret. */
export const BOOTSTRAP_ACTOR = '<bootstrap>';
/** The operator at the command line. */
export const CLI_ACTOR = '<cli>';
/** Changes the server makes by itself (expiry sweeps). */
export const INTERNAL_ACTOR = '<internal>';
/** Revocations asked for by a leak report (POST /leaks), which carries no credential. */
export const LEAK_REPORT_ACTOR = '<leak-report>';

export function asJsonObject(value: unknown): JsonObject {
  return isJsonObject(value) ? value : {};
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
