import { z } from 'zod';
import { inTransaction } from '../../db/transaction.ts';
import type { DomainDeps } from '../deps.ts';
import { TokenNotFoundError } from '../errors.ts';
import { changeBy } from '../history/entries.ts';
import type { Actor } from '../model.ts';
import { revokeOne, type RevocationResult } from '../revocation.ts';
import { canSee } from '../rules/authorization.ts';
import { isExpired } from '../rules/token-state.ts';
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

/** What revocation by value did: revoked the token (and its descendants), found nothing active to revoke, or refused. */
export type RevokeByValueOutcome = 'revoked' | 'nothing' | 'not-permitted';

/**
 * RFC 7009 revocation by value: revokes the presented token and its
 * descendants when the actor may (its owner with user:token, or an admin).
 * An active token the actor may not touch is refused ('not-permitted', RFC
 * 7009 §2.1); a string that is no active token (unknown, malformed, already
 * revoked, expired) is 'nothing', whoever asks, so that the answer tells
 * nothing about strings that are not live tokens.
 */
export async function revokeByValue(deps: DomainDeps, actor: Actor, presented: string): Promise<RevokeByValueOutcome> {
  if (!isWellFormed(deps.generators, presented)) return 'nothing';
  const secretHash = hashToken(presented);
  return inTransaction(deps.db, async (tx): Promise<RevokeByValueOutcome> => {
    const token = await tx.token.findUnique({ where: { secretHash }, select: { key: true, username: true, valid: true, expiresAt: true } });
    if (!token?.valid) return 'nothing';
    if (!canSee(actor, token.username)) return isExpired(token, deps.now()) ? 'nothing' : 'not-permitted';
    await revokeOne(deps, tx, token.key, '', changeBy(actor, deps.now()));
    return 'revoked';
  });
}
