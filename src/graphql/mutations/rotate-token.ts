import {
  InvalidInputError,
  PermissionDeniedError,
  TokenGenerationError,
  TokenNotActiveError,
  TokenNotFoundError,
  UnknownTokenGeneratorError,
} from '../../domain/errors.ts';
import type { RotatedTokenResult } from '../../domain/token-service.ts';
import { builder } from '../builder.ts';
import { TokenRef } from '../types/token.ts';

const RotateTokenInput = builder.inputType('RotateTokenInput', {
  description: 'The token to replace, and how long the old one keeps working.',
  fields: (t) => ({
    key: t.string({ required: true, description: 'Key of the token to replace.' }),
    gracePeriodSeconds: t.int({
      required: false,
      defaultValue: 0,
      description: 'How long the old token keeps working (at most 30 days); 0 revokes it at once.',
    }),
  }),
});

const RotateTokenPayload = builder.objectRef<RotatedTokenResult>('RotateTokenPayload').implement({
  description: 'A successful rotateToken: the new token, its secret string (this once), and the token it replaced.',
  fields: (t) => ({
    token: t.field({ type: TokenRef, description: 'The new token.', resolve: (result) => result.token }),
    secret: t.exposeString('secret', { description: 'The new token string. It is shown this once and cannot be recovered.' }),
    replaced: t.field({
      type: TokenRef,
      description: 'The old token, revoked or expiring at the end of the grace period.',
      resolve: (result) => result.replaced,
    }),
  }),
});

builder.mutationField('rotateToken', (t) =>
  t.field({
    type: RotateTokenPayload,
    description: 'Issues a new token string in place of an old one: same owner, name, scopes, expiry, note, policy and metadata.',
    args: { input: t.arg({ type: RotateTokenInput, required: true, description: 'The token and its grace period.' }) },
    errors: {
      types: [InvalidInputError, PermissionDeniedError, TokenNotFoundError, TokenNotActiveError, TokenGenerationError, UnknownTokenGeneratorError],
      union: { name: 'RotateTokenResult', description: 'The new token and its secret, or why nothing was changed.' },
    },
    resolve: async (_root, { input }, context) => {
      const result = await context.tokens.rotateToken(context.actor, input);
      context.requestLog.changes = { rotated: result.replaced.key, created: result.token.key };
      return result;
    },
  }),
);
