import { DuplicateTokenNameError, TokenNotActiveError, TokenNotFoundError } from '../../domain/errors.ts';
import type { TokenRow } from '../../db/client.ts';
import { builder } from '../builder.ts';
import { mutationErrors } from '../types/errors.ts';
import { TokenRef } from '../types/token.ts';

const EditTokenInput = builder.inputType('EditTokenInput', {
  description: 'A field left out is unchanged. Only USER tokens can be edited.',
  fields: (t) => ({
    key: t.string({ required: true, description: 'Key of the token to edit.' }),
    name: t.string({ required: false, description: 'A new name, unique among the owner’s valid tokens (1 to 64 characters, trimmed).' }),
    scopes: t.stringList({
      required: false,
      description: 'The new scopes, replacing the old ones: known scopes within your own. Narrowing them narrows every derived token too.',
    }),
    expires: t.field({
      type: 'DateTime',
      required: false,
      description: 'null: never expires. Shortening it shortens every derived token that would outlive it.',
    }),
    note: t.string({ required: false, description: 'A new note (up to 1,000 characters).' }),
    policy: t.field({
      type: 'JSONObject',
      required: false,
      description: 'A new access-policy document; {} is full access, never less restricted than your own token’s.',
    }),
  }),
});

const EditTokenPayload = builder.objectRef<TokenRow>('EditTokenPayload').implement({
  description: 'A successful editToken.',
  fields: (t) => ({ token: t.field({ type: TokenRef, description: 'The token as it is after the edit.', resolve: (token) => token }) }),
});

builder.mutationField('editToken', (t) =>
  t.field({
    type: EditTokenPayload,
    description: 'Edits a token, recording an EDIT entry with the old values; an edit that changes nothing records nothing.',
    args: { input: t.arg({ type: EditTokenInput, required: true, description: 'The token and what to change.' }) },
    errors: {
      types: [...mutationErrors, DuplicateTokenNameError, TokenNotFoundError, TokenNotActiveError],
      union: { name: 'EditTokenResult', description: 'The edited token, or why nothing was changed.' },
    },
    resolve: async (_root, { input }, context) => {
      const token = await context.tokens.editToken(context.actor, input);
      context.requestLog.changes = { edited: token.key };
      return token;
    },
  }),
);
