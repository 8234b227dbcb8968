import { InvalidInputError, PermissionDeniedError, TokenNotFoundError } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { InvalidateTokensPayload } from './invalidate-tokens.ts';

const RevokeTokenInput = builder.inputType('RevokeTokenInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    reason: t.string({ required: false, defaultValue: '' }),
  }),
});

builder.mutationField('revokeToken', (t) =>
  t.field({
    type: InvalidateTokensPayload,
    description: 'Revokes one token and every token derived from it.',
    args: { input: t.arg({ type: RevokeTokenInput, required: true }) },
    errors: { types: [InvalidInputError, PermissionDeniedError, TokenNotFoundError], union: { name: 'RevokeTokenResult' } },
    resolve: (_root, { input }, context) => context.tokens.revokeToken(context.actor, input.key, input.reason ?? ''),
  }),
);
