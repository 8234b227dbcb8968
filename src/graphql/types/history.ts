import { reducedEntry } from '../../domain/history/reduced.ts';
import { scopesOf } from '../../domain/rules/scopes.ts';
import { builder, refusePluginReads } from '../builder.ts';
import { pagePrice, PRICE } from '../complexity.ts';
import { connectionFrom, pageRequest } from '../connection.ts';
import { TokenChangeEnum, TokenTypeEnum } from './enums.ts';
import { TokenRef } from './token.ts';

// Fields come from the Prisma model; the history keeps token keys, not foreign keys, so its links to tokens are plain fields through the loaders.
export const HistoryEntryRef = builder.prismaNode('TokenChangeHistoryEntry', {
  description: "A change to a token (Gafaelfawr's TokenChangeHistoryEntry). Append-only.",
  id: { field: 'id', description: 'Global id of the entry (relay): pass it to node(id) to fetch it again.' },
  findUnique: refusePluginReads('TokenChangeHistoryEntry'),
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Key of the changed token.' }),
    tokenRecord: t.field({
      type: TokenRef,
      nullable: true,
      description: 'The changed token as it is now.',
      resolve: (entry, _args, context) => context.loaders.tokenByKey.load(entry.token),
    }),
    username: t.exposeString('username', { description: 'Owner of the changed token.' }),
    tokenType: t.expose('tokenType', { type: TokenTypeEnum, description: 'Class of the changed token.' }),
    tokenName: t.exposeString('tokenName', { nullable: true, description: 'Name of the token after the change (USER tokens).' }),
    parent: t.exposeString('parent', { nullable: true, description: 'Key of the parent token.' }),
    parentRecord: t.field({
      type: TokenRef,
      nullable: true,
      description: 'The parent token as it is now.',
      resolve: (entry, _args, context) => (entry.parent ? context.loaders.tokenByKey.load(entry.parent) : null),
    }),
    scopes: t.stringList({
      description: 'Scopes of the token after the change.',
      complexity: (_args, context) => context.pricing.scopeList,
      resolve: (entry) => scopesOf(entry),
    }),
    service: t.exposeString('service', { nullable: true, description: 'Service of the token (INTERNAL tokens).' }),
    expires: t.expose('expires', { type: 'DateTime', nullable: true, description: 'Expiry of the token after the change; null: never expires.' }),
    actor: t.exposeString('actor', { description: 'Who made the change: a username, or a reserved name such as <bootstrap>, <cli> or <internal>.' }),
    action: t.expose('action', { type: TokenChangeEnum, description: 'What kind of change this was.' }),
    oldTokenName: t.exposeString('oldTokenName', { nullable: true, description: 'The name before an edit that passed a name.' }),
    oldScopes: t.stringList({
      nullable: true,
      description: 'The scopes before an edit that passed scopes.',
      complexity: (_args, context) => context.pricing.scopeList,
      resolve: (entry) => (entry.oldScopes === null ? null : scopesOf({ scopes: entry.oldScopes })),
    }),
    oldExpires: t.expose('oldExpires', { type: 'DateTime', nullable: true, description: 'The expiry before an edit that passed one (null: had none).' }),
    ipAddress: t.exposeString('ipAddress', { nullable: true, description: 'Client address the change came from; null for the command line and the sweep.' }),
    eventTime: t.expose('eventTime', { type: 'DateTime', description: 'When the change was recorded.' }),
    reduced: t.field({
      type: 'JSONObject',
      // Every other field of the entry, in one document.
      complexity: (_args, context) => 16 * PRICE.shortScalar + 2 * context.pricing.scopeList,
      description: "Gafaelfawr's model_dump_reduced(): snake_case keys, lowercase enums, epoch-second times, uninformative fields dropped.",
      resolve: (entry) => reducedEntry(entry),
    }),
  }),
});

/** The one connection of history entries: tokenHistory and Token.history page through it alike. */
/** A history entry with its cursor: the connection's edge, and each event of the live feed (subscriptions/token-changes.ts). */
export const HistoryEdgeRef = builder.edgeObject({
  type: HistoryEntryRef,
  name: 'TokenChangeHistoryEntryEdge',
  description: 'A history entry in a page, with its cursor (also a valid resumeFrom for the live feed).',
});

const HistoryConnectionRef = builder.connectionObject(
  { type: HistoryEntryRef, name: 'TokenChangeHistoryEntryConnection', description: 'A page of history entries, newest first, with the cursors to page on.' },
  HistoryEdgeRef,
);

export const TokenHistoryFilterInput = builder.inputType('TokenHistoryFilter', {
  description: 'Which history entries to show; every field given must match (omitted fields match everything).',
  fields: (t) => ({
    username: t.string({ required: false, description: 'Entries of tokens owned by this user (admins; others see only their own).' }),
    actor: t.string({ required: false, description: 'Entries of changes made by this actor.' }),
    key: t.string({ required: false, description: 'Entries for this token or for its direct children (whose parent it is).' }),
    tokenType: t.field({ type: TokenTypeEnum, required: false, description: 'Entries of tokens of this class.' }),
    action: t.field({ type: TokenChangeEnum, required: false, description: 'Entries of this kind of change.' }),
    ipAddress: t.string({ required: false, description: 'An exact IPv4/IPv6 address or a CIDR block such as 10.0.0.0/8 or 2001:db8::/32.' }),
    since: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
    until: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
  }),
});

builder.queryField('tokenHistory', (t) =>
  t.connection(
    {
      type: HistoryEntryRef,
      description: 'Token change history, newest first (event time, then id). Non-admins see only their own.',
      complexity: pagePrice,
      args: { filter: t.arg({ type: TokenHistoryFilterInput, required: false, description: 'Which entries to show; all when omitted.' }) },
      resolve: async (_root, { filter, ...page }, context) =>
        connectionFrom(await context.tokens.history(context.actor, filter ?? {}, pageRequest<number>(page, 'number'))),
    },
    HistoryConnectionRef,
  ),
);

builder.prismaObjectField(TokenRef, 'history', (t) =>
  t.connection(
    {
      type: HistoryEntryRef,
      description: "This token's own change history (not its children's), newest first (event time, then id).",
      complexity: pagePrice,
      args: { filter: t.arg({ type: TokenHistoryFilterInput, required: false, description: "Which of the token's entries to show; all when omitted." }) },
      resolve: async (token, { filter, ...page }, context) =>
        connectionFrom(await context.tokens.history(context.actor, { ...filter, token: token.key }, pageRequest<number>(page, 'number'))),
    },
    HistoryConnectionRef,
  ),
);
