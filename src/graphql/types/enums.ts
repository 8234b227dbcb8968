import { TOKEN_CHANGES, TOKEN_TYPES, type TokenChange, type TokenType } from '../../domain/model.ts';
import { builder } from '../builder.ts';

// GraphQL shows the enums in capitals; the domain and the database keep Gafaelfawr's lowercase values.
const upperCased = <Value extends string>(values: readonly Value[]) =>
  Object.fromEntries(values.map((value) => [value.toUpperCase(), { value }])) as Record<Uppercase<Value>, { value: Value }>;

export const TokenTypeEnum = builder.enumType('TokenType', {
  description: 'The class of a token (Gafaelfawr): an interactive session, a user-made token, a notebook or internal token derived from another, or a service token.',
  values: upperCased<TokenType>(TOKEN_TYPES),
});

export const TokenChangeEnum = builder.enumType('TokenChange', {
  description: 'The kind of change a history entry records.',
  values: upperCased<TokenChange>(TOKEN_CHANGES),
});
