import { ADMIN_SCOPE, USER_SCOPE } from '../config.ts';
import { PermissionDeniedError } from './errors.ts';
import type { Actor } from './model.ts';

/**
 * The rules of who may act on whose tokens, in one place. Every domain
 * operation asks here; no resolver decides.
 */

export function isAdmin(actor: Actor): boolean {
  return actor.scopes.includes(ADMIN_SCOPE);
}

/** Admins act on anyone; other callers need user:token and act only on themselves. */
export function assertMayActOn(actor: Actor, username: string): void {
  if (isAdmin(actor)) return;
  if (!actor.scopes.includes(USER_SCOPE)) {
    throw new PermissionDeniedError(`The ${USER_SCOPE} scope is required to manage tokens`);
  }
  if (username !== actor.username) {
    throw new PermissionDeniedError(`Only an administrator (${ADMIN_SCOPE}) may act on another user's tokens`);
  }
}

export function assertAdmin(actor: Actor, what: string): void {
  if (!isAdmin(actor)) throw new PermissionDeniedError(`Only an administrator (${ADMIN_SCOPE}) may ${what}`);
}

/**
 * The username a listing is limited to: admins see whom they ask for (everyone
 * when they ask for nobody), others only themselves.
 */
export function visibleUsername(actor: Actor, requested: string | null | undefined): string | undefined {
  if (isAdmin(actor)) return requested ?? undefined;
  assertMayActOn(actor, requested ?? actor.username);
  return actor.username;
}

/** Whether the actor may see a token or history entry owned by `username` (false rather than an error: no existence leak). */
export function maySee(actor: Actor, username: string): boolean {
  return isAdmin(actor) || (actor.scopes.includes(USER_SCOPE) && actor.username === username);
}
