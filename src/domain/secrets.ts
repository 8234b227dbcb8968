import { createHash, randomFillSync } from 'node:crypto';

/** What is stored of a token string: its SHA-256, hex. The string itself never is. */
export function hashToken(token: string): string {
  return tokenDigest(token).toString('hex');
}

/** hashToken's SHA-256 as bytes (what a constant-time comparison takes). */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Cryptographically random bytes, served from a pool the kernel's CSPRNG
 * fills 64 KiB at a time: minting a token needs three small draws, and one
 * system call per draw was a measurable part of generateToken. Every byte is
 * handed out once.
 */
const pool = Buffer.alloc(64 * 1024);
let offset = pool.length;

export function secureRandomBytes(size: number): Buffer {
  if (size > pool.length) return randomFillSync(Buffer.alloc(size));
  if (offset + size > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}

/** 128 random bits as 22 characters of URL-safe base64, as Gafaelfawr's keys and secrets. */
export function randomKey(): string {
  return secureRandomBytes(16).toString('base64url');
}
