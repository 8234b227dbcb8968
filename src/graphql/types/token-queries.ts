import { builder } from '../builder.ts';
import { connectionFrom, pageRequest } from '../connection.ts';
import { TokenRef } from './token.ts';
import { TokenFilterInput } from './token-filter.ts';

builder.queryFields((t) => ({
  token: t.field({
    type: TokenRef,
    nullable: true,
    description: 'A token by key; null when it does not exist or is not yours to see.',
    args: { key: t.arg.string({ required: true }) },
    resolve: (_root, { key }, context) => context.tokens.getToken(context.actor, key),
  }),
  tokens: t.connection({
    type: TokenRef,
    description: "Tokens, newest first. Admins see anyone's (all users when username is omitted); others only their own.",
    args: {
      username: t.arg.string({ required: false }),
      filter: t.arg({ type: TokenFilterInput, required: false }),
      includeInvalid: t.arg.boolean({ required: false, description: 'Include revoked and invalidated tokens.' }),
    },
    resolve: async (_root, { username, filter, includeInvalid, ...page }, context) =>
      connectionFrom(await context.tokens.listTokens(context.actor, { username, filter, includeInvalid }, pageRequest<string>(page, 'string'))),
  }),
}));
