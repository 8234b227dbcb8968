import {
  BAD_QUERY_INPUT_CODES,
  BadQueryInputError,
  type DomainError,
  DuplicateTokenNameError,
  ERROR_CODES,
  type ErrorCode,
  ExpiryTooSoonError,
  InvalidInputError,
  InvalidParentTokenError,
  InvalidPolicyError,
  MissingTokenInfoKeyError,
  PermissionDeniedError,
  ScopesTooBroadError,
  TokenGenerationError,
  TokenNotActiveError,
  TokenNotFoundError,
  UnknownScopeError,
  UnknownTokenGeneratorError,
  WebhookNotFoundError,
} from '../../domain/errors.ts';
import { builder } from '../builder.ts';

/** One enum value per domain code, so that a client's switch over codes can be checked for completeness. */
const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description:
    'What went wrong, for programs: every code a typed error (the Error interface) can carry. Query errors carry the same codes as `extensions.code`.',
  values: Object.fromEntries(Object.entries(ERROR_CODES).map(([code, description]) => [code, { value: code, description }])) as Record<
    ErrorCode,
    { value: ErrorCode; description: string }
  >,
});

const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure: nothing was changed. `code` is stable for programs; `message` is for people.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, in words for people; it quotes at most a short part of any input.' }),
    code: t.field({ type: ErrorCodeEnum, description: 'What went wrong, for programs.', resolve: (error) => error.code }),
  }),
});

/** The sentence every error type's description ends with: the code its `code` field carries. */
const carries = (...codes: readonly ErrorCode[]) => (codes.length === 1 ? `Its code is ${codes[0]}.` : `Its code is one of ${codes.join(', ')}.`);

builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  description: `An input value breaks a rule (length, characters, range, a required field). ${carries('INVALID_INPUT')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field', { nullable: true, description: 'The input field at fault.' }) }),
});
builder.objectType(PermissionDeniedError, {
  name: 'PermissionDeniedError',
  description: `The caller may not do this. ${carries('PERMISSION_DENIED')}`,
  interfaces: [ErrorInterface],
});
builder.objectType(UnknownScopeError, {
  name: 'UnknownScopeError',
  description: `Requested scopes that this server does not know. ${carries('UNKNOWN_SCOPE')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ scopes: t.exposeStringList('scopes', { description: 'The unknown scopes.' }) }),
});
builder.objectType(ScopesTooBroadError, {
  name: 'ScopesTooBroadError',
  description: `Requested scopes beyond the caller's own (or beyond the parent token's). ${carries('SCOPES_TOO_BROAD')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ scopes: t.exposeStringList('scopes', { description: 'The scopes that went beyond what was allowed.' }) }),
});
builder.objectType(DuplicateTokenNameError, {
  name: 'DuplicateTokenNameError',
  description: `The owner already has a valid token with this name. ${carries('DUPLICATE_TOKEN_NAME')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ name: t.exposeString('tokenName', { description: 'The name already taken.' }) }),
});
builder.objectType(ExpiryTooSoonError, {
  name: 'ExpiryTooSoonError',
  description: `The expiry is too close. ${carries('EXPIRY_TOO_SOON')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ minimumSeconds: t.exposeInt('minimumSeconds', { description: 'How far in the future, in seconds, an expiry must be at least.' }) }),
});
builder.objectType(InvalidParentTokenError, {
  name: 'InvalidParentTokenError',
  description: `The parent token cannot have this child: it is not a valid token of the owner, or it expires before the child would. ${carries('INVALID_PARENT_TOKEN')}`,
  interfaces: [ErrorInterface],
});
builder.objectType(TokenNotFoundError, {
  name: 'TokenNotFoundError',
  description: `No token with this key that the caller may see. ${carries('TOKEN_NOT_FOUND')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ key: t.exposeString('key', { description: 'The key looked for.' }) }),
});
builder.objectType(TokenGenerationError, {
  name: 'TokenGenerationError',
  description: `Every attempt at a unique token string collided; trying again may succeed. ${carries('TOKEN_GENERATION_FAILED')}`,
  interfaces: [ErrorInterface],
});
builder.objectType(UnknownTokenGeneratorError, {
  name: 'UnknownTokenGeneratorError',
  description: `No token generator has the requested id. ${carries('UNKNOWN_TOKEN_GENERATOR')}`,
  interfaces: [ErrorInterface],
});
builder.objectType(MissingTokenInfoKeyError, {
  name: 'MissingTokenInfoKeyError',
  description: `tokenInfo lacks a key the generator requires. ${carries('MISSING_TOKEN_INFO_KEY')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ key: t.exposeString('key', { description: 'The missing tokenInfo key.' }) }),
});
builder.objectType(BadQueryInputError, {
  name: 'BadQueryInputError',
  description: `A query argument that cannot be understood (queries answer it as a GraphQL error with \`extensions.code\`). ${carries(...BAD_QUERY_INPUT_CODES)}`,
  interfaces: [ErrorInterface],
});
builder.objectType(InvalidPolicyError, {
  name: 'InvalidPolicyError',
  description: `An access-policy document that djblets would refuse; the message is djblets' own. ${carries('INVALID_POLICY')}`,
  interfaces: [ErrorInterface],
});
builder.objectType(TokenNotActiveError, {
  name: 'TokenNotActiveError',
  description: `The token is revoked, expired or already rotated. ${carries('TOKEN_NOT_ACTIVE')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ key: t.exposeString('key', { description: 'The key of the token that is not active.' }) }),
});

builder.objectType(WebhookNotFoundError, {
  name: 'WebhookNotFoundError',
  description: `No webhook with this id. ${carries('WEBHOOK_NOT_FOUND')}`,
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeID('id', { description: 'The id looked for.' }) }),
});

/** Errors any token-changing mutation may answer with. */
export const mutationErrors = [InvalidInputError, PermissionDeniedError, UnknownScopeError, ScopesTooBroadError, ExpiryTooSoonError, InvalidPolicyError];
