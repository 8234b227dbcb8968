import { reducedEntry } from '../../domain/history/reduced.ts';
import type { HistoryRow } from '../../db/client.ts';
import { scopesOf } from '../../domain/rules/scopes.ts';
import { builder } from '../builder.ts';
import { PRICE } from '../complexity.ts';
import { connectionFrom, pageRequest } from '../connection.ts';
import { TokenChangeEnum, TokenTypeEnum } from './enums.ts';
import { TokenRef } from './token.ts';

export const HistoryEntryRef = builder.node(builder.objectRef<HistoryRow>('TokenChangeHistoryEntry'), {
  description: "A change to a token (Gafaelfawr's TokenChangeHistoryEntry). Append-only.",
  id: { resolve: (entry) => entry.id },
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Key of the changed token.' }),
    tokenRecord: t.field({
      type: TokenRef,
      nullable: true,
      description: 'The changed token as it is now.',
      resolve: (entry, _args, context) => context.loaders.tokenByKey.load(entry.token),
    }),
    username: t.exposeString('username'),
    tokenType: t.field({ type: TokenTypeEnum, resolve: (entry) => entry.tokenType }),
    tokenName: t.exposeString('tokenName', { nullable: true }),
    parent: t.exposeString('parent', { nullable: true, description: 'Key of the parent token.' }),
    parentRecord: t.field({
      type: TokenRef,
      nullable: true,
      resolve: (entry, _args, context) => (entry.parent ? context.loaders.tokenByKey.load(entry.parent) : null),
    }),
    scopes: t.stringList({ complexity: (_args, context) => context.pricing.scopeList, resolve: (entry) => scopesOf(entry) }),
    service: t.exposeString('service', { nullable: true }),
    expires: t.expose('expires', { type: 'DateTime', nullable: true }),
    actor: t.exposeString('actor'),
    action: t.field({ type: TokenChangeEnum, resolve: (entry) => entry.action }),
    oldTokenName: t.exposeString('oldTokenName', { nullable: true }),
    oldScopes: t.stringList({
      nullable: true,
      complexity: (_args, context) => context.pricing.scopeList,
      resolve: (entry) => (entry.oldScopes === null ? null : scopesOf({ scopes: entry.oldScopes })),
    }),
    oldExpires: t.expose('oldExpires', { type: 'DateTime', nullable: true }),
    ipAddress: t.exposeString('ipAddress', { nullable: true }),
    eventTime: t.expose('eventTime', { type: 'DateTime' }),
    reduced: t.field({
      type: 'JSONObject',
      // Every other field of the entry, in one document.
      complexity: (_args, context) => 16 * PRICE.shortScalar + 2 * context.pricing.scopeList,
      description: "Gafaelfawr's model_dump_reduced(): snake_case keys, lowercase enums, epoch-second times, uninformative fields dropped.",
      resolve: (entry) => reducedEntry(entry),
    }),
  }),
});

const TokenHistoryFilterInput = builder.inputType('TokenHistoryFilter', {
  fields: (t) => ({
    username: t.string({ required: false }),
    actor: t.string({ required: false }),
    key: t.string({ required: false, description: 'Entries for this token or for its direct children (whose parent it is).' }),
    tokenType: t.field({ type: TokenTypeEnum, required: false }),
    action: t.field({ type: TokenChangeEnum, required: false }),
    ipAddress: t.string({ required: false, description: 'An exact IPv4/IPv6 address or a CIDR block such as 10.0.0.0/8 or 2001:db8::/32.' }),
    since: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
    until: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
  }),
});

builder.queryField('tokenHistory', (t) =>
  t.connection({
    type: HistoryEntryRef,
    description: 'Token change history, newest first (event time, then id). Non-admins see only their own.',
    args: { filter: t.arg({ type: TokenHistoryFilterInput, required: false }) },
    resolve: async (_root, { filter, ...page }, context) =>
      connectionFrom(await context.tokens.history(context.actor, filter ?? {}, pageRequest<number>(page, 'number'))),
  }),
);
