/**
 * Signed in: who is signed in, the navigation, Sign out, and the page of the
 * current route. A token refused later (revoked, expired) ends the session.
 */
import { useQuery } from '@urql/preact';
import { useEffect } from 'preact/hooks';
import { isUnauthorized } from '../client.ts';
import { VIEWER } from '../documents.ts';
import { HistoryPage } from '../pages/history-page.tsx';
import { TokenPage } from '../pages/token-page.tsx';
import { TokensPage } from '../pages/tokens-page.tsx';
import { followLink, parseRoute, usePathname } from '../router.ts';
import type { Viewer } from '../types.ts';

interface Props {
  onSignOut(reason?: string): void;
}

export function Shell({ onSignOut }: Props) {
  const [{ data, error }] = useQuery({ query: VIEWER, requestPolicy: 'cache-first' });
  const pathname = usePathname();
  const route = parseRoute(pathname);

  // Each page starts at its heading, for screen readers and keyboard users alike.
  const signedIn = data?.viewer !== undefined;
  useEffect(() => {
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [pathname, signedIn]);

  const viewer: Viewer | undefined = data?.viewer;
  const section = route.page === 'history' ? 'history' : 'tokens';
  return (
    <>
      <header class="top">
        <a class="brand" href="/tokens" onClick={(event) => followLink(event, '/tokens')}>
          Tessera
        </a>
        <nav aria-label="Main">
          <a href="/tokens" aria-current={section === 'tokens' ? 'page' : undefined} onClick={(event) => followLink(event, '/tokens')}>
            Tokens
          </a>
          <a href="/history" aria-current={section === 'history' ? 'page' : undefined} onClick={(event) => followLink(event, '/history')}>
            History
          </a>
        </nav>
        <div class="who">
          {viewer && (
            <span>
              Signed in as <strong class="username">{viewer.username}</strong>
              {viewer.isAdmin && <span class="badge">admin</span>}
            </span>
          )}
          <button type="button" class="secondary" onClick={() => onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      {!viewer ? (
        <main>
          <h1 tabIndex={-1}>Tessera</h1>
          {error && !isUnauthorized(error) ? (
            <p role="alert" class="error">
              Could not load your account: {error.message}
            </p>
          ) : (
            <p role="status">Loading…</p>
          )}
        </main>
      ) : route.page === 'tokens' ? (
        <TokensPage viewer={viewer} />
      ) : route.page === 'token' ? (
        <TokenPage viewer={viewer} tokenKey={route.key} />
      ) : route.page === 'history' ? (
        <HistoryPage viewer={viewer} />
      ) : (
        <main>
          <h1 tabIndex={-1}>Page not found</h1>
          <p>
            There is nothing at this address. Go to{' '}
            <a href="/tokens" onClick={(event) => followLink(event, '/tokens')}>
              your tokens
            </a>
            .
          </p>
        </main>
      )}
    </>
  );
}
