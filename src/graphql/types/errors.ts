import {
  BadQueryInputError,
  DomainError,
  DuplicateTokenNameError,
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
} from '../../domain/errors.ts';
import { builder } from '../builder.ts';

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure: nothing was changed. `code` is stable for programs; `message` is for people.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code'),
  }),
});

builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field', { nullable: true, description: 'The input field at fault.' }) }),
});
builder.objectType(PermissionDeniedError, { name: 'PermissionDeniedError', interfaces: [ErrorInterface] });
builder.objectType(UnknownScopeError, {
  name: 'UnknownScopeError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ scopes: t.exposeStringList('scopes') }),
});
builder.objectType(ScopesTooBroadError, {
  name: 'ScopesTooBroadError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ scopes: t.exposeStringList('scopes', { description: 'The scopes that went beyond what was allowed.' }) }),
});
builder.objectType(DuplicateTokenNameError, {
  name: 'DuplicateTokenNameError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ name: t.exposeString('tokenName') }),
});
builder.objectType(ExpiryTooSoonError, {
  name: 'ExpiryTooSoonError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ minimumSeconds: t.exposeInt('minimumSeconds') }),
});
builder.objectType(InvalidParentTokenError, { name: 'InvalidParentTokenError', interfaces: [ErrorInterface] });
builder.objectType(TokenNotFoundError, {
  name: 'TokenNotFoundError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ key: t.exposeString('key') }),
});
builder.objectType(TokenGenerationError, { name: 'TokenGenerationError', interfaces: [ErrorInterface] });
builder.objectType(UnknownTokenGeneratorError, { name: 'UnknownTokenGeneratorError', interfaces: [ErrorInterface] });
builder.objectType(MissingTokenInfoKeyError, {
  name: 'MissingTokenInfoKeyError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ key: t.exposeString('key') }),
});
builder.objectType(BadQueryInputError, { name: 'BadQueryInputError', interfaces: [ErrorInterface] });
builder.objectType(InvalidPolicyError, { name: 'InvalidPolicyError', interfaces: [ErrorInterface] });
builder.objectType(TokenNotActiveError, {
  name: 'TokenNotActiveError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ key: t.exposeString('key') }),
});

/** Errors any token-changing mutation may answer with. */
export const mutationErrors = [InvalidInputError, PermissionDeniedError, UnknownScopeError, ScopesTooBroadError, ExpiryTooSoonError, InvalidPolicyError];
