import type { Database, DatabaseTransaction } from '../../db/client.ts';
import { DuplicateTokenNameError } from '../errors.ts';
import { isActive } from './token-state.ts';

/**
 * USER token names are unique among an owner's usable tokens. The unique
 * index on (username, active_name) enforces it; this is what the index
 * cannot know: an expired token authenticates no one, so its name is free
 * again (as Gafaelfawr's, once its sweep deletes it) even before the sweep
 * has released it. The expired token keeps its `name`. A token minted on the
 * hot path lets the index refuse it first and then releases an expired
 * holder's name (HotPath.releaseExpiredName, the same rule in SQL).
 */
export async function claimName(tx: DatabaseTransaction, username: string, name: string, now: Date, forKey?: string): Promise<void> {
  const holder = await nameHolder(tx, username, name);
  if (!holder || holder.key === forKey) return;
  if (isActive(holder, now)) throw new DuplicateTokenNameError(name);
  await tx.token.update({ where: { key: holder.key }, data: { activeName: null } });
}

function nameHolder(db: Database | DatabaseTransaction, username: string, name: string) {
  return db.token.findFirst({ where: { username, activeName: name }, select: { key: true, valid: true, expiresAt: true } });
}

/** After a unique-index violation: whether a usable token holds the name. */
export async function isNameTaken(db: Database, username: string, name: string | null | undefined, now: Date): Promise<boolean> {
  if (!name) return false;
  const holder = await nameHolder(db, username, name);
  return holder !== null && isActive(holder, now);
}
