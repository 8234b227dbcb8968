/**
 * Test-only token generators, and the spec's vendor_checksum checksum
 * recomputed independently of the product, for the generateToken tests.
 * (GraphQL operations and their helpers are in operations.ts.)
 */
import { crc32 } from 'node:zlib';
import { createDefaultRegistry, type TokenGeneratorRegistry } from '../../src/domain/generators/index.ts';
import type { GeneratedToken, TokenGenerator, TokenInfo } from '../../src/domain/generators/types.ts';

/** The base-62 alphabet the spec fixes (digits, upper case, lower case), written out independently of the product's constant. */
const SPEC_BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** CRC32 of `entropy`, unsigned, in base 62, left-padded with '0' to 6 characters: the spec's checksum, recomputed here. */
export function expectedVendorChecksum(entropy: string): string {
  let value = crc32(Buffer.from(entropy, 'utf8')) >>> 0;
  let digits = '';
  do {
    digits = SPEC_BASE62[value % 62] + digits;
    value = Math.floor(value / 62);
  } while (value > 0);
  return digits.padStart(6, '0');
}

/** A generator that always produces the same token string, so every attempt after the first collides on the secret hash. */
export class AlwaysCollidesGenerator implements TokenGenerator {
  readonly id = 'always_collides';
  readonly deprecated = false;
  readonly requiredInfoKeys = [] as const;
  /** How many times createToken was called since the last reset. */
  calls = 0;

  constructor(readonly token = 'always-the-same-token-string-for-collision-tests') {}

  defaultTokenInfo(): TokenInfo {
    return {};
  }

  createToken(): GeneratedToken {
    this.calls += 1;
    return { token: this.token };
  }

  validateToken(token: string): boolean {
    return token === this.token;
  }
}

/** The default registry plus the collision generator. */
export function registryWithCollisions(): { generators: TokenGeneratorRegistry; collider: AlwaysCollidesGenerator } {
  const generators = createDefaultRegistry();
  const collider = new AlwaysCollidesGenerator();
  generators.register(collider);
  return { generators, collider };
}
