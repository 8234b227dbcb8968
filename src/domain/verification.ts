import { MAX_TOKEN_LENGTH } from '../config.ts';
import type { Database, TokenRow } from '../db/client.ts';
import type { TokenGeneratorRegistry } from './generators/index.ts';
import { hashToken } from './secrets.ts';
import { activeTokenWhere } from './token-state.ts';

/** Whether `presented` could be a token at all: a string no generator could have made costs no database lookup. */
export function isWellFormed(generators: TokenGeneratorRegistry, presented: string): boolean {
  return presented.length <= MAX_TOKEN_LENGTH && generators.recognizes(presented);
}

/**
 * The active token a presented string belongs to, or null, and the use
 * recorded. One statement checks validity and expiry and records the use,
 * so a token revoked a moment ago cannot slip in between a check and the
 * write, and an unknown, revoked or expired token costs exactly the same.
 */
export async function verifyToken(db: Database, generators: TokenGeneratorRegistry, presented: string, now: Date): Promise<TokenRow | null> {
  if (!isWellFormed(generators, presented)) return null;
  const [token] = await db.token.updateManyAndReturn({
    where: { secretHash: hashToken(presented), ...activeTokenWhere(now) },
    data: { lastUsedAt: now },
  });
  return token ?? null;
}
