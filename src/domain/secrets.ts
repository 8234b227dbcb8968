import { createHash, randomBytes } from 'node:crypto';

/** What is stored of a token string: its SHA-256, hex. The string itself never is. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** 128 random bits as 22 characters of URL-safe base64, as Gafaelfawr's keys and secrets. */
export function randomKey(): string {
  return randomBytes(16).toString('base64url');
}
