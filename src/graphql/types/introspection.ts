import type { Introspection } from '../../domain/token-service.ts';
import { builder } from '../builder.ts';
import { PRICE } from '../complexity.ts';

const AccessQuery = builder.inputType('AccessQuery', {
  description: 'Whether the token may make this request, answered from its access policy.',
  fields: (t) => ({
    resource: t.string({ required: true, description: 'A resource id of the policy (resources.<id>), as configured in TESSERA_POLICY_RESOURCES.' }),
    method: t.string({ required: true, description: 'An HTTP method, such as GET.' }),
    resourceId: t.string({ required: false, description: 'An item of the resource (resources.<resource>.<item id>); omitted: the resource as a whole.' }),
  }),
});

/** Every member but `active` is null for an inactive token: RFC 7662's `{ "active": false }`. */
type Members = Partial<Exclude<Introspection, { active: false }>>;
const members = (result: Introspection): Members => (result.active ? result : {});

const TokenIntrospection = builder.objectRef<Introspection>('TokenIntrospection').implement({
  description: 'RFC 7662 token introspection, as POST /oauth/introspect answers it. Only `active` is set for a token that is not active.',
  fields: (t) => ({
    active: t.exposeBoolean('active', { description: 'Whether the token is valid and unexpired; when false, every other member is null.' }),
    scope: t.string({ nullable: true, description: 'Space-separated scopes.', resolve: (result) => members(result).scope }),
    username: t.string({ nullable: true, description: 'Owner of the token.', resolve: (result) => members(result).username }),
    exp: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Expiry, epoch seconds; null when it never expires.',
      resolve: (result) => members(result).exp,
    }),
    iat: t.field({ type: 'SafeInt', nullable: true, description: 'Creation, epoch seconds.', resolve: (result) => members(result).iat }),
    key: t.string({ nullable: true, description: 'Public identifier of the token (RFC 7662 jti).', resolve: (result) => members(result).key }),
    tokenClass: t.string({
      nullable: true,
      description: "Gafaelfawr's token type, lowercase: user, session, …",
      resolve: (result) => members(result).tokenClass,
    }),
    policy: t.field({
      type: 'JSONObject',
      nullable: true,
      description: 'Access-policy document of the token; {} is full access.',
      complexity: PRICE.jsonDocument,
      resolve: (result) => members(result).policy,
    }),
    service: t.string({ nullable: true, description: 'The service of an INTERNAL token.', resolve: (result) => members(result).service }),
    parent: t.string({ nullable: true, description: 'Key of the parent token (NOTEBOOK and INTERNAL tokens).', resolve: (result) => members(result).parent }),
    deprecated: t.boolean({
      nullable: true,
      description: 'Whether the token was made by a deprecated generator (legacy_sha1).',
      resolve: (result) => members(result).deprecated,
    }),
    allowed: t.boolean({ nullable: true, description: 'The answer to the access question, when one was asked.', resolve: (result) => members(result).allowed }),
  }),
});

builder.queryField('introspectToken', (t) =>
  t.field({
    type: TokenIntrospection,
    description: 'Whether a token string is active, and what it is (RFC 7662). Needs admin:token or token:introspect.',
    args: {
      token: t.arg.string({ required: true, description: 'The token string to look at. It is never echoed back.' }),
      access: t.arg({ type: AccessQuery, required: false, description: "An access question to answer in `allowed`, from the token's policy." }),
    },
    resolve: (_root, { token, access }, context) => context.tokens.introspectToken(context.actor, token, access),
  }),
);
