/**
 * The signed-in token lives in sessionStorage only: it goes with the tab, never
 * into a cookie (sent to the server unasked) or localStorage (kept after the tab).
 */
const KEY = 'tessera.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
