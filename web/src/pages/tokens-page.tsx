import { useQuery } from '@urql/preact';
import { useMemo, useState } from 'preact/hooks';
import { TOKENS } from '../documents.ts';
import { Pager, type PageRequest } from '../components/pager.tsx';
import { useTokenActions } from '../components/token-actions.tsx';
import { TokensTable } from '../components/tokens-table.tsx';
import type { Viewer } from '../types.ts';

const PAGE_SIZE = 20;
// An empty list has no Token in it, yet a new token belongs there: refetch on any Token mutation.
const TOKEN_CONTEXT = { additionalTypenames: ['Token'] };

interface Search {
  username: string;
  name: string;
  includeInvalid: boolean;
}

/** A real username, or none (the bootstrap secret's "<bootstrap>" owns no tokens). */
const ownName = (viewer: Viewer) => (viewer.tokenKey ? viewer.username : '');

export function TokensPage({ viewer }: { viewer: Viewer }) {
  const [draft, setDraft] = useState<Search>({ username: ownName(viewer), name: '', includeInvalid: false });
  const [search, setSearch] = useState<Search>(draft);
  const [page, setPage] = useState<PageRequest>({});
  const actions = useTokenActions(viewer);
  const context = useMemo(() => TOKEN_CONTEXT, []);

  const username = viewer.isAdmin ? search.username.trim() || null : null;
  const [{ data, error, fetching }] = useQuery({
    query: TOKENS,
    variables: {
      username,
      includeInvalid: search.includeInvalid,
      filter: search.name.trim() ? { nameContains: search.name.trim() } : null,
      ...(page.before ? { last: PAGE_SIZE, before: page.before } : { first: PAGE_SIZE, after: page.after ?? null }),
    },
    context,
  });
  const connection = data?.tokens;
  const tokens = connection?.edges.map((edge) => edge.node) ?? [];
  const whose = !viewer.isAdmin ? 'Your tokens' : username ? (username === viewer.username ? 'Your tokens' : `Tokens of ${username}`) : 'Tokens of every user';

  return (
    <main>
      <div class="page-head">
        <h1 tabIndex={-1}>Tokens</h1>
        <button type="button" onClick={actions.openNew}>
          New token
        </button>
      </div>
      <search aria-label="Search tokens">
        <form
          class="filters"
          onSubmit={(event) => {
            event.preventDefault();
            setSearch(draft);
            setPage({});
          }}
        >
          {viewer.isAdmin && (
            <div class="field">
              <label for="tokens-user">User</label>
              <input
                id="tokens-user"
                type="text"
                autocomplete="off"
                value={draft.username}
                placeholder="every user"
                onInput={(event) => setDraft({ ...draft, username: event.currentTarget.value })}
              />
            </div>
          )}
          <div class="field">
            <label for="tokens-name">Name contains</label>
            <input id="tokens-name" type="search" value={draft.name} onInput={(event) => setDraft({ ...draft, name: event.currentTarget.value })} />
          </div>
          <label class="check">
            <input type="checkbox" checked={draft.includeInvalid} onChange={(event) => setDraft({ ...draft, includeInvalid: event.currentTarget.checked })} />
            <span>Show revoked</span>
          </label>
          <button type="submit" class="secondary">
            Search
          </button>
        </form>
      </search>
      {error && (
        <p role="alert" class="error">
          Could not load the tokens: {error.message}
        </p>
      )}
      {connection && (
        <>
          <TokensTable caption={`${whose} (${connection.totalCount})`} tokens={tokens} showOwner={viewer.isAdmin && !username} onAction={actions.act} />
          {tokens.length === 0 && <p class="empty">No tokens here yet. Use New token to make one.</p>}
          <Pager pageInfo={connection.pageInfo} onPage={setPage} olderLabel="Next page" newerLabel="Previous page" />
        </>
      )}
      {!connection && fetching && <p role="status">Loading…</p>}
      {actions.dialog}
    </main>
  );
}
