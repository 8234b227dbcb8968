/**
 * Search by name and the NAME order compare a token's name case-insensitively
 * and the same way on both engines. Neither engine can be asked for that: the
 * Prisma clients write a substring search as `LIKE '%' || ? || '%'`, whose
 * case folding is ASCII-only on SQLite and absent on PostgreSQL, and which
 * escapes no wildcard (SQLite's LIKE has no escape character unless told, and
 * PostgreSQL's takes `\` as one). So the name is stored folded beside itself
 * (Token.nameFolded): lowercased here, by JavaScript's Unicode case mapping,
 * and with LIKE's special characters swapped for control characters, which no
 * name may hold. A search term folded the same way then holds no wildcard, and
 * a plain LIKE finds exactly the names that contain it, ignoring case.
 */

const LIKE_SPECIALS: Readonly<Record<string, string>> = { '%': '\u0001', _: '\u0002', '\\': '\u0003' };

/** A name (or a search term) as Token.nameFolded holds it; null stays null. */
export function foldName(name: string): string;
export function foldName(name: string | null): string | null;
export function foldName(name: string | null): string | null {
  if (name === null) return null;
  return name
    .toLowerCase()
    .normalize('NFC')
    .replace(/[%_\\]/g, (special) => LIKE_SPECIALS[special] ?? special);
}
