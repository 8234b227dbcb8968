import { DuplicateTokenNameError, TokenNotActiveError, TokenNotFoundError } from '../../domain/errors.ts';
import type { TokenRow } from '../../db/client.ts';
import { builder } from '../builder.ts';
import { mutationErrors } from '../types/errors.ts';
import { TokenRef } from '../types/token.ts';

const EditTokenInput = builder.inputType('EditTokenInput', {
  description: 'A field left out is unchanged. Only USER tokens can be edited.',
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string({ required: false }),
    scopes: t.stringList({ required: false }),
    expires: t.field({ type: 'DateTime', required: false, description: 'null: never expires. Shortening it shortens every derived token that would outlive it.' }),
    note: t.string({ required: false }),
    policy: t.field({ type: 'JSONObject', required: false }),
  }),
});

const EditTokenPayload = builder.objectRef<TokenRow>('EditTokenPayload').implement({
  fields: (t) => ({ token: t.field({ type: TokenRef, resolve: (token) => token }) }),
});

builder.mutationField('editToken', (t) =>
  t.field({
    type: EditTokenPayload,
    description: 'Edits a token, recording an EDIT entry with the old values; an edit that changes nothing records nothing.',
    args: { input: t.arg({ type: EditTokenInput, required: true }) },
    errors: {
      types: [...mutationErrors, DuplicateTokenNameError, TokenNotFoundError, TokenNotActiveError],
      union: { name: 'EditTokenResult' },
    },
    resolve: (_root, { input }, context) => context.tokens.editToken(context.actor, input),
  }),
);
