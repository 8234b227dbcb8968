import { DEFAULT_TOKEN_ORDER, TOKEN_SORTS, type TokenOrder, type TokenOrderField } from '../../domain/tokens/reads.ts';
import { builder } from '../builder.ts';
import type { CursorShape } from '../connection.ts';

// A description per field, keyed by the domain's fields, so that an order added there without one does not compile.
const ORDER_FIELDS: Record<TokenOrderField, { name: Uppercase<string>; description: string }> = {
  createdAt: { name: 'CREATED_AT', description: 'When the token was made (the default, newest first with DESC).' },
  expiresAt: { name: 'EXPIRES_AT', description: 'When the token expires; tokens that never expire come last, in either direction.' },
  lastUsedAt: { name: 'LAST_USED_AT', description: 'When the token last authenticated; tokens never used come last, in either direction.' },
  name: {
    name: 'NAME',
    description:
      'The name, ignoring case (code-point order of the lowercased name, with %, _ and \\ before every other character); tokens without a name (all but USER tokens) come last, in either direction.',
  },
};

const TokenOrderFieldEnum = builder.enumType('TokenOrderField', {
  description: 'What tokens are ordered by. Tokens with equal values are ordered by key, in the same direction.',
  values: Object.fromEntries(
    Object.entries(ORDER_FIELDS).map(([value, { name, description }]) => [name, { value: value as TokenOrderField, description }]),
  ) as Record<Uppercase<string>, { value: TokenOrderField; description: string }>,
});

const OrderDirectionEnum = builder.enumType('OrderDirection', {
  description: 'Which way an order runs.',
  values: {
    ASC: { value: 'asc', description: 'Ascending: earliest time, or A to Z, first.' },
    DESC: { value: 'desc', description: 'Descending: latest time, or Z to A, first.' },
  } as const,
});

export const TokenOrderInput = builder.inputType('TokenOrder', {
  description: 'The order of a token list. Its cursors belong to it: a cursor from another order (or direction) is refused with BAD_CURSOR.',
  fields: (t) => ({
    field: t.field({ type: TokenOrderFieldEnum, required: true, description: 'What to order by.' }),
    direction: t.field({ type: OrderDirectionEnum, required: true, description: 'Which way.' }),
  }),
});

/** What the cursors of a token list in this order hold; the order's name is written into each. */
export function tokenCursorShape(order: TokenOrder | null | undefined): CursorShape {
  const { field, direction } = order ?? DEFAULT_TOKEN_ORDER;
  const sort = TOKEN_SORTS[field];
  return { order: `${ORDER_FIELDS[field].name}:${direction.toUpperCase()}`, value: sort.kind, nullable: sort.nullable, id: 'string' };
}
