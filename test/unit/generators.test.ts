import { describe, it, expect } from 'vitest';
import {
  GafaelfawrTokenGenerator,
  LegacySha1TokenGenerator,
  TokenGeneratorRegistry,
  VendorChecksumTokenGenerator,
  createDefaultRegistry,
  parseGafaelfawrToken,
  vendorChecksum,
} from '../../src/domain/generators/index.ts';
import { MissingTokenInfoKeyError, UnknownTokenGeneratorError } from '../../src/domain/errors.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const context = { username: 'alice', vendorPrefix: 'tsr' };

// Bit-by-bit reflected CRC-32 (poly 0xEDB88320), independent of node:zlib.
function referenceCrc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function referenceChecksum(entropy: string): string {
  let value = BigInt(referenceCrc32(entropy));
  let digits = '';
  do {
    digits = ALPHABET[Number(value % 62n)] + digits;
    value /= 62n;
  } while (value > 0n);
  return digits.padStart(6, '0');
}

const swapCase = (s: string) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');

describe('vendor_checksum', () => {
  const generator = new VendorChecksumTokenGenerator();

  it('uses a CRC32 that agrees with the standard check value', () => {
    expect(referenceCrc32('123456789')).toBe(0xcbf43926);
    expect(vendorChecksum('123456789')).toBe(referenceChecksum('123456789'));
    expect(vendorChecksum('')).toBe('000000');
  });

  it('makes 255-character {prefix}_{entropy}{checksum} tokens', () => {
    const { token, key } = generator.createToken({ token_type: 'tsr' });
    expect(key).toBeUndefined();
    expect(token).toHaveLength(255);
    expect(token.startsWith('tsr_')).toBe(true);
    const body = token.slice(4);
    expect(body).toMatch(/^[0-9A-Za-z]+$/);
    const entropy = body.slice(0, -6);
    expect(entropy).toHaveLength(255 - 4 - 6);
    expect(body.slice(-6)).toBe(referenceChecksum(entropy));
    expect(generator.validateToken(token, { token_type: 'tsr' })).toBe(true);
    expect(generator.validateToken(token)).toBe(true);
  });

  it('fits the entropy to the prefix length', () => {
    const token = generator.createToken({ token_type: 'abcdefghijklmnop' }).token;
    expect(token).toHaveLength(255);
    expect(generator.validateToken(token)).toBe(true);
  });

  it('rejects a token with one entropy character changed', () => {
    const token = generator.createToken({ token_type: 'tsr' }).token;
    const index = 100;
    const original = token.charAt(index);
    const replacement = ALPHABET.charAt((ALPHABET.indexOf(original) + 1) % 62);
    const tampered = token.slice(0, index) + replacement + token.slice(index + 1);
    expect(generator.validateToken(tampered, { token_type: 'tsr' })).toBe(false);
  });

  it('accepts the checksum with its letter case swapped (djblets 3.0 tokens)', () => {
    for (let i = 0; i < 20; i++) {
      const token = generator.createToken({ token_type: 'tsr' }).token;
      const swapped = token.slice(0, -6) + swapCase(token.slice(-6));
      expect(generator.validateToken(swapped, { token_type: 'tsr' })).toBe(true);
    }
  });

  it('rejects a wrong checksum', () => {
    const token = generator.createToken({ token_type: 'tsr' }).token;
    const checksum = token.slice(-6);
    const wrong = checksum === 'zzzzzz' ? 'zzzzzy' : 'zzzzzz';
    expect(generator.validateToken(token.slice(0, -6) + wrong)).toBe(false);
  });

  it('rejects a wrong prefix, a bad length and non-base-62 characters', () => {
    const token = generator.createToken({ token_type: 'tsr' }).token;
    expect(generator.validateToken(token, { token_type: 'abc' })).toBe(false);
    expect(generator.validateToken(token, { token_type: 'ts' })).toBe(false);
    expect(generator.validateToken(`TSR${token.slice(3)}`)).toBe(false);
    expect(generator.validateToken(token.slice(1))).toBe(false);
    expect(generator.validateToken(`${token}a`)).toBe(false);
    expect(generator.validateToken(`${token.slice(0, 50)}-${token.slice(51)}`)).toBe(false);
    expect(generator.validateToken('')).toBe(false);
  });

  it('refuses prefixes outside /^[a-z][a-z0-9]{0,15}$/', () => {
    for (const tokenType of ['Tsr', '', '1ab', 'ts_r', 'a'.repeat(17), 42, undefined]) {
      expect(() => generator.createToken({ token_type: tokenType })).toThrow(/token_type/);
    }
  });

  it('draws distinct tokens', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 1000; i++) tokens.add(generator.createToken({ token_type: 'tsr' }).token);
    expect(tokens.size).toBe(1000);
  });

  it('uses every alphabet character in the entropy', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      for (const c of generator.createToken({ token_type: 'tsr' }).token.slice(4, -6)) seen.add(c);
    }
    expect([...seen].sort().join('')).toBe([...ALPHABET].sort().join(''));
  });
});

