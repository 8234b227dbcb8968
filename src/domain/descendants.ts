import type { DatabaseTransaction, TokenRow } from '../db/client.ts';
import type { Engine } from '../config.ts';
import { chunks } from '../db/chunks.ts';
import { lockedChildKeys } from '../db/locks.ts';
import { appendEntries, entryFor, type ChangeContext } from './history/entries.ts';
import { scopesOf } from './rules/scopes.ts';

/**
 * The token tree: NOTEBOOK and INTERNAL tokens hang below the token they were
 * derived from. Revocation, shortened expiries and narrowed scopes flow down it.
 */

/**
 * A child never outlives its parent: every valid descendant of `root` whose
 * expiry is later than `expires` (or that never expires) now expires then,
 * each with an EDIT entry recording its old expiry. Walked a level at a time
 * under the levels' locks (db/locks.ts), so that a child derived while this
 * runs is either seen here or derived from the shortened parent. Below a
 * child that already expires in time nothing can outlive it, so only the
 * shortened ones are followed.
 */
export async function shortenDescendants(tx: DatabaseTransaction, engine: Engine, root: string, expires: Date, change: ChangeContext): Promise<TokenRow[]> {
  const shortened: TokenRow[] = [];
  let parents = [root];
  while (parents.length > 0) {
    const children = await lockedChildKeys(tx, engine, parents);
    parents = [];
    for (const slice of chunks(children)) {
      const outliving = await tx.token.findMany({
        where: { key: { in: slice }, OR: [{ expiresAt: null }, { expiresAt: { gt: expires } }] },
        select: { key: true, expiresAt: true },
      });
      if (outliving.length === 0) continue;
      const updated = await tx.token.updateManyAndReturn({
        where: { key: { in: outliving.map((token) => token.key) } },
        data: { expiresAt: expires, lastUpdatedAt: change.eventTime },
      });
      const oldExpiry = new Map(outliving.map((token) => [token.key, token.expiresAt]));
      await appendEntries(
        tx,
        updated.map((token) => entryFor(token, 'edit', change, { expires: oldExpiry.get(token.key) ?? null })),
      );
      shortened.push(...updated);
      parents.push(...updated.map((token) => token.key));
    }
  }
  return shortened;
}

/**
 * A child's scopes stay within its parent's: every valid descendant of
 * `root` keeps only the scopes its parent (as narrowed) still has, in its
 * row and its scope rows, each with an EDIT entry recording its old scopes.
 * Walked a level at a time under the levels' locks, as shortenDescendants
 * is; a child that keeps all its scopes bounds its own children already, so
 * only the narrowed ones are followed.
 */
export async function narrowDescendants(
  tx: DatabaseTransaction,
  engine: Engine,
  root: string,
  scopes: readonly string[],
  change: ChangeContext,
): Promise<TokenRow[]> {
  const narrowed: TokenRow[] = [];
  let parentScopes = new Map<string, readonly string[]>([[root, scopes]]);
  while (parentScopes.size > 0) {
    const children = await lockedChildKeys(tx, engine, [...parentScopes.keys()]);
    const next = new Map<string, readonly string[]>();
    for (const slice of chunks(children)) {
      const rows = await tx.token.findMany({ where: { key: { in: slice } }, select: { key: true, parentKey: true, scopes: true } });
      // Children left with the same scopes are narrowed by one statement.
      const byKept = new Map<string, { kept: string[]; keys: string[] }>();
      const oldScopes = new Map<string, string[]>();
      for (const row of rows) {
        const old = scopesOf(row);
        const allowed = parentScopes.get(row.parentKey ?? '') ?? [];
        const kept = old.filter((scope) => allowed.includes(scope));
        if (kept.length === old.length) continue;
        oldScopes.set(row.key, old);
        const group = byKept.get(JSON.stringify(kept)) ?? { kept, keys: [] };
        group.keys.push(row.key);
        byKept.set(JSON.stringify(kept), group);
      }
      for (const { kept, keys } of byKept.values()) {
        const updated = await tx.token.updateManyAndReturn({ where: { key: { in: keys } }, data: { scopes: kept, lastUpdatedAt: change.eventTime } });
        await tx.tokenScope.deleteMany({ where: { tokenKey: { in: keys }, scope: { notIn: kept } } });
        await appendEntries(
          tx,
          updated.map((token) => entryFor(token, 'edit', change, { scopes: oldScopes.get(token.key) ?? [] })),
        );
        narrowed.push(...updated);
        for (const key of keys) next.set(key, kept);
      }
    }
    parentScopes = next;
  }
  return narrowed;
}
