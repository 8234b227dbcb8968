import { ADMIN_SCOPE } from '../../config.ts';
import type { TokenRow } from '../../db/client.ts';
import { InvalidInputError, TokenNotFoundError, type DomainError } from '../errors.ts';
import { asJsonObject, type Actor, type JsonObject, type TokenType } from '../model.ts';
import { canSee, isAdmin, type Authorizer } from './authorization.ts';
import { isAtLeastAsRestrictive } from './policy.ts';
import { assertSubset, scopesOf } from './scopes.ts';
import { TOKEN_TYPE_RULES } from './token-types.ts';

/**
 * The one rule for whatever mints a secret (generate, derive, rotate) or
 * changes a token (edit), SPEC "Who may do what": a non-admin never obtains
 * a token, or a secret for one, with a scope it does not hold, nor a SESSION
 * or SERVICE token, and acts only on its own tokens whose scopes are within
 * its own. Revocation is not minting: an owner may revoke any of its tokens.
 *
 * Policies: whatever a caller mints or edits is never less restricted than
 * the caller's own token (its policy allows nothing the caller's denies,
 * decided exactly by policy.ts's isAtLeastAsRestrictive), and a derived
 * token never less restricted than its parent. This binds admins too: an
 * admin's token that carries a policy is restricted like anyone's; the
 * operator's actors carry `{}` and so are bound by nothing.
 */

/** What an operation is about to mint or change. */
export type Minting =
  | {
      operation: 'generate';
      owner: string;
      tokenType: TokenType;
      scopes: readonly string[];
      /** The policy asked for; left out, the token gets the caller's. */
      policy: JsonObject | null | undefined;
    }
  | { operation: 'rotate'; token: TokenRow }
  | {
      operation: 'edit';
      token: TokenRow;
      /** Whether a rotation replaced the token (a token's replacesKey points to it). */
      replaced: boolean;
      scopes: readonly string[] | undefined;
      policy: JsonObject | null | undefined;
      /** Left out (undefined): unchanged; null: never expires. */
      expires: Date | null | undefined;
    };

/**
 * Throws the typed error for the first thing the actor may not do; returns
 * the policy the resulting token carries. Someone else's token answers as a
 * missing one (TOKEN_NOT_FOUND), as everywhere.
 */
export function assertMayMint(authorizer: Authorizer, actor: Actor, minting: Minting): { policy: JsonObject } {
  if (minting.operation === 'generate') {
    const { owner, tokenType, scopes } = minting;
    const adminOnly = TOKEN_TYPE_RULES[tokenType].adminOnly;
    authorizer.authorize(actor, adminOnly ? `create ${tokenType} tokens` : 'generate tokens', { owner, admin: adminOnly });
    if (!isAdmin(actor)) assertSubset(scopes, actor.scopes);
    const policy = minting.policy ?? actor.policy;
    assertPolicyWithin(authorizer, actor, 'generate tokens', owner, policy);
    return { policy };
  }

  const { operation, token } = minting;
  if (!canSee(actor, token.username)) throw new TokenNotFoundError(token.key);
  if (!isAdmin(actor)) {
    if (TOKEN_TYPE_RULES[token.tokenType].adminOnly) {
      const what = `${operation} ${token.tokenType} tokens`;
      throw authorizer.refusal(actor, what, token.username, `Only an administrator (${ADMIN_SCOPE}) may ${what}`);
    }
    const beyond = scopesOf(token).filter((scope) => !actor.scopes.includes(scope));
    if (beyond.length > 0) {
      throw authorizer.refusal(actor, `${operation} tokens`, token.username, `You may not ${operation} a token whose scopes are broader than your own`);
    }
  }
  if (operation === 'rotate') {
    const policy = asJsonObject(token.policy);
    assertPolicyWithin(authorizer, actor, 'rotate tokens', token.username, policy);
    return { policy };
  }

  if (minting.scopes !== undefined && !isAdmin(actor)) assertSubset(minting.scopes, actor.scopes);
  const policy = minting.policy ?? asJsonObject(token.policy);
  assertPolicyWithin(authorizer, actor, 'edit tokens', token.username, policy);
  // A replaced token lives out its grace period and no longer (the new token is what lives on).
  const { replaced, expires } = minting;
  if (replaced && expires !== undefined && (expires === null || token.expiresAt === null || expires > token.expiresAt)) {
    throw new InvalidInputError('expires may not be later for a token replaced by rotation: it lives only until its grace period ends', 'expires');
  }
  return { policy };
}

/**
 * What a parent bounds of a child besides its existence, scopes and expiry
 * (generate.ts checks those): a non-admin derives only from a token whose
 * scopes are within its own, and the child's policy is no less restricted
 * than the parent's nor the caller's. Returns the problem (null: none), so
 * that the derivation can ask again under the parent's lock.
 */
export function derivationProblem(authorizer: Authorizer, actor: Actor, parent: TokenRow, childPolicy: JsonObject): DomainError | null {
  if (!isAdmin(actor) && !scopesOf(parent).every((scope) => actor.scopes.includes(scope))) {
    return authorizer.refusal(actor, 'derive tokens', parent.username, 'You may not derive from a token whose scopes are broader than your own');
  }
  if (!isAtLeastAsRestrictive(childPolicy, asJsonObject(parent.policy))) {
    return authorizer.refusal(actor, 'derive tokens', parent.username, 'A derived token’s policy may not allow what its parent’s policy denies');
  }
  return policyProblem(authorizer, actor, 'derive tokens', parent.username, childPolicy);
}

/**
 * A derived token's policy when none is asked for: the parent's, or the
 * caller's when that one is the stricter, so that the child is bound by both.
 * When neither is within the other, the parent's, which derivationProblem
 * then refuses: the caller must ask for a policy within both.
 */
export function inheritedPolicy(actor: Actor, parent: TokenRow): JsonObject {
  const parentPolicy = asJsonObject(parent.policy);
  return isAtLeastAsRestrictive(parentPolicy, actor.policy) || !isAtLeastAsRestrictive(actor.policy, parentPolicy) ? parentPolicy : actor.policy;
}

function policyProblem(authorizer: Authorizer, actor: Actor, operation: string, owner: string, policy: JsonObject): DomainError | null {
  if (isAtLeastAsRestrictive(policy, actor.policy)) return null;
  return authorizer.refusal(actor, operation, owner, 'The token’s policy may not allow what your own token’s policy denies');
}

function assertPolicyWithin(authorizer: Authorizer, actor: Actor, operation: string, owner: string, policy: JsonObject): void {
  const problem = policyProblem(authorizer, actor, operation, owner, policy);
  if (problem) throw problem;
}
