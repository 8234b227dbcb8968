import { inTransaction } from '../../db/transaction.ts';
import type { DomainDeps } from '../deps.ts';
import type { CLI_ACTOR, LEAK_REPORT_ACTOR } from '../model.ts';
import { revokeOne, type RevocationResult } from '../revocation.ts';
import { LIMITS } from '../rules/input.ts';
import { isExpired } from '../rules/token-state.ts';
import { hashToken } from '../secrets.ts';
import { isWellFormed } from '../verification.ts';

/** Who reports a leak: a secret scanner at POST /leaks, or the operator's `tessera scan --revoke`. */
export interface LeakReporter {
  actor: typeof LEAK_REPORT_ACTOR | typeof CLI_ACTOR;
  /** The reporting client's address, recorded in history (null at the command line). */
  ipAddress: string | null;
}

/**
 * What became of a reported string: not a token Tessera issued; or one it
 * issued (`key`), with what was revoked now (nothing when the token was
 * already revoked or expired).
 */
export type LeakVerdict = { issued: false } | { issued: true; key: string; revoked: RevocationResult };

// C0 and C1 controls, and halves of surrogate pairs: a reason holds neither (rules/input.ts refuses them).
const UNSTORABLE = /[\p{Cc}\p{Cs}]/gu;

/**
 * `leaked: <where>` (a URL, a path), as a reason may be stored: control
 * characters replaced, cut to the reason limit. Where the secret was seen is
 * not the secret, but it is the reporter's text: it is made to fit, never refused.
 */
function leakReason(where: string): string {
  const reason = [...`leaked: ${where.replace(UNSTORABLE, '\uFFFD')}`];
  return reason.length <= LIMITS.longText ? reason.join('') : `${reason.slice(0, LIMITS.longText - 1).join('')}…`;
}

/**
 * A token string seen where it should not be (a public repository, a file):
 * a token Tessera issued and that is still active is revoked with its
 * descendants, each with a REVOKE entry whose reason is `leaked: <where>`.
 * Presenting the secret is the authority to revoke it, so there is no actor
 * to authorize: whoever holds a leaked token could use it, and may as well
 * end it.
 */
export async function reportLeak(deps: DomainDeps, reporter: LeakReporter, presented: string, where: string): Promise<LeakVerdict> {
  // A string no generator could have made (a typo, a checksum that fails) costs no lookup.
  if (!isWellFormed(deps.generators, presented)) return { issued: false };
  // Read first, outside a transaction: most reports are of strings that are not Tessera's, or no longer live.
  const token = await deps.db.token.findUnique({ where: { secretHash: hashToken(presented) }, select: { key: true, valid: true, expiresAt: true } });
  if (!token) return { issued: false };
  const eventTime = deps.now();
  if (!token.valid || isExpired(token, eventTime)) return { issued: true, key: token.key, revoked: { count: 0, keys: [] } };
  // Revocation touches only valid rows: a token revoked meanwhile is left to the entry that revoked it.
  const revoked = await inTransaction(deps.db, (tx) =>
    revokeOne(deps, tx, token.key, leakReason(where), { actor: reporter.actor, ipAddress: reporter.ipAddress, eventTime }),
  );
  return { issued: true, key: token.key, revoked };
}
