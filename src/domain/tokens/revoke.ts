import { z } from 'zod';
import { inTransaction } from '../../db/transaction.ts';
import type { DomainDeps } from '../deps.ts';
import { TokenNotFoundError } from '../errors.ts';
import { changeBy } from '../history/entries.ts';
import type { Actor } from '../model.ts';
import { revokeOne, type RevocationResult } from '../revocation.ts';
import { canSee } from '../rules/authorization.ts';
import { longText, parseInput, tokenKey } from '../rules/input.ts';
import { hashToken } from '../secrets.ts';
import { isWellFormed } from '../verification.ts';

/** Revokes one token and its descendants. */
export async function revokeToken(deps: DomainDeps, actor: Actor, rawKey: string, rawReason = ''): Promise<RevocationResult> {
  const { key, reason } = parseInput(z.object({ key: tokenKey, reason: longText }), { key: rawKey, reason: rawReason });
  deps.authorizer.authorize(actor, 'revoke tokens');
  const token = await deps.db.token.findUnique({ where: { key }, select: { username: true } });
  // Someone else's token answers as a missing one: no existence leak.
  if (!token || !canSee(actor, token.username)) throw new TokenNotFoundError(key);
  return inTransaction(deps.db, (tx) => revokeOne(deps, tx, key, reason, changeBy(actor, deps.now())));
}

/**
 * RFC 7009 revocation by value: revokes the presented token and its
 * descendants when the actor may (its owner with user:token, or an admin).
 * The caller learns nothing either way, so nothing here fails for the
 * token's sake: an unknown, already revoked or someone else's token is left
 * as it is.
 */
export async function revokeByValue(deps: DomainDeps, actor: Actor, presented: string): Promise<void> {
  if (!isWellFormed(deps.generators, presented)) return;
  const secretHash = hashToken(presented);
  await inTransaction(deps.db, async (tx) => {
    const token = await tx.token.findUnique({ where: { secretHash }, select: { key: true, username: true, valid: true } });
    if (!token?.valid || !canSee(actor, token.username)) return;
    await revokeOne(deps, tx, token.key, '', changeBy(actor, deps.now()));
  });
}
