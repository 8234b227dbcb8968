import type { Prisma, TokenRow } from '../../db/client.ts';

/**
 * Whether a token is usable, defined once: valid (not revoked or
 * invalidated) and not past its expiry. The predicate and the Prisma `where`
 * below say the same thing, one for rows in hand and one for SQL.
 */

type TokenState = Pick<TokenRow, 'valid' | 'expiresAt'>;

export function isExpired(token: Pick<TokenRow, 'expiresAt'>, now: Date): boolean {
  return token.expiresAt !== null && token.expiresAt <= now;
}

export function isActive(token: TokenState, now: Date): boolean {
  return token.valid && !isExpired(token, now);
}

export function activeTokenWhere(now: Date): Prisma.TokenWhereInput {
  return { valid: true, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}
