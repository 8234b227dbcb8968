import type { Engine } from '../config.ts';
import { Prisma, type DatabaseTransaction } from './client.ts';
import { chunks } from './chunks.ts';
import { quotedColumns, TOKEN_COLUMNS, TOKEN_TABLE } from './hot-path/columns.ts';

/**
 * Row locks for changes that must not interleave, taken top-down through the
 * token tree (a parent before its children), so that two operations that
 * meet lock in the same order and never deadlock.
 *
 * PostgreSQL needs SELECT … FOR UPDATE / FOR SHARE, which Prisma cannot
 * express. SQLite has one writer at a time, and every transaction begins
 * IMMEDIATE (client.ts), holding the write lock from before its first read:
 * what it read is what it changes, and there is nothing to lock.
 */

const column = quotedColumns(TOKEN_COLUMNS);
const TOKENS = Prisma.raw(`"${TOKEN_TABLE}"`);
const KEY = Prisma.raw(column.key);
const PARENT_KEY = Prisma.raw(column.parentKey);
const VALID = Prisma.raw(column.valid);

/** Locks a token row for the rest of the transaction: two changes to one token happen one after the other. */
export async function lockToken(tx: DatabaseTransaction, engine: Engine, key: string): Promise<void> {
  if (engine === 'postgresql') await tx.$queryRaw`SELECT ${KEY} FROM ${TOKENS} WHERE ${KEY} = ${key} FOR UPDATE`;
}

/**
 * Holds a parent token still while a child is made below it: a revocation or
 * a change of the parent waits until the child is committed, and then sees
 * it; or the parent changes first, and this read sees that.
 */
export async function lockParent(tx: DatabaseTransaction, engine: Engine, key: string): Promise<void> {
  if (engine === 'postgresql') await tx.$queryRaw`SELECT ${KEY} FROM ${TOKENS} WHERE ${KEY} = ${key} FOR SHARE`;
}

/**
 * The keys of the valid children of `parents`, locked on PostgreSQL. Read
 * after the parents were changed (and so locked), in a statement of its own:
 * under READ COMMITTED it sees every child committed until then, including
 * one whose derivation held the parent while this transaction waited for it.
 */
export async function lockedChildKeys(tx: DatabaseTransaction, engine: Engine, parents: readonly string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const slice of chunks(parents)) {
    const rows =
      engine === 'postgresql'
        ? await tx.$queryRaw<{ key: string }[]>`SELECT ${KEY} AS "key" FROM ${TOKENS}
            WHERE ${PARENT_KEY} IN (${Prisma.join(slice)}) AND ${VALID} ORDER BY ${KEY} FOR UPDATE`
        : await tx.token.findMany({ where: { parentKey: { in: slice }, valid: true }, select: { key: true } });
    keys.push(...rows.map((row) => row.key));
  }
  return keys;
}
