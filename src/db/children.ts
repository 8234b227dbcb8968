import type { Engine } from '../config.ts';
import { Prisma, type Database, type TokenRow } from './client.ts';
import { TOKEN_COLUMNS } from './hot-path/columns.ts';
import { sqliteTime } from './hot-path/sqlite.ts';

/** A slice of each parent's children in their order (created_at, then key): `take` rows from one end, within the bounds. */
export interface ChildrenSlice {
  take: number;
  /** Only children after this one (its created_at and key). */
  after?: { time: Date; key: string } | null;
  /** Only children before this one. */
  before?: { time: Date; key: string } | null;
  /** Take from the newest end (a backward page) instead of the oldest. */
  fromNewest: boolean;
}

/**
 * A slice of each parent's children, in one statement however many children
 * a parent has: each parent's children are read through the (parent_key,
 * created_at, key) index, from the cursor on, and cut to `take` in SQL, so a
 * parent with 100,000 children costs `take` rows, not 100,000. The per-parent
 * LIMIT is a LATERAL join on PostgreSQL and a correlated IN list on SQLite,
 * which has no LATERAL; both run one small index search per parent. Rows come
 * back oldest first within each parent whichever end they were taken from.
 */
export async function childrenSlices(db: Database, engine: Engine, parents: readonly string[], slice: ChildrenSlice): Promise<TokenRow[]> {
  if (parents.length === 0 || slice.take <= 0) return [];
  const fields = (table: string) => Prisma.raw(TOKEN_COLUMNS.map(({ column, field }) => `${table}."${column}" AS "${field}"`).join(', '));
  const parentRows = Prisma.join(
    parents.map((key) => Prisma.sql`(${key})`),
    ', ',
  );
  // A row value comparison, which both engines answer from the index.
  const bound = (position: { time: Date; key: string }, comparison: '>' | '<') =>
    engine === 'postgresql'
      ? Prisma.sql` AND ("created_at", "key") ${Prisma.raw(comparison)} (${position.time.toISOString()}::timestamp(3), ${position.key}::text)`
      : Prisma.sql` AND ("created_at", "key") ${Prisma.raw(comparison)} (${sqliteTime(position.time)}, ${position.key})`;
  const bounds = Prisma.sql`${slice.after ? bound(slice.after, '>') : Prisma.empty}${slice.before ? bound(slice.before, '<') : Prisma.empty}`;
  const order = Prisma.raw(slice.fromNewest ? '"created_at" DESC, "key" DESC' : '"created_at", "key"');
  const rows =
    engine === 'postgresql'
      ? await db.$queryRaw<Record<string, unknown>[]>`
          WITH parents(key) AS (VALUES ${parentRows})
          SELECT ${fields('child')} FROM parents
          CROSS JOIN LATERAL (
            SELECT * FROM "tokens" WHERE "parent_key" = parents.key::text${bounds} ORDER BY ${order} LIMIT ${slice.take}
          ) AS child
          ORDER BY child."parent_key", child."created_at", child."key"`
      : await db.$queryRaw<Record<string, unknown>[]>`
          WITH parents(key) AS (VALUES ${parentRows})
          SELECT ${fields('child')} FROM parents
          JOIN "tokens" AS child ON child."key" IN (
            SELECT "key" FROM "tokens" WHERE "parent_key" = parents.key${bounds} ORDER BY ${order} LIMIT ${slice.take}
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
