import { brandWithType } from '@pothos/core';
import { builder } from '../builder.ts';
import { HistoryEntryRef } from './history.ts';
import { TokenRef } from './token.ts';

// Relay's node(id), answered by the domain, which decides who may see what
// (the plugin's own lookup would read the database directly).
builder.queryField('node', (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    args: { id: t.arg.globalID({ required: true }) },
    resolve: async (_root, { id }, context) => {
      if (id.typename === 'Token') {
        const token = await context.tokens.getToken(context.actor, id.id);
        if (token) brandWithType(token, TokenRef);
        return token;
      }
      if (id.typename === 'TokenChangeHistoryEntry') {
        const entry = await context.tokens.getHistoryEntry(context.actor, Number(id.id));
        if (entry) brandWithType(entry, HistoryEntryRef);
        return entry;
      }
      return null;
    },
  }),
);
