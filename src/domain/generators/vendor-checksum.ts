// djblets.secrets.token_generators.vendor_checksum.VendorChecksumTokenGenerator:
// `{prefix}_{entropy}{checksum}`, 255 characters in all.
import { secureRandomBytes } from '../secrets.ts';
// zlib.crc32 exists from Node 20.15; package.json requires >= 20.19.
import { crc32 } from 'node:zlib';
import { InvalidInputError, quote } from '../errors.ts';
import type { GeneratedToken, TokenGenerator, TokenGeneratorContext, TokenInfo } from './types.ts';

const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Every vendor_checksum token, prefix and `_` included (a scanner's pattern is built from it). */
export const VENDOR_TOKEN_LENGTH = 255;
const VENDOR_CHECKSUM_LENGTH = 6;
const TOKEN_TYPE_PATTERN = /^[a-z][a-z0-9]{0,15}$/;

const BASE62_BODY = /^[0-9A-Za-z]+$/;
// Largest multiple of 62 that fits in a byte: bytes at or above it are
// rejected so every alphabet character is equally likely (no modulo bias).
const UNBIASED_BYTE_LIMIT = 256 - (256 % 62);

function randomBase62(length: number): string {
  let result = '';
  while (result.length < length) {
    // ~3% of bytes are rejected; over-draw a little to usually finish in one pass.
    const bytes = secureRandomBytes(Math.ceil((length - result.length) * 1.1) + 8);
    for (const byte of bytes) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      result += BASE62_ALPHABET.charAt(byte % 62);
      if (result.length === length) break;
    }
  }
  return result;
}

function base62Encode(value: number): string {
  if (value === 0) return BASE62_ALPHABET.charAt(0);
  let digits = '';
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) {
    digits = BASE62_ALPHABET.charAt(rest % 62) + digits;
  }
  return digits;
}

/** Base-62 CRC32 of the entropy, zero-padded to 6 characters (62^6 > 2^32, so it always fits). */
export function vendorChecksum(entropy: string): string {
  const unsigned = crc32(entropy) >>> 0;
  return base62Encode(unsigned).padStart(VENDOR_CHECKSUM_LENGTH, '0');
}

function swapCase(text: string): string {
  return text.replace(/[A-Za-z]/g, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()));
}

function tokenTypeOf(tokenInfo: TokenInfo): string {
  const tokenType = tokenInfo.token_type;
  if (typeof tokenType !== 'string' || !TOKEN_TYPE_PATTERN.test(tokenType)) {
    throw new InvalidInputError(
      `Invalid token_info.token_type ${typeof tokenType === 'string' ? quote(tokenType) : typeof tokenType}: it must be 1 to 16 lowercase ` +
        'letters or digits, starting with a letter.',
    );
  }
  return tokenType;
}

export class VendorChecksumTokenGenerator implements TokenGenerator {
  readonly id = 'vendor_checksum';
  readonly deprecated = false;
  readonly requiredInfoKeys = ['token_type'] as const;

  defaultTokenInfo(context: TokenGeneratorContext): TokenInfo {
    return { token_type: context.vendorPrefix };
  }

  createToken(tokenInfo: TokenInfo): GeneratedToken {
    const prefix = tokenTypeOf(tokenInfo);
    const entropyLength = VENDOR_TOKEN_LENGTH - VENDOR_CHECKSUM_LENGTH - prefix.length - 1;
    const entropy = randomBase62(entropyLength);
    return { token: `${prefix}_${entropy}${vendorChecksum(entropy)}` };
  }

  validateToken(token: string, tokenInfo?: TokenInfo): boolean {
    if (token.length !== VENDOR_TOKEN_LENGTH) return false;

    // The base-62 body never contains `_`, so the prefix ends at the first one.
    const separator = token.indexOf('_');
    if (separator < 0) return false;
    const prefix = token.slice(0, separator);
    const expectedPrefix = tokenInfo?.token_type;
    if (expectedPrefix !== undefined ? prefix !== expectedPrefix : !TOKEN_TYPE_PATTERN.test(prefix)) {
      return false;
    }

    const body = token.slice(separator + 1);
    if (!BASE62_BODY.test(body)) return false;

    const entropy = body.slice(0, -VENDOR_CHECKSUM_LENGTH);
    const givenChecksum = body.slice(-VENDOR_CHECKSUM_LENGTH);
    const checksum = vendorChecksum(entropy);
    // Djblets 3.0 base-62 encoded checksums with the letter case swapped;
    // djblets still accepts those, and so do we.
    return givenChecksum === checksum || givenChecksum === swapCase(checksum);
  }
}
