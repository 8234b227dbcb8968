import type { FeedItem } from '../../feed/feed.ts';
import { builder } from '../builder.ts';
import { encodeCursor, pageRequest } from '../connection.ts';
import { HistoryEdgeRef, TokenHistoryFilterInput } from '../types/history.ts';

builder.subscriptionType({
  description: 'Live data over Server-Sent Events: POST /graphql with `Accept: text/event-stream`, authenticated like any request.',
});

builder.subscriptionField('tokenChanges', (t) =>
  t.field({
    type: HistoryEdgeRef,
    description:
      'History entries as they are recorded, oldest first (commit order), each with a cursor that tokenHistory also takes. ' +
      "Filter and visibility are tokenHistory's. The stream ends when the subscriber's token is revoked or expires, or when it falls " +
      'too far behind (an error event says so: subscribe again with resumeFrom set to the last cursor received).',
    args: {
      filter: t.arg({ type: TokenHistoryFilterInput, required: false, description: 'Which entries to deliver; all the caller may see when omitted.' }),
      resumeFrom: t.arg.string({
        required: false,
        description: 'A cursor from tokenHistory or from an earlier event: first every matching entry recorded after it, then live, none missed or repeated.',
      }),
    },
    subscribe: async (_root, { filter, resumeFrom }, context) => {
      const after = resumeFrom == null ? null : pageRequest<number>({ after: resumeFrom }, 'number').after;
      const stream = await context.feed.subscribe({
        actor: context.actor,
        filter: filter ?? {},
        resumeFrom: after && after.value instanceof Date ? { eventTime: after.value, id: after.id } : null,
        disconnect: context.connection.close,
      });
      // The client went away: the stream leaves the hub at once (yoga stops pulling, it does not end the iterator).
      context.connection.signal.addEventListener('abort', () => void stream.return(), { once: true });
      return stream;
    },
    resolve: (item: FeedItem) => {
      if ('end' in item) throw item.end;
      return { cursor: encodeCursor({ value: item.entry.eventTime, id: item.entry.id }), node: item.entry };
    },
  }),
);
