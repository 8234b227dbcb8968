/**
 * Errors the domain raises on purpose. Each has a stable machine-readable
 * `code`; mutations return them as typed GraphQL errors, queries as GraphQL
 * errors with `extensions.code`. Anything else is unexpected and masked.
 */
/**
 * Every code a DomainError carries, with what it means: the one list the API's
 * `ErrorCode` enum is made from. A class whose code is missing here does not
 * compile (its `code` is not an ErrorCode).
 */
export const ERROR_CODES = {
  INVALID_INPUT: 'An input value breaks a rule (length, characters, range, a required field); `field` names it.',
  PERMISSION_DENIED: 'The caller may not do this: it lacks the scope, or the token is not its own.',
  UNKNOWN_SCOPE: 'A requested scope is not configured on this server.',
  SCOPES_TOO_BROAD: "Requested scopes go beyond the caller's own scopes, or beyond the parent token's.",
  DUPLICATE_TOKEN_NAME: 'The owner already has a valid token with this name.',
  EXPIRY_TOO_SOON: 'The expiry is closer than the minimum (5 minutes by default).',
  INVALID_PARENT_TOKEN: "No valid token of the owner with the parent's key, or a child expiry later than the parent's.",
  TOKEN_NOT_FOUND: 'No token with this key, or none the caller may see.',
  TOKEN_GENERATION_FAILED: 'Every attempt at a unique token string collided (djblets: "Could not create a unique API token").',
  UNKNOWN_TOKEN_GENERATOR: 'No token generator has this id.',
  MISSING_TOKEN_INFO_KEY: 'token_info lacks a key the generator requires.',
  INVALID_POLICY: "The access-policy document breaks djblets' rules; the message is djblets' own.",
  TOKEN_NOT_ACTIVE: 'The token is revoked, expired or already rotated.',
  BAD_CURSOR: 'A cursor that this connection did not give out.',
  BAD_IP_FILTER: 'An IP filter that is neither an IPv4/IPv6 address nor a CIDR block.',
  BAD_TIME_RANGE: 'A time range whose start is after its end.',
  PAGE_SIZE_TOO_LARGE: 'A page size (first or last) larger than the server allows; the message gives the limit.',
  BAD_PAGINATION: 'Page arguments that do not go together (first with last) or a negative page size.',
  QUERY_TOO_COMPLEX: 'The query could answer more than the cost limit allows: ask for smaller pages or fewer fields.',
  TOO_MANY_STREAMS: 'The token already holds as many open tokenChanges streams as allowed (TESSERA_MAX_STREAMS_PER_TOKEN).',
  STREAM_BACKLOG_EXCEEDED: 'A tokenChanges stream fell too far behind and was closed: subscribe again with resumeFrom set to its last cursor.',
  STREAM_AUTHORITY_ENDED: 'The token a tokenChanges stream was opened with was revoked or expired, so the stream ended.',
  WEBHOOK_NOT_FOUND: 'No webhook with this id.',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

export class InvalidInputError extends DomainError {
  readonly code = 'INVALID_INPUT';
  constructor(
    message: string,
    /** The input field at fault, when there is one. */
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

export class PermissionDeniedError extends DomainError {
  readonly code = 'PERMISSION_DENIED';
}

/** Prisma's P2002: a unique index refused a row (a concurrent writer got there first). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

/**
 * A piece of input fit to quote in a message or a log line: whole when short,
 * else its first characters. Every secret Tessera accepts is longer than
 * this, so no token string is ever quoted whole.
 */
export function quote(value: string): string {
  const QUOTABLE = 24;
  const chars = [...value];
  return JSON.stringify(chars.length <= QUOTABLE ? value : `${chars.slice(0, 8).join('')}…`);
}

/** Every secret Tessera accepts is a run of 32 or more non-space characters: such runs are cut to their first 8. */
export function redact(text: string): string {
  const cut = text.replace(/\S{32,}/g, (run) => `${[...run].slice(0, 8).join('')}…`);
  return cut.length > 500 ? `${cut.slice(0, 500)}…` : cut;
}

/** A few of the values, each quoted safely, and how many more there are. */
function listed(values: readonly string[]): string {
  const shown = values.slice(0, 5).map(quote).join(', ');
  return values.length > 5 ? `${shown} and ${values.length - 5} more` : shown;
}

export class UnknownScopeError extends DomainError {
  readonly code = 'UNKNOWN_SCOPE';
  constructor(readonly scopes: string[]) {
    super(`Unknown scopes: ${listed(scopes)}`);
  }
}

export class ScopesTooBroadError extends DomainError {
  readonly code = 'SCOPES_TOO_BROAD';
  constructor(
    readonly scopes: string[],
    what = 'your current scopes',
  ) {
    super(`Requested scopes are broader than ${what}: ${listed(scopes)}`);
  }
}

export class DuplicateTokenNameError extends DomainError {
  readonly code = 'DUPLICATE_TOKEN_NAME';
  constructor(readonly tokenName: string) {
    super(`A valid token named "${tokenName}" already exists for this user`);
  }
}

export class ExpiryTooSoonError extends DomainError {
  readonly code = 'EXPIRY_TOO_SOON';
  constructor(readonly minimumSeconds: number) {
    super(`Expiration must be at least ${minimumSeconds} seconds in the future`);
  }
}

export class InvalidParentTokenError extends DomainError {
  readonly code = 'INVALID_PARENT_TOKEN';
}

export class TokenNotFoundError extends DomainError {
  readonly code = 'TOKEN_NOT_FOUND';
  constructor(readonly key: string) {
    super(`No token with key ${key}`);
  }
}

/** djblets' WebAPITokenGenerationError: every attempt collided. */
export class TokenGenerationError extends DomainError {
  readonly code = 'TOKEN_GENERATION_FAILED';
  constructor() {
    super('Could not create a unique API token. Please try again.');
  }
}

export class UnknownTokenGeneratorError extends DomainError {
  readonly code = 'UNKNOWN_TOKEN_GENERATOR';
  constructor() {
    super('Could not find the token generator to generate the token.');
  }
}

/** djblets raises KeyError with this message when token_info lacks a key the generator needs. */
export class MissingTokenInfoKeyError extends DomainError {
  readonly code = 'MISSING_TOKEN_INFO_KEY';
  constructor(readonly key: string) {
    super(`The token_info dictionary must contain a ${key} key.`);
  }
}

export const BAD_QUERY_INPUT_CODES = ['BAD_CURSOR', 'BAD_IP_FILTER', 'BAD_TIME_RANGE', 'PAGE_SIZE_TOO_LARGE', 'BAD_PAGINATION', 'QUERY_TOO_COMPLEX'] as const;
type BadQueryInputCode = (typeof BAD_QUERY_INPUT_CODES)[number];

/** Query inputs that cannot be understood: a bad cursor, a bad address block, a page too large, a query too costly. */
export class BadQueryInputError extends DomainError {
  constructor(
    readonly code: BadQueryInputCode,
    message: string,
  ) {
    super(message);
  }
}

/** A policy document djblets would refuse; the message is djblets' own. */
export class InvalidPolicyError extends DomainError {
  readonly code = 'INVALID_POLICY';
}

/** The token exists and is visible, but is revoked, expired or already rotated. */
export class TokenNotActiveError extends DomainError {
  readonly code = 'TOKEN_NOT_ACTIVE';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Token ${key} ${reason}`);
  }
}

/** Why the live change feed refused or ended a stream. */
export class FeedStreamError extends DomainError {
  constructor(
    readonly code: 'TOO_MANY_STREAMS' | 'STREAM_BACKLOG_EXCEEDED' | 'STREAM_AUTHORITY_ENDED',
    message: string,
  ) {
    super(message);
  }
}

export class WebhookNotFoundError extends DomainError {
  readonly code = 'WEBHOOK_NOT_FOUND';
  constructor(readonly id: string) {
    super(`No webhook with id ${quote(id)}`);
  }
}
