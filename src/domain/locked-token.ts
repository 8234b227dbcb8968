import type { DatabaseTransaction, TokenRow } from '../db/client.ts';
import { lockToken } from '../db/locks.ts';
import type { DomainDeps } from './deps.ts';
import { TokenNotFoundError } from './errors.ts';
import type { Actor } from './model.ts';
import { canSee } from './rules/authorization.ts';

/** A token the actor may act on, locked for the transaction; someone else's answers as a missing one. */
export async function lockedVisibleToken(deps: DomainDeps, tx: DatabaseTransaction, actor: Actor, key: string): Promise<TokenRow> {
  await lockToken(tx, deps.config.engine, key);
  const token = await tx.token.findUnique({ where: { key } });
  if (!token || !canSee(actor, token.username)) throw new TokenNotFoundError(key);
  return token;
}
