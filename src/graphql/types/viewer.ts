import type { Actor } from '../../domain/model.ts';
import { isAdmin } from '../../domain/rules/authorization.ts';
import { builder } from '../builder.ts';
import { TokenRef } from './token.ts';

const ViewerRef = builder.objectRef<Actor>('Viewer').implement({
  description: 'The authenticated caller. A normalized cache identifies it by its token (Viewer.token, a Token with an id).',
  fields: (t) => ({
    username: t.exposeString('username', { description: 'Who is asking: the owner of the token, or <bootstrap> for the bootstrap secret.' }),
    scopes: t.exposeStringList('scopes', { description: 'What the caller may do: the scopes of its token.' }),
    tokenKey: t.exposeString('tokenKey', { nullable: true, description: 'Key of the token that authenticated this request; null for the bootstrap secret.' }),
    token: t.field({
      type: TokenRef,
      nullable: true,
      description:
        'The token that authenticated this request; null for the bootstrap secret, and for a token without user:token (which may not read token records).',
      resolve: async (actor, _args, context) => {
        if (actor.tokenKey === null) return null;
        const token = await context.loaders.tokenByKey.load(actor.tokenKey);
        return token && context.tokens.isVisibleTo(actor, token) ? token : null;
      },
    }),
    isAdmin: t.boolean({ description: "Whether the caller holds admin:token and so may act on anyone's tokens.", resolve: (actor) => isAdmin(actor) }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({ type: ViewerRef, description: 'Who is asking: the caller this request authenticated as.', resolve: (_root, _args, context) => context.actor }),
);
