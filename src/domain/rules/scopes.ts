import type { TokenRow } from '../../db/client.ts';
import { ScopesTooBroadError, UnknownScopeError } from '../errors.ts';

/** Scopes are kept sorted and distinct, as Gafaelfawr keeps them, so equal sets compare equal. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((scope) => scope.trim()))].sort();
}

/** A token row's scopes (stored as a JSON array, the one list type both engines share). */
export function scopesOf(token: Pick<TokenRow, 'scopes'>): string[] {
  return Array.isArray(token.scopes) ? token.scopes.filter((scope): scope is string => typeof scope === 'string') : [];
}

export function assertKnownScopes(scopes: readonly string[], knownScopes: readonly string[]): void {
  const unknown = scopes.filter((scope) => !knownScopes.includes(scope));
  if (unknown.length > 0) throw new UnknownScopeError(unknown);
}

export function assertSubset(scopes: readonly string[], allowed: readonly string[], what?: string): void {
  const extra = scopes.filter((scope) => !allowed.includes(scope));
  if (extra.length > 0) throw new ScopesTooBroadError(extra, what);
}
