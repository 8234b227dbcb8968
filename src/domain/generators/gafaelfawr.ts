// Gafaelfawr-style tokens: `gt-{key}.{secret}`. The key is public (it names the
// token in the database); only the secret's hash is stored.
import { randomKey } from '../secrets.ts';
import type { GeneratedToken, TokenGenerator, TokenInfo } from './types.ts';

// 16 bytes in unpadded base64url are 22 characters; the last one carries only
// 2 data bits, so a canonical encoding ends in A, Q, g or w.
const PART = '[A-Za-z0-9_-]{21}[AQgw]';
const GAFAELFAWR_TOKEN = new RegExp(`^gt-(${PART})\\.(${PART})$`);

/** Splits a well-formed gafaelfawr token into its key and secret; null otherwise. */
export function parseGafaelfawrToken(token: string): { key: string; secret: string } | null {
  const [, key, secret] = GAFAELFAWR_TOKEN.exec(token) ?? [];
  return key !== undefined && secret !== undefined ? { key, secret } : null;
}

export class GafaelfawrTokenGenerator implements TokenGenerator {
  readonly id = 'gafaelfawr';
  readonly deprecated = false;
  readonly requiredInfoKeys = [] as const;

  defaultTokenInfo(): TokenInfo {
    return {};
  }

  // token_info is accepted (the interface passes it) but nothing in it is needed.
  createToken(_tokenInfo?: TokenInfo): GeneratedToken {
    const key = randomKey();
    return { token: `gt-${key}.${randomKey()}`, key };
  }

  validateToken(token: string): boolean {
    return GAFAELFAWR_TOKEN.test(token);
  }
}
