import { InvalidInputError, PermissionDeniedError, TokenNotFoundError } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { InvalidateTokensPayload } from './invalidate-tokens.ts';

const RevokeTokenInput = builder.inputType('RevokeTokenInput', {
  description: 'The token to revoke, and why.',
  fields: (t) => ({
    key: t.string({ required: true, description: 'Key of the token to revoke.' }),
    reason: t.string({ required: false, defaultValue: '', description: 'Why, recorded as its invalidReason (up to 1,000 characters).' }),
  }),
});

builder.mutationField('revokeToken', (t) =>
  t.field({
    type: InvalidateTokensPayload,
    description: 'Revokes one token and every token derived from it.',
    args: { input: t.arg({ type: RevokeTokenInput, required: true, description: 'The token and why.' }) },
    errors: {
      types: [InvalidInputError, PermissionDeniedError, TokenNotFoundError],
      union: { name: 'RevokeTokenResult', description: 'The tokens revoked, or why none were.' },
    },
    resolve: async (_root, { input }, context) => {
      const result = await context.tokens.revokeToken(context.actor, input.key, input.reason ?? '');
      context.requestLog.changes = { revokedKey: input.key, revoked: result.count };
      return result;
    },
  }),
);
