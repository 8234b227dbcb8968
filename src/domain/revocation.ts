import type { DatabaseTransaction } from '../db/client.ts';
import { revokeTrees } from '../db/bulk.ts';
import type { DomainDeps } from './deps.ts';
import { stampOf, type ChangeContext } from './history/entries.ts';

/** What a revocation did: how many tokens it revoked, and which. */
export interface RevocationResult {
  count: number;
  keys: string[];
}

/** Revokes one token and its valid descendants inside the caller's transaction. */
export async function revokeOne(deps: DomainDeps, tx: DatabaseTransaction, key: string, reason: string, change: ChangeContext): Promise<RevocationResult> {
  const keys = await revokeTrees(tx, deps.config.engine, [key], reason, stampOf(change));
  return { count: keys.length, keys };
}
