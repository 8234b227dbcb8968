import { MAX_TOKEN_LENGTH } from '../config.ts';
import type { TokenRow } from '../db/client.ts';
import type { HotPath } from '../db/hot-path/index.ts';
import type { TokenGeneratorRegistry } from './generators/index.ts';
import { hashToken } from './secrets.ts';

/** Whether `presented` could be a token at all: a string no generator could have made costs no database lookup. */
export function isWellFormed(generators: TokenGeneratorRegistry, presented: string): boolean {
  return presented.length <= MAX_TOKEN_LENGTH && generators.recognizes(presented);
}

/**
 * The active token a presented string belongs to, or null: one indexed read
 * that checks validity and expiry (token-state.ts says the same in Prisma's
 * words), so an unknown, revoked or expired token costs exactly the same.
 * Nothing is cached, so a revocation counts from the very next request, on
 * every process. The caller notes the use (usage.ts).
 */
export async function verifyToken(hotPath: HotPath, generators: TokenGeneratorRegistry, presented: string, now: Date): Promise<TokenRow | null> {
  if (!isWellFormed(generators, presented)) return null;
  return hotPath.findActiveToken(hashToken(presented), now);
}