describe('gafaelfawr', () => {
  const generator = new GafaelfawrTokenGenerator();

  it('makes gt-{key}.{secret} tokens and returns the key', () => {
    const { token, key } = generator.createToken({});
    expect(token).toMatch(/^gt-[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    expect(key).toBe(token.slice(3, 25));
    expect(Buffer.from(key ?? '', 'base64url')).toHaveLength(16);
    expect(parseGafaelfawrToken(token)).toEqual({ key, secret: token.slice(26) });
    expect(generator.validateToken(token)).toBe(true);
  });

  it('rejects other shapes', () => {
    const { token } = generator.createToken({});
    expect(generator.validateToken(token.replace('gt-', 'gx-'))).toBe(false);
    expect(generator.validateToken(token.replace('.', '_'))).toBe(false);
    expect(generator.validateToken(`${token}=`)).toBe(false);
    expect(generator.validateToken(token.slice(0, -1))).toBe(false);
    expect(parseGafaelfawrToken('gt-abc.def')).toBeNull();
  });
});

describe('legacy_sha1', () => {
  const generator = new LegacySha1TokenGenerator();

  it('is deprecated and makes 40 lowercase hex characters', () => {
    expect(generator.deprecated).toBe(true);
    const { token, key } = generator.createToken({ user: 'alice' });
    expect(token).toMatch(/^[0-9a-f]{40}$/);
    expect(key).toBeUndefined();
    expect(generator.validateToken(token)).toBe(true);
    expect(generator.validateToken(token.toUpperCase())).toBe(false);
    expect(generator.validateToken(token.slice(1))).toBe(false);
    expect(generator.createToken({ user: 'alice' }).token).not.toBe(token);
  });
});

describe('TokenGeneratorRegistry', () => {
  const registry = createDefaultRegistry();

  it('holds the three generators with vendor_checksum as default', () => {
    expect(registry.defaultId).toBe('vendor_checksum');
    expect(registry.ids()).toEqual(['vendor_checksum', 'gafaelfawr', 'legacy_sha1']);
    expect(registry.get('gafaelfawr')).toBeInstanceOf(GafaelfawrTokenGenerator);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('supplies default token_info when none is given', () => {
    const vendor = registry.resolve(undefined, undefined, context);
    expect(vendor.generator.id).toBe('vendor_checksum');
    expect(vendor.tokenInfo).toEqual({ token_type: 'tsr' });
    expect(registry.resolve('legacy_sha1', null, context).tokenInfo).toEqual({ user: 'alice' });
    expect(registry.resolve('gafaelfawr', null, context).tokenInfo).toEqual({});
  });

  it('passes given token_info through', () => {
    const info = { token_type: 'abc', extra: 1 };
    expect(registry.resolve(null, info, context).tokenInfo).toBe(info);
  });

  it("reports a missing required key with djblets' message", () => {
    const resolveEmpty = () => registry.resolve('vendor_checksum', {}, context);
    expect(resolveEmpty).toThrow(MissingTokenInfoKeyError);
    expect(resolveEmpty).toThrow('The token_info dictionary must contain a token_type key.');
    try {
      registry.resolve('legacy_sha1', { token_type: 'x' }, context);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MissingTokenInfoKeyError);
      expect((error as MissingTokenInfoKeyError).message).toBe('The token_info dictionary must contain a user key.');
      expect((error as MissingTokenInfoKeyError).key).toBe('user');
    }
  });

  it("reports an unknown generator with djblets' message", () => {
    const resolveUnknown = () => registry.resolve('sha256', null, context);
    expect(resolveUnknown).toThrow(UnknownTokenGeneratorError);
    expect(resolveUnknown).toThrow('Could not find the token generator to generate the token.');
  });

  it('rejects a missing default and duplicate ids', () => {
    expect(() => createDefaultRegistry('nope')).toThrow(/not registered/);
    expect(() => new TokenGeneratorRegistry([], 'vendor_checksum')).toThrow(/not registered/);
    expect(() => registry.register(new GafaelfawrTokenGenerator())).toThrow(/already registered/);
    expect(createDefaultRegistry('gafaelfawr').resolve(undefined, undefined, context).generator.id).toBe('gafaelfawr');
  });
});
