import { builder } from '../builder.ts';
import { connectionFrom, pageRequest } from '../connection.ts';
import { pagePrice } from '../complexity.ts';
import { TokenConnectionRef, TokenRef } from './token.ts';
import { TokenFilterInput } from './token-filter.ts';
import { tokenCursorShape, TokenOrderInput } from './token-order.ts';

builder.queryFields((t) => ({
  token: t.field({
    type: TokenRef,
    nullable: true,
    description: 'A token by key; null when it does not exist or is not yours to see.',
    args: { key: t.arg.string({ required: true, description: 'The token’s key.' }) },
    resolve: (_root, { key }, context) => context.tokens.getToken(context.actor, key),
  }),
  tokens: t.connection(
    {
      type: TokenRef,
      description: "Tokens, newest first. Admins see anyone's (all users when username is omitted); others only their own.",
      // Priced by the page it answers, the default one included when no size is asked for.
      complexity: pagePrice,
      args: {
        username: t.arg.string({
          required: false,
          description: 'Whose tokens (admins; others may give only their own); omitted: your own, or everyone’s for admins.',
        }),
        filter: t.arg({ type: TokenFilterInput, required: false, description: 'Only tokens matching every given criterion.' }),
        includeInvalid: t.arg.boolean({ required: false, description: 'Include revoked and invalidated tokens.' }),
        orderBy: t.arg({ type: TokenOrderInput, required: false, description: 'The order, and so what the cursors page through. Default: CREATED_AT DESC.' }),
      },
      resolve: async (_root, { username, filter, includeInvalid, orderBy, ...page }, context) => {
        const cursors = tokenCursorShape(orderBy);
        return connectionFrom(
          await context.tokens.listTokens(context.actor, { username, filter, includeInvalid, orderBy }, pageRequest<string>(page, cursors)),
          cursors,
        );
      },
    },
    TokenConnectionRef,
  ),
}));
