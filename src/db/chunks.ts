/** SQLite allows 32,766 bound parameters and PostgreSQL 65,535; key lists are sent in slices well below both. */
const IN_LIST_CHUNK = 500;

export function chunks<T>(items: readonly T[], size = IN_LIST_CHUNK): T[][] {
  const slices: T[][] = [];
  for (let start = 0; start < items.length; start += size) slices.push(items.slice(start, start + size));
  return slices;
}
