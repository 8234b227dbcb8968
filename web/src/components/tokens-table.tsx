import { statusName, tokenLabel, tokenTypeName } from '../format.ts';
import { followLink } from '../router.ts';
import type { TokenRow } from '../types.ts';
import { RowActions } from './row-actions.tsx';
import type { TokenAction } from './token-actions.tsx';
import { Time } from './time.tsx';

interface Props {
  caption: string;
  tokens: readonly TokenRow[];
  /** Show whose each token is (an admin looking at several users). */
  showOwner: boolean;
  onAction(kind: TokenAction, token: TokenRow): void;
}

/** Tokens, a row each; the table scrolls inside its own region on a narrow screen. */
export function TokensTable({ caption, tokens, showOwner, onAction }: Props) {
  return (
    // A named region that takes focus: a keyboard can scroll the table sideways when it is wider than the screen.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: axe's scrollable-region-focusable asks for exactly this.
    <section class="table-wrap" aria-label={caption} tabIndex={0}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            {showOwner && <th scope="col">User</th>}
            <th scope="col">Type</th>
            <th scope="col">Scopes</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => (
            <tr key={token.key}>
              <th scope="row">
                <a href={`/tokens/${token.key}`} onClick={(event) => followLink(event, `/tokens/${token.key}`)}>
                  {tokenLabel(token)}
                </a>
              </th>
              {showOwner && <td>{token.username}</td>}
              <td>{tokenTypeName(token.tokenType)}</td>
              <td>{token.scopes.length > 0 ? <span class="scopes-list">{token.scopes.join(', ')}</span> : <span class="muted">none</span>}</td>
              <td>
                <span class={`status status-${token.status.toLowerCase()}`}>{statusName(token.status)}</span>
                {token.replacedBy && token.status === 'ACTIVE' && <span class="muted"> (replaced: works until it expires)</span>}
              </td>
              <td>
                <Time value={token.expiresAt} empty="Never" />
              </td>
              <td>
                <Time value={token.lastUsedAt} empty="Never used" />
                {token.lastUsedIp && <span class="address"> from {token.lastUsedIp}</span>}
              </td>
              <td>
                <RowActions token={token} onAction={onAction} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
