/**
 * Errors the domain raises on purpose. Each has a stable machine-readable
 * `code`; mutations return them as typed GraphQL errors, queries as GraphQL
 * errors with `extensions.code`. Anything else is unexpected and masked.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
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
  constructor(readonly scopes: string[], what = 'your current scopes') {
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

/** Query inputs that cannot be understood: a bad cursor, a bad address block, a page too large, a query too costly. */
export class BadQueryInputError extends DomainError {
  constructor(
    readonly code: 'BAD_CURSOR' | 'BAD_IP_FILTER' | 'BAD_TIME_RANGE' | 'PAGE_SIZE_TOO_LARGE' | 'BAD_PAGINATION' | 'QUERY_TOO_COMPLEX',
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
  constructor(readonly key: string, reason: string) {
    super(`Token ${key} ${reason}`);
  }
}
