import { absoluteTime, actionName, tokenTypeName } from '../format.ts';
import { followLink } from '../router.ts';
import type { Entry } from '../types.ts';
import { Time } from './time.tsx';

interface Props {
  caption: string;
  entries: readonly Entry[];
  /** Keys of entries that arrived live, marked for the eye (and announced by the page's status). */
  fresh?: ReadonlySet<string>;
}

const listOf = (scopes: readonly string[] | null | undefined) => (scopes && scopes.length > 0 ? scopes.join(', ') : 'none');
const expiryOf = (iso: string | null | undefined) => (iso ? absoluteTime(iso) : 'never');

/** What an edit changed, old → new, for the fields it passed. */
function changes(entry: Entry): string {
  if (entry.action !== 'EDIT') return '';
  const parts: string[] = [];
  if (entry.oldTokenName != null && entry.oldTokenName !== entry.tokenName) parts.push(`name: ${entry.oldTokenName} → ${entry.tokenName ?? ''}`);
  if (entry.oldScopes != null) parts.push(`scopes: ${listOf(entry.oldScopes)} → ${listOf(entry.scopes)}`);
  if (entry.oldExpires !== undefined && (entry.oldExpires !== null || entry.expires !== null) && entry.oldExpires !== entry.expires) {
    parts.push(`expires: ${expiryOf(entry.oldExpires)} → ${expiryOf(entry.expires)}`);
  }
  return parts.join('; ');
}

export function HistoryTable({ caption, entries, fresh }: Props) {
  return (
    // A named region that takes focus: a keyboard can scroll the table sideways when it is wider than the screen.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: axe's scrollable-region-focusable asks for exactly this.
    <section class="table-wrap" aria-label={caption} tabIndex={0}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Token</th>
            <th scope="col">User</th>
            <th scope="col">Actor</th>
            <th scope="col">Scopes</th>
            <th scope="col">Expires</th>
            <th scope="col">Changes</th>
            <th scope="col">IP address</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} class={fresh?.has(entry.id) ? 'fresh' : undefined}>
              <td>
                <Time value={entry.eventTime} empty="" />
              </td>
              <td>{actionName(entry.action)}</td>
              <td>
                <a href={`/tokens/${entry.token}`} onClick={(event) => followLink(event, `/tokens/${entry.token}`)}>
                  {entry.tokenName ?? `${tokenTypeName(entry.tokenType)} ${entry.token.slice(0, 8)}`}
                </a>
                <span class="key"> {entry.token}</span>
              </td>
              <td>{entry.username}</td>
              <td>{entry.actor}</td>
              <td>{listOf(entry.scopes)}</td>
              <td>{entry.expires ? <Time value={entry.expires} empty="Never" /> : <span class="muted">Never</span>}</td>
              <td>{changes(entry)}</td>
              <td>{entry.ipAddress ?? <span class="muted">none</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
