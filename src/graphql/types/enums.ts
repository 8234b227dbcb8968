import type { TokenChange, TokenType } from '../../domain/model.ts';
import type { TokenStatus } from '../../domain/rules/token-state.ts';
import { builder } from '../builder.ts';

// GraphQL shows the enums in capitals; the domain and the database keep Gafaelfawr's lowercase values.
// A description per value, keyed by the domain's values, so that a value added there without one does not compile.
const upperCased = <Value extends string>(descriptions: Record<Value, string>) =>
  Object.fromEntries(Object.entries<string>(descriptions).map(([value, description]) => [value.toUpperCase(), { value, description }])) as Record<
    Uppercase<Value>,
    { value: Value; description: string }
  >;

export const TokenTypeEnum = builder.enumType('TokenType', {
  description:
    'The class of a token (Gafaelfawr): an interactive session, a user-made token, a notebook or internal token derived from another, or a service token.',
  values: upperCased<TokenType>({
    session: "A person's interactive session (admins only).",
    user: 'A token a user made for itself, with a name unique among its valid tokens.',
    notebook: "Derived from a parent token for a notebook: scopes and expiry within the parent's.",
    internal: "Derived from a parent token for a service acting for the user (service is set): scopes and expiry within the parent's.",
    service: 'For a bot (usernames starting with bot-); admins only.',
  }),
});

export const TokenChangeEnum = builder.enumType('TokenChange', {
  description: 'The kind of change a history entry records.',
  values: upperCased<TokenChange>({
    create: 'The token was made (generated, derived or rotated into).',
    revoke: 'The token was revoked or invalidated (with its descendants, each with an entry of its own).',
    expire: 'The token reached its expiry (written by the sweep, actor <internal>).',
    edit: 'The token was edited: the old* fields hold what changed.',
  }),
});

export const TokenStatusEnum = builder.enumType('TokenStatus', {
  description: 'Whether a token works now: one word for valid, expiresAt and invalidatedAt, as a token page shows it.',
  values: {
    ACTIVE: { value: 'active', description: 'It authenticates: valid and not past its expiry (a rotated token within its grace period too).' },
    EXPIRED: { value: 'expired', description: 'Past its expiry (expiresAt) and never revoked: it no longer authenticates.' },
    REVOKED: {
      value: 'revoked',
      description: 'Revoked, invalidated or rotated without a grace period (invalidatedAt and invalidReason say when and why): it no longer authenticates.',
    },
  } satisfies Record<Uppercase<TokenStatus>, { value: TokenStatus; description: string }>,
});
