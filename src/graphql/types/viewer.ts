import type { Actor } from '../../domain/model.ts';
import { isAdmin } from '../../domain/rules/authorization.ts';
import { builder } from '../builder.ts';

const ViewerRef = builder.objectRef<Actor>('Viewer').implement({
  description: 'The authenticated caller.',
  fields: (t) => ({
    username: t.exposeString('username'),
    scopes: t.exposeStringList('scopes'),
    tokenKey: t.exposeString('tokenKey', { nullable: true, description: 'Key of the token that authenticated this request; null for the bootstrap secret.' }),
    isAdmin: t.boolean({ resolve: (actor) => isAdmin(actor) }),
  }),
});

builder.queryField('viewer', (t) => t.field({ type: ViewerRef, resolve: (_root, _args, context) => context.actor }));
