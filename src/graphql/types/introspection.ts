import type { Introspection } from '../../domain/token-service.ts';
import { builder } from '../builder.ts';
import { PRICE } from '../complexity.ts';

const AccessQuery = builder.inputType('AccessQuery', {
  description: 'Whether the token may make this request, answered from its access policy.',
  fields: (t) => ({
    resource: t.string({ required: true }),
    method: t.string({ required: true, description: 'An HTTP method, such as GET.' }),
    resourceId: t.string({ required: false }),
  }),
});

/** Every member but `active` is null for an inactive token: RFC 7662's `{ "active": false }`. */
type Members = Partial<Exclude<Introspection, { active: false }>>;
const members = (result: Introspection): Members => (result.active ? result : {});

const TokenIntrospection = builder.objectRef<Introspection>('TokenIntrospection').implement({
  description: 'RFC 7662 token introspection, as POST /oauth/introspect answers it. Only `active` is set for a token that is not active.',
  fields: (t) => ({
    active: t.exposeBoolean('active'),
    scope: t.string({ nullable: true, description: 'Space-separated scopes.', resolve: (result) => members(result).scope }),
    username: t.string({ nullable: true, resolve: (result) => members(result).username }),
    exp: t.field({ type: 'SafeInt', nullable: true, description: 'Expiry, epoch seconds; null when it never expires.', resolve: (result) => members(result).exp }),
    iat: t.field({ type: 'SafeInt', nullable: true, description: 'Creation, epoch seconds.', resolve: (result) => members(result).iat }),
    key: t.string({ nullable: true, resolve: (result) => members(result).key }),
    tokenClass: t.string({ nullable: true, description: "Gafaelfawr's token type, lowercase: user, session, …", resolve: (result) => members(result).tokenClass }),
    policy: t.field({ type: 'JSONObject', nullable: true, complexity: PRICE.jsonDocument, resolve: (result) => members(result).policy }),
    service: t.string({ nullable: true, resolve: (result) => members(result).service }),
    parent: t.string({ nullable: true, resolve: (result) => members(result).parent }),
    deprecated: t.boolean({ nullable: true, resolve: (result) => members(result).deprecated }),
    allowed: t.boolean({ nullable: true, description: 'The answer to the access question, when one was asked.', resolve: (result) => members(result).allowed }),
  }),
});

builder.queryField('introspectToken', (t) =>
  t.field({
    type: TokenIntrospection,
    description: 'Whether a token string is active, and what it is (RFC 7662). Needs admin:token or token:introspect.',
    args: { token: t.arg.string({ required: true }), access: t.arg({ type: AccessQuery, required: false }) },
    resolve: (_root, { token, access }, context) => context.tokens.introspectToken(context.actor, token, access),
  }),
);
