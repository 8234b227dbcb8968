/**
 * Client-side routes, as Tessera serves them (index.html for each):
 * /tokens, /tokens/<key>, /history; / shows the tokens.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'tokens' } | { page: 'token'; key: string } | { page: 'history' } | { page: 'not-found' };

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/tokens' || pathname === '/tokens/') return { page: 'tokens' };
  if (pathname === '/history' || pathname === '/history/') return { page: 'history' };
  const token = /^\/tokens\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  if (token?.[1]) return { page: 'token', key: token[1] };
  return { page: 'not-found' };
}

const listeners = new Set<() => void>();

function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

export function usePathname(): string {
  const [pathname, setPathname] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPathname(location.pathname);
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return pathname;
}

/** A link handled in the page (a plain click), or by the browser (a new tab, a modified click). */
export function followLink(event: MouseEvent, path: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(path);
}
