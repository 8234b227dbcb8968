import { ADMIN_SCOPE, USER_SCOPE } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { PermissionDeniedError } from '../errors.ts';
import { BOOTSTRAP_ACTOR, CLI_ACTOR, type Actor } from '../model.ts';

/**
 * Who may act on whose tokens, in one place. Each domain operation calls
 * `authorize` once, at its top; reads that must not reveal whether something
 * exists filter with `canSee` instead of failing.
 */

export function isAdmin(actor: Actor): boolean {
  return actor.scopes.includes(ADMIN_SCOPE);
}

/** Holds user:token: may act on its own tokens. */
function isTokenUser(actor: Actor): boolean {
  return actor.scopes.includes(USER_SCOPE);
}

/**
 * The bootstrap secret and the command line: the operator, acting with
 * admin:token but owning no tokens, so "my own tokens" means nothing for it.
 */
export function isOperator(actor: Actor): boolean {
  return actor.username === BOOTSTRAP_ACTOR || actor.username === CLI_ACTOR;
}

/** The operator's actor; built here only, so that every operator looks alike. */
export function operatorActor(username: typeof BOOTSTRAP_ACTOR | typeof CLI_ACTOR, ipAddress: string | null = null): Actor {
  return { username, scopes: [ADMIN_SCOPE], tokenKey: null, ipAddress, policy: {} };
}

/** Whether the actor may see a token or history entry owned by `owner`. */
export function canSee(actor: Actor, owner: string): boolean {
  return isAdmin(actor) || (isTokenUser(actor) && actor.username === owner);
}

/**
 * What an operation needs: `admin` for admin-only work, `scope` for work
 * that one scope grants; otherwise admins pass and everyone else needs
 * user:token and may name only themselves as `owner` (none named: any
 * user:token holder, acting on its own).
 */
export interface Requirement {
  admin?: boolean;
  owner?: string | readonly string[];
  /** Admins, or holders of this scope (and nothing more is asked). */
  scope?: string;
}

export class Authorizer {
  constructor(private readonly logger: Logger) {}

  /** Throws PermissionDeniedError, and logs the denial, unless the actor meets the requirement. */
  authorize(actor: Actor, operation: string, requirement: Requirement = {}): void {
    const reason = denial(actor, operation, requirement);
    if (reason === null) return;
    throw this.refusal(actor, operation, requirement.owner ?? [], reason);
  }

  /** A PermissionDeniedError for a denial decided elsewhere (the minting rule), logged as every denial is. */
  refusal(actor: Actor, operation: string, owner: string | readonly string[], reason: string): PermissionDeniedError {
    this.logger.info({ actor: actor.username, operation, owners: [owner].flat() }, 'permission denied');
    return new PermissionDeniedError(reason);
  }

  /** The username a listing is confined to: admins see whom they ask for (everyone when nobody), others only themselves. */
  visibleOwner(actor: Actor, operation: string, requested: string | null | undefined): string | undefined {
    this.authorize(actor, operation, { owner: requested ?? actor.username });
    return isAdmin(actor) ? (requested ?? undefined) : actor.username;
  }
}

function denial(actor: Actor, operation: string, requirement: Requirement): string | null {
  if (isAdmin(actor)) return null;
  if (requirement.admin) return `Only an administrator (${ADMIN_SCOPE}) may ${operation}`;
  if (requirement.scope !== undefined) return actor.scopes.includes(requirement.scope) ? null : `The ${requirement.scope} scope is required to ${operation}`;
  if (!isTokenUser(actor)) return `The ${USER_SCOPE} scope is required to ${operation}`;
  const owners = requirement.owner === undefined ? [] : [requirement.owner].flat();
  if (owners.some((owner) => owner !== actor.username)) {
    return `Only an administrator (${ADMIN_SCOPE}) may ${operation} for another user`;
  }
  return null;
}
