import { z } from 'zod';
import { INTROSPECT_SCOPE } from '../../config.ts';
import type { DomainDeps } from '../deps.ts';
import { optional, parseInput, shortText } from '../rules/input.ts';
import { asJsonObject, type Actor, type JsonObject, type TokenType } from '../model.ts';
import { isAllowed } from '../rules/policy.ts';
import { scopesOf } from '../rules/scopes.ts';
import type { TokenRow } from '../../db/client.ts';
import { verifyToken } from '../verification.ts';

/** RFC 7662's answer, in Tessera's words; the API layers spell it out (snake_case at the endpoint, camelCase in GraphQL). */
export type Introspection =
  | { active: false }
  | {
      active: true;
      /** Space-separated, as RFC 7662 has it. */
      scope: string;
      username: string;
      /** Epoch seconds; null when the token never expires. */
      exp: number | null;
      iat: number;
      key: string;
      tokenClass: TokenType;
      policy: JsonObject;
      service: string | null;
      parent: string | null;
      deprecated: boolean;
      /** The answer to the access question, when one was asked. */
      allowed?: boolean;
    };

/** "May this token do `method` on `resource` (item `resourceId`)?", answered from its policy. */
export interface AccessQuestion {
  resource: string;
  method: string;
  resourceId?: string | null;
}

const accessQuestion = z.object({
  resource: shortText,
  method: z.string().regex(/^[A-Za-z]{1,16}$/, 'must be an HTTP method such as GET'),
  resourceId: optional(shortText),
});

const epochSeconds = (time: Date) => Math.floor(time.getTime() / 1000);

/**
 * A presented token string with its lookup already under way: started beside
 * the caller's authentication (oauth.ts), the two lookups share one statement
 * on PostgreSQL (the hot path gathers the lookups of one turn of the event
 * loop). Only a read: nothing is recorded until introspectToken has
 * authorized the caller and answers.
 */
export interface PresentedToken {
  value: string;
  lookup: Promise<TokenRow | null>;
}

export function lookUpPresented(deps: DomainDeps, value: string): PresentedToken {
  const lookup = verifyToken(deps.hotPath, deps.generators, value, deps.now());
  // Awaited only when the caller is authorized; a failure is reported there, not as an unhandled rejection here.
  lookup.catch(() => undefined);
  return { value, lookup };
}

/**
 * RFC 7662 introspection: whether `presented` is an active token, and what
 * it is. Unknown, malformed, revoked and expired tokens all answer
 * `{ active: false }` and nothing else, after the same one indexed statement
 * (none at all for a string no generator could have made), so the answer's
 * timing tells no more than its content. An active answer counts as a use.
 */
export async function introspectToken(
  deps: DomainDeps,
  actor: Actor,
  presented: string | PresentedToken,
  rawAccess?: AccessQuestion | null,
): Promise<Introspection> {
  deps.authorizer.authorize(actor, 'introspect tokens', { scope: INTROSPECT_SCOPE });
  const access = rawAccess == null ? null : parseInput(accessQuestion, rawAccess, 'access');
  const now = deps.now();
  const token = await (typeof presented === 'string' ? verifyToken(deps.hotPath, deps.generators, presented, now) : presented.lookup);
  if (!token) return { active: false };
  // The token was presented to the resource server asking: its address is the use's.
  deps.usage.record(token, actor.ipAddress, now);
  const policy = asJsonObject(token.policy);
  return {
    active: true,
    scope: scopesOf(token).join(' '),
    username: token.username,
    exp: token.expiresAt === null ? null : epochSeconds(token.expiresAt),
    iat: epochSeconds(token.createdAt),
    key: token.key,
    tokenClass: token.tokenType,
    policy,
    service: token.service,
    parent: token.parentKey,
    deprecated: deps.generators.isDeprecated(token.generatorId),
    ...(access ? { allowed: isAllowed(policy, access) } : {}),
  };
}
