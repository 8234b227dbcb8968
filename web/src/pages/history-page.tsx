/**
 * The change history, newest first, a page at a time (Older / Newer), with
 * live updates: the tokenChanges subscription, with the same filter, resumed
 * from the newest entry the first page showed so that nothing recorded in
 * between is missed. On the first page new entries appear at the top; on
 * another page they are counted until the reader goes back to the first.
 */
import { useClient, useQuery } from '@urql/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { HISTORY, TOKEN_CHANGES } from '../documents.ts';
import { EMPTY_FILTER, HistoryFilters, toFilter, type FilterDraft } from '../components/history-filters.tsx';
import { HistoryTable } from '../components/history-table.tsx';
import { Pager, type PageRequest } from '../components/pager.tsx';
import type { Entry, Viewer } from '../types.ts';

const PAGE_SIZE = 25;

export function HistoryPage({ viewer }: { viewer: Viewer }) {
  const client = useClient();
  const [draft, setDraft] = useState<FilterDraft>(EMPTY_FILTER);
  const filter = useMemo(() => toFilter(draft), [draft]);
  const [page, setPage] = useState<PageRequest>({});
  const [live, setLive] = useState<Entry[]>([]);
  const [unseen, setUnseen] = useState(0);
  // Where the live stream starts: the newest entry of the first page as first loaded for this filter ('' when it had none).
  const [resumeFrom, setResumeFrom] = useState<string | null>(null);

  const onFirstPage = !page.after && !page.before;
  const [{ data, error }] = useQuery({
    query: HISTORY,
    variables: { filter, ...(page.before ? { last: PAGE_SIZE, before: page.before } : { first: PAGE_SIZE, after: page.after ?? null }) },
    requestPolicy: 'network-only',
  });
  const connection = data?.tokenHistory;

  useEffect(() => {
    if (resumeFrom === null && onFirstPage && connection) setResumeFrom(connection.edges[0]?.cursor ?? '');
  }, [connection, onFirstPage, resumeFrom]);

  useEffect(() => {
    if (resumeFrom === null) return;
    const subscription = client.subscription(TOKEN_CHANGES, { filter, resumeFrom: resumeFrom || null }).subscribe((result) => {
      const entry = result.data?.tokenChanges.node;
      if (!entry) return;
      setLive((previous) => (previous.some((known) => known.id === entry.id) ? previous : [entry, ...previous]));
      setUnseen((count) => count + 1);
    });
    return () => subscription.unsubscribe();
  }, [client, filter, resumeFrom]);

  const atTop = onFirstPage || (connection !== undefined && !connection.pageInfo.hasPreviousPage);
  useEffect(() => {
    if (atTop) setUnseen(0);
  }, [atTop, live]);

  const apply = (next: FilterDraft) => {
    setDraft(next);
    setPage({});
    setLive([]);
    setUnseen(0);
    setResumeFrom(null);
  };

  const pageEntries = connection?.edges.map((edge) => edge.node) ?? [];
  const entries = atTop ? [...live.filter((entry) => !pageEntries.some((known) => known.id === entry.id)), ...pageEntries] : pageEntries;
  const fresh = useMemo(() => new Set(live.map((entry) => entry.id)), [live]);
  const code = error?.graphQLErrors[0]?.extensions?.code;
  const message = error?.graphQLErrors[0]?.message ?? error?.message;

  return (
    <main>
      <h1 tabIndex={-1}>History</h1>
      <HistoryFilters
        isAdmin={viewer.isAdmin}
        errors={{ ipAddress: code === 'BAD_IP_FILTER' ? message : undefined, until: code === 'BAD_TIME_RANGE' ? message : undefined }}
        onApply={apply}
      />
      {error && code !== 'BAD_IP_FILTER' && code !== 'BAD_TIME_RANGE' && (
        <p role="alert" class="error">
          Could not load the history: {message}
        </p>
      )}
      <p role="status" class="live-status">
        {!atTop && unseen > 0 ? (
          <button type="button" class="link" onClick={() => setPage({})}>
            {unseen === 1 ? '1 new entry' : `${unseen} new entries`}: show the newest
          </button>
        ) : resumeFrom !== null ? (
          'Live: new entries appear at the top.'
        ) : (
          ''
        )}
      </p>
      {connection && (
        <>
          <HistoryTable caption="Change history" entries={entries} fresh={fresh} />
          {entries.length === 0 && <p class="empty">No entries match.</p>}
          <Pager pageInfo={connection.pageInfo} onPage={setPage} olderLabel="Older" newerLabel="Newer" />
        </>
      )}
    </main>
  );
}
