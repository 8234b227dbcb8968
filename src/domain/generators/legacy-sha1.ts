// djblets.secrets.token_generators.legacy_sha1.LegacySHA1TokenGenerator: a bare
// SHA-1 hex digest. Deprecated in djblets in favour of vendor_checksum.
import { createHash } from 'node:crypto';
import { secureRandomBytes } from '../secrets.ts';
import { InvalidInputError } from '../errors.ts';
import type { GeneratedToken, TokenGenerator, TokenGeneratorContext, TokenInfo } from './types.ts';

const LEGACY_SHA1_TOKEN = /^[0-9a-f]{40}$/;

export class LegacySha1TokenGenerator implements TokenGenerator {
  readonly id = 'legacy_sha1';
  readonly deprecated = true;
  // djblets passes the user (and an attempt counter, which our random bytes make unnecessary).
  readonly requiredInfoKeys = ['user'] as const;

  defaultTokenInfo(context: TokenGeneratorContext): TokenInfo {
    return { user: context.username };
  }

  createToken(tokenInfo: TokenInfo): GeneratedToken {
    const user = tokenInfo.user;
    if (typeof user !== 'string') {
      throw new InvalidInputError("Invalid token_info.user: it must be a string (the token owner's username).");
    }
    // djblets hashes SECRET_KEY + user data + time; the random bytes stand in
    // for the secret so the digest cannot be predicted from user and time.
    const material = `${user}${Date.now()}${secureRandomBytes(32).toString('hex')}`;
    return { token: createHash('sha1').update(material).digest('hex') };
  }

  validateToken(token: string): boolean {
    return LEGACY_SHA1_TOKEN.test(token);
  }
}
