import type { DatabaseTransaction } from '../db/client.ts';
import { revokeTrees } from '../db/bulk.ts';
import type { DomainDeps } from './deps.ts';
import { stampOf, type ChangeContext } from './history/entries.ts';

/** How many revoked keys a result names: a bulk revocation's answer must not grow with the number of tokens it touched. */
export const REPORTED_KEYS = 100;

/** What a revocation did: how many tokens it revoked in all, and the first of them (at most REPORTED_KEYS). */
export interface RevocationResult {
  count: number;
  keys: string[];
}

/** Adds one statement's revoked keys to a running result, keeping only the first REPORTED_KEYS. */
export function tally(result: RevocationResult, revoked: readonly string[]): void {
  result.count += revoked.length;
  if (result.keys.length < REPORTED_KEYS) result.keys.push(...revoked.slice(0, REPORTED_KEYS - result.keys.length));
}

/** Revokes one token and its valid descendants inside the caller's transaction. */
export async function revokeOne(deps: DomainDeps, tx: DatabaseTransaction, key: string, reason: string, change: ChangeContext): Promise<RevocationResult> {
  const result: RevocationResult = { count: 0, keys: [] };
  tally(result, await revokeTrees(tx, deps.config.engine, [key], reason, stampOf(change)));
  return result;
}
