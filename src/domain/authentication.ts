import { timingSafeEqual } from 'node:crypto';
import { MAX_TOKEN_LENGTH } from '../config.ts';
import type { Database } from '../db/client.ts';
import type { HotPath } from '../db/hot-path/index.ts';
import { operatorActor } from './rules/authorization.ts';
import type { TokenGeneratorRegistry } from './generators/index.ts';
import { asJsonObject, BOOTSTRAP_ACTOR, type Actor, type Clock } from './model.ts';
import { scopesOf } from './rules/scopes.ts';
import { tokenDigest } from './secrets.ts';
import type { UsageRecorder } from './usage.ts';
import { isWellFormed } from './verification.ts';

export type AuthenticationFailure = 'missing' | 'malformed' | 'unknown' | 'invalid' | 'expired';

export type Authentication = { ok: true; actor: Actor; deprecated: boolean } | { ok: false; failure: AuthenticationFailure };

/**
 * Decides who a presented token string is. The string is hashed and looked up
 * by its SHA-256; it is never logged or stored. Validity and expiry are
 * checked on every use, so a revoked or expired token stops working at once;
 * the use itself is recorded later, in a batch (usage.ts).
 */
export class Authenticator {
  private readonly bootstrapHash: Buffer | null;

  constructor(
    private readonly db: Database,
    private readonly hotPath: HotPath,
    private readonly usage: UsageRecorder,
    private readonly generators: TokenGeneratorRegistry,
    bootstrapToken: string | undefined,
    private readonly now: Clock,
  ) {
    this.bootstrapHash = bootstrapToken ? tokenDigest(bootstrapToken) : null;
  }

  async authenticate(presented: string | null, ipAddress: string | null): Promise<Authentication> {
    if (!presented) return { ok: false, failure: 'missing' };
    if (presented.length > MAX_TOKEN_LENGTH) return { ok: false, failure: 'malformed' };
    // Hashed once, up front: the bootstrap comparison and the lookup (verifyToken's statement, reading only what authentication needs) share it.
    const digest = tokenDigest(presented);
    // Compared in constant time: the bootstrap secret is not in the database, so nothing else protects it from timing.
    if (this.bootstrapHash && timingSafeEqual(this.bootstrapHash, digest)) {
      return { ok: true, actor: operatorActor(BOOTSTRAP_ACTOR, ipAddress), deprecated: false };
    }
    if (!isWellFormed(this.generators, presented)) return { ok: false, failure: 'malformed' };
    const hash = digest.toString('hex');
    const now = this.now();
    const token = await this.hotPath.findActiveCredential(hash, now);
    if (!token) return { ok: false, failure: await this.whyRefused(hash) };
    this.usage.record(token, ipAddress, now);
    return {
      ok: true,
      actor: { username: token.username, scopes: scopesOf(token), tokenKey: token.key, ipAddress, policy: asJsonObject(token.policy) },
      deprecated: this.generators.isDeprecated(token.generatorId),
    };
  }

  /** Why a well-formed token did not authenticate: the rare path, so a second query is fine. */
  private async whyRefused(hash: string): Promise<AuthenticationFailure> {
    const token = await this.db.token.findUnique({ where: { secretHash: hash }, select: { valid: true } });
    if (!token) return 'unknown';
    return token.valid ? 'expired' : 'invalid';
  }
}
