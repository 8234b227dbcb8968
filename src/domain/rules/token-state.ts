import type { TokenRow } from '../../db/client.ts';

/**
 * Whether a token is usable, defined once: valid (not revoked or
 * invalidated) and not past its expiry. (The SQL of the hot path and of
 * db/bulk.ts says the same in its WHERE clauses.)
 */

type TokenState = Pick<TokenRow, 'valid' | 'expiresAt'>;

export function isExpired(token: Pick<TokenRow, 'expiresAt'>, now: Date): boolean {
  return token.expiresAt !== null && token.expiresAt <= now;
}

export function isActive(token: TokenState, now: Date): boolean {
  return token.valid && !isExpired(token, now);
}

/** What a token page shows of a token's state, one word for the three fields it is derived from. */
export type TokenStatus = 'active' | 'expired' | 'revoked';

/**
 * Revoked wins over expired: revocation (or invalidation, or rotation without
 * a grace period) is an act someone took, and a token revoked after it
 * expired was still revoked. A rotated token within its grace period is active.
 */
export function statusOf(token: TokenState, now: Date): TokenStatus {
  if (!token.valid) return 'revoked';
  return isExpired(token, now) ? 'expired' : 'active';
}
