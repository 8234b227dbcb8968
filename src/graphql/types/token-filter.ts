import type { TokenFilter } from '../../domain/token-filter.ts';
import { builder } from '../builder.ts';
import { TokenTypeEnum } from './enums.ts';

export const TokenFilterInput = builder.inputType('TokenFilter', {
  description: "Which tokens (djblets' extra_query): every given criterion must hold.",
  fields: (t) => ({
    keys: t.stringList({ required: false, description: 'Tokens with any of these keys.' }),
    tokenTypes: t.field({ type: [TokenTypeEnum], required: false, description: 'Tokens of any of these types.' }),
    scopes: t.stringList({ required: false, description: 'Tokens carrying any of these scopes.' }),
    note: t.string({ required: false, description: 'Exact note.' }),
    nameContains: t.string({
      required: false,
      description:
        'Tokens whose name contains this text, ignoring case (É finds é), with % and _ taken literally. Trimmed and NFC-normalized as names are; at most 64 characters. Tokens without a name never match.',
    }),
    createdAfter: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
    createdBefore: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
    expiresAfter: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
    expiresBefore: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
  }),
});

/** true when A and B name the same fields and every A is a B; false otherwise (never `never`, which would satisfy anything). */
type SameFields<A, B> = [A] extends [B] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false;
// The input's shape is the domain's filter, both ways: a criterion on one side only, or typed apart, fails to compile here.
true satisfies SameFields<typeof TokenFilterInput.$inferInput, TokenFilter>;
