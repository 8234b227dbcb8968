import type { Engine } from '../config.ts';
import type { DatabaseTransaction } from './client.ts';

/**
 * Locks a token row for the rest of the transaction, so that two changes to
 * one token (two edits, an edit and a rotation) happen one after the other
 * and each records the other's result as its old values. PostgreSQL needs
 * SELECT … FOR UPDATE, which Prisma cannot express; SQLite has one writer,
 * and a transaction that read before another's write is retried whole
 * (transaction.ts), so there is nothing to do.
 */
export async function lockToken(tx: DatabaseTransaction, engine: Engine, key: string): Promise<void> {
  if (engine === 'postgresql') await tx.$queryRaw`SELECT "key" FROM "tokens" WHERE "key" = ${key} FOR UPDATE`;
}
