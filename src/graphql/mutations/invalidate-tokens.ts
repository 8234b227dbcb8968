import type { InvalidateTokensResult } from '../../domain/token-service.ts';
import { builder } from '../builder.ts';
import { InvalidInputError, PermissionDeniedError } from '../../domain/errors.ts';
import { TokenFilterInput } from '../types/token-filter.ts';

const InvalidateTokensInput = builder.inputType('InvalidateTokensInput', {
  fields: (t) => ({
    usernames: t.stringList({ required: false, description: "Whose tokens; omitted: the caller's own." }),
    allUsers: t.boolean({ required: false, description: "Every user's tokens (admins only). Never implied." }),
    filter: t.field({ type: TokenFilterInput, required: false }),
    reason: t.string({ required: false, defaultValue: '' }),
  }),
});

export const InvalidateTokensPayload = builder.objectRef<InvalidateTokensResult>('InvalidateTokensPayload').implement({
  description: 'Tokens newly made invalid, descendants included; tokens that were already invalid are not counted.',
  fields: (t) => ({
    count: t.exposeInt('count'),
    keys: t.exposeStringList('keys'),
  }),
});

builder.mutationField('invalidateTokens', (t) =>
  t.field({
    type: InvalidateTokensPayload,
    args: { input: t.arg({ type: InvalidateTokensInput, required: true }) },
    errors: { types: [InvalidInputError, PermissionDeniedError], union: { name: 'InvalidateTokensResult' } },
    resolve: (_root, { input }, context) => context.tokens.invalidateTokens(context.actor, input),
  }),
);
