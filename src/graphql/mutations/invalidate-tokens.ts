import type { TokenRow } from '../../db/client.ts';
import { REPORTED_KEYS } from '../../domain/revocation.ts';
import type { InvalidateTokensResult } from '../../domain/token-service.ts';
import { builder } from '../builder.ts';
import { InvalidInputError, PermissionDeniedError } from '../../domain/errors.ts';
import { PRICE } from '../complexity.ts';
import { TokenRef } from '../types/token.ts';
import { TokenFilterInput } from '../types/token-filter.ts';

const InvalidateTokensInput = builder.inputType('InvalidateTokensInput', {
  description: "Which tokens to invalidate (djblets' invalidate_tokens): the valid tokens of the given users that match the filter, with their descendants.",
  fields: (t) => ({
    usernames: t.stringList({ required: false, description: "Whose tokens; omitted: the caller's own." }),
    allUsers: t.boolean({ required: false, description: "Every user's tokens (admins only). Never implied." }),
    filter: t.field({ type: TokenFilterInput, required: false, description: 'Only tokens matching every given criterion; omitted: all of them.' }),
    reason: t.string({ required: false, defaultValue: '', description: 'Why, recorded as each token’s invalidReason (up to 1,000 characters).' }),
  }),
});

export const InvalidateTokensPayload = builder.objectRef<InvalidateTokensResult>('InvalidateTokensPayload').implement({
  description:
    `Tokens newly made invalid, descendants included; tokens that were already invalid are not counted. ` +
    `count is the total; tokens and keys name at most the first ${REPORTED_KEYS}, so that the answer does not grow with the number of tokens revoked.`,
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'How many tokens were revoked in all.' }),
    tokens: t.field({
      type: [TokenRef],
      description: `The first revoked tokens, at most ${REPORTED_KEYS} (count is the total), as they are now: a client cache can update them.`,
      complexity: { field: PRICE.shortScalar, multiplier: REPORTED_KEYS },
      // Loaded by key after the revocation committed; the actor revoked them, so it may see them.
      resolve: async (result, _args, context) => {
        const tokens = await context.loaders.tokenByKey.loadMany(result.keys);
        return tokens.filter((token): token is TokenRow => token !== null && !(token instanceof Error));
      },
    }),
    keys: t.exposeStringList('keys', {
      description: `Keys of the first revoked tokens, at most ${REPORTED_KEYS} (count is the total).`,
      deprecationReason: 'Use tokens: the same first tokens, as Token objects.',
      complexity: PRICE.shortScalar * REPORTED_KEYS,
    }),
  }),
});

builder.mutationField('invalidateTokens', (t) =>
  t.field({
    type: InvalidateTokensPayload,
    description: 'Invalidates the matching valid tokens and their descendants, with a REVOKE entry each; tokens already invalid are left as they are.',
    args: { input: t.arg({ type: InvalidateTokensInput, required: true, description: 'Whose tokens, which ones, and why.' }) },
    errors: {
      types: [InvalidInputError, PermissionDeniedError],
      union: { name: 'InvalidateTokensResult', description: 'The tokens invalidated, or why none were.' },
    },
    resolve: async (_root, { input }, context) => {
      const result = await context.tokens.invalidateTokens(context.actor, input);
      context.requestLog.changes = { invalidated: result.count };
      return result;
    },
  }),
);
