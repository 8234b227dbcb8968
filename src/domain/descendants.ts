import type { DatabaseTransaction, TokenRow } from '../db/client.ts';
import { treeKeys } from '../db/bulk.ts';
import { chunks } from '../db/chunks.ts';
import { appendEntries, entryFor, type ChangeContext } from './history/entries.ts';

/**
 * The token tree: NOTEBOOK and INTERNAL tokens hang below the token they were
 * derived from. Revocation and shortened expiries flow down it.
 */

/**
 * A child never outlives its parent: every valid descendant of `root` whose
 * expiry is later than `expires` (or that never expires) now expires then,
 * each with an EDIT entry recording its old expiry.
 */
export async function shortenDescendants(tx: DatabaseTransaction, root: string, expires: Date, change: ChangeContext): Promise<TokenRow[]> {
  const keys = (await treeKeys(tx, [root])).filter((key) => key !== root);
  const shortened: TokenRow[] = [];
  for (const slice of chunks(keys)) {
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
    await appendEntries(tx, updated.map((token) => entryFor(token, 'edit', change, { expires: oldExpiry.get(token.key) ?? null })));
    shortened.push(...updated);
  }
  return shortened;
}
