/** One token: its details, what can be done to it, the tokens derived from it, and its own history. */
import { useQuery } from '@urql/preact';
import { useMemo } from 'preact/hooks';
import { TOKEN_DETAILS } from '../documents.ts';
import { HistoryTable } from '../components/history-table.tsx';
import { RowActions } from '../components/row-actions.tsx';
import { Time } from '../components/time.tsx';
import { useTokenActions } from '../components/token-actions.tsx';
import { TokensTable } from '../components/tokens-table.tsx';
import { statusName, tokenLabel, tokenTypeName } from '../format.ts';
import { followLink } from '../router.ts';
import type { Viewer } from '../types.ts';

const TOKEN_CONTEXT = { additionalTypenames: ['Token', 'TokenChangeHistoryEntry'] };

export function TokenPage({ viewer, tokenKey }: { viewer: Viewer; tokenKey: string }) {
  const context = useMemo(() => TOKEN_CONTEXT, []);
  const [{ data, error, fetching }] = useQuery({ query: TOKEN_DETAILS, variables: { key: tokenKey }, context });
  const actions = useTokenActions(viewer);
  const token = data?.token;

  if (!token) {
    return (
      <main>
        <h1 tabIndex={-1}>Token {tokenKey}</h1>
        {error ? (
          <p role="alert" class="error">
            Could not load the token: {error.message}
          </p>
        ) : fetching ? (
          <p role="status">Loading…</p>
        ) : (
          <p>No token with this key is yours to see.</p>
        )}
        <p>
          <a href="/tokens" onClick={(event) => followLink(event, '/tokens')}>
            Back to the tokens
          </a>
        </p>
      </main>
    );
  }

  const link = (other: { key: string; name?: string | null }) => (
    <a href={`/tokens/${other.key}`} onClick={(event) => followLink(event, `/tokens/${other.key}`)}>
      {other.name ?? other.key}
    </a>
  );
  return (
    <main>
      <div class="page-head">
        <h1 tabIndex={-1}>{tokenLabel(token)}</h1>
        <RowActions token={token} onAction={actions.act} />
      </div>
      <dl class="details">
        <dt>Key</dt>
        <dd class="key">{token.key}</dd>
        <dt>Owner</dt>
        <dd>{token.username}</dd>
        <dt>Type</dt>
        <dd>{tokenTypeName(token.tokenType)}</dd>
        <dt>Status</dt>
        <dd>
          <span class={`status status-${token.status.toLowerCase()}`}>{statusName(token.status)}</span>
          {token.invalidReason && <span> ({token.invalidReason})</span>}
          {token.deprecated && <span> — made in a deprecated format: replace it</span>}
        </dd>
        <dt>Scopes</dt>
        <dd>{token.scopes.length > 0 ? token.scopes.join(', ') : 'none'}</dd>
        <dt>Created</dt>
        <dd>
          <Time value={token.createdAt} empty="" />
        </dd>
        <dt>Expires</dt>
        <dd>
          <Time value={token.expiresAt} empty="Never" />
        </dd>
        <dt>Last used</dt>
        <dd>
          <Time value={token.lastUsedAt} empty="Never used" />
          {token.lastUsedIp && <span> from {token.lastUsedIp}</span>}
        </dd>
        {token.note && (
          <>
            <dt>Note</dt>
            <dd class="note">{token.note}</dd>
          </>
        )}
        {token.service && (
          <>
            <dt>Service</dt>
            <dd>{token.service}</dd>
          </>
        )}
        {token.parentKey && (
          <>
            <dt>Derived from</dt>
            <dd>{link({ key: token.parentKey })}</dd>
          </>
        )}
        {token.replaces && (
          <>
            <dt>Replaces</dt>
            <dd>{link(token.replaces)}</dd>
          </>
        )}
        {token.replacedBy && (
          <>
            <dt>Replaced by</dt>
            <dd>{link(token.replacedBy)}</dd>
          </>
        )}
      </dl>
      <h2>Derived tokens</h2>
      {token.children.totalCount > 0 ? (
        <TokensTable
          caption={`Tokens derived from this one (${token.children.totalCount})`}
          tokens={token.children.edges.map((edge) => edge.node)}
          showOwner={false}
          onAction={actions.act}
        />
      ) : (
        <p class="empty">None.</p>
      )}
      <h2>History</h2>
      <HistoryTable caption={`Changes to this token (${token.history.totalCount})`} entries={token.history.edges.map((edge) => edge.node)} />
      {actions.dialog}
    </main>
  );
}
