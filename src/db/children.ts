import type { Engine } from '../config.ts';
import { Prisma, type Database, type TokenRow } from './client.ts';
import { TOKEN_COLUMNS } from './hot-path/columns.ts';

/**
 * The first `first` children of each parent, oldest first (created_at, then
 * key), in one statement however many children a parent has: each parent's
 * children are read through the parent_key index and cut to `first` in SQL,
 * so a parent with 100,000 children costs `first` rows, not 100,000. The
 * per-parent LIMIT is a LATERAL join on PostgreSQL and a correlated IN list
 * on SQLite, which has no LATERAL; both run one small index search per parent.
 */
export async function firstChildren(db: Database, engine: Engine, parents: readonly string[], first: number): Promise<TokenRow[]> {
  if (parents.length === 0 || first <= 0) return [];
  const fields = (table: string) => Prisma.raw(TOKEN_COLUMNS.map(({ column, field }) => `${table}."${column}" AS "${field}"`).join(', '));
  const parentRows = Prisma.join(
    parents.map((key) => Prisma.sql`(${key})`),
    ', ',
  );
  const rows =
    engine === 'postgresql'
      ? await db.$queryRaw<Record<string, unknown>[]>`
          WITH parents(key) AS (VALUES ${parentRows})
          SELECT ${fields('child')} FROM parents
          CROSS JOIN LATERAL (
            SELECT * FROM "tokens" WHERE "parent_key" = parents.key::text ORDER BY "created_at", "key" LIMIT ${first}
          ) AS child
          ORDER BY child."parent_key", child."created_at", child."key"`
      : await db.$queryRaw<Record<string, unknown>[]>`
          WITH parents(key) AS (VALUES ${parentRows})
          SELECT ${fields('child')} FROM parents
          JOIN "tokens" AS child ON child."key" IN (
            SELECT "key" FROM "tokens" WHERE "parent_key" = parents.key ORDER BY "created_at", "key" LIMIT ${first}
          )
          ORDER BY child."parent_key", child."created_at", child."key"`;
  return rows.map(tokenRowOf);
}

/**
 * A raw row as Prisma's model reads it. Prisma types raw columns by their
 * declared types on both engines, but an expression can come back as SQLite's
 * storage form (times as text, booleans as 0/1, JSON as text); those are read
 * the way Prisma would.
 */
function tokenRowOf(raw: Record<string, unknown>): TokenRow {
  const row: Record<string, unknown> = {};
  for (const { field, kind } of TOKEN_COLUMNS) {
    const value = raw[field] ?? null;
    if (value === null) row[field] = null;
    else if (kind === 'time') row[field] = value instanceof Date ? value : new Date(String(value));
    else if (kind === 'boolean') row[field] = typeof value === 'boolean' ? value : Number(value) === 1;
    else if (kind === 'json') row[field] = typeof value === 'string' ? JSON.parse(value) : value;
    else row[field] = value;
  }
  // Every field of the model was read above, by the list that holds them (db/hot-path/columns.ts).
  return row as TokenRow;
}
