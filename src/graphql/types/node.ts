import { brandWithType } from '@pothos/core';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { InvalidInputError } from '../../domain/errors.ts';
import { builder } from '../builder.ts';
import { HistoryEntryRef } from './history.ts';
import { TokenRef } from './token.ts';

/** The typename and id inside a relay global id; a malformed one is refused without being quoted (it may be a pasted token). */
function parseGlobalId(globalId: string): { typename: string; id: string } {
  try {
    if (globalId.length <= 128) return decodeGlobalID(globalId);
  } catch {
    // fall through to the typed error
  }
  throw new InvalidInputError('id is not an id this API gave out', 'id');
}

// Relay's node(id), answered by the domain, which decides who may see what.
builder.queryField('node', (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description:
      'Any object with an id (a Token, a TokenChangeHistoryEntry), as a client cache refetches it; null when it does not exist or is not yours to see.',
    args: { id: t.arg.id({ required: true, description: 'An id this API gave out.' }) },
    resolve: async (_root, args, context) => {
      const id = parseGlobalId(String(args.id));
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
