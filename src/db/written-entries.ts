import type { Database, DatabaseTransaction, TokenChange } from './client.ts';
import type { HotPath } from './hot-path/types.ts';

/**
 * History entries this process committed, told to a listener (the
 * tessera_token_changes_total counter). An entry counts once its
 * transaction has committed: appending notes it on the transaction, and
 * inTransaction (transaction.ts) reports the notes after the commit, so a
 * rolled-back transaction counts nothing. Entries written by other
 * processes (the CLI, another server) are theirs to count.
 */
export type WrittenEntriesListener = (action: TokenChange, count: number) => void;

const listeners = new WeakMap<object, WrittenEntriesListener>();
/** What each open transaction appended so far. */
const appended = new WeakMap<object, Partial<Record<TokenChange, number>>>();

/** Tells `listener` of every entry committed through this client's transactions. */
export function listenForWrittenEntries(db: Database, listener: WrittenEntriesListener): void {
  listeners.set(db, listener);
}

/** Notes `count` entries of `action` appended inside `tx`, to report if it commits. */
export function noteAppended(tx: DatabaseTransaction, action: TokenChange, count: number): void {
  if (count === 0) return;
  const tally = appended.get(tx) ?? {};
  tally[action] = (tally[action] ?? 0) + count;
  appended.set(tx, tally);
}

/** After `tx` committed on `db`: reports what it appended. */
export function reportCommitted(db: Database, tx: DatabaseTransaction): void {
  const tally = appended.get(tx);
  if (!tally) return;
  appended.delete(tx);
  const listener = listeners.get(db);
  if (!listener) return;
  for (const [action, count] of Object.entries(tally) as [TokenChange, number][]) listener(action, count);
}

/** The hot path, reporting the CREATE entry of each token it inserted (its insert commits before it answers). */
export function reportingInserts(hotPath: HotPath, listener: WrittenEntriesListener): HotPath {
  return {
    findActiveToken: (secretHash, now) => hotPath.findActiveToken(secretHash, now),
    findActiveCredential: (secretHash, now) => hotPath.findActiveCredential(secretHash, now),
    recordUses: (uses) => hotPath.recordUses(uses),
    async insertToken(token, entry, parent) {
      const outcome = await hotPath.insertToken(token, entry, parent);
      if (outcome === 'inserted') listener(entry.action, 1);
      return outcome;
    },
    releaseExpiredName: (username, name, now) => hotPath.releaseExpiredName(username, name, now),
    findHistory: (query) => hotPath.findHistory(query),
    findTokensByKeys: (keys) => hotPath.findTokensByKeys(keys),
    close: () => hotPath.close(),
  };
}
