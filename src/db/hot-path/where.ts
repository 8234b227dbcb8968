import type { Column } from './columns.ts';

/**
 * A Prisma `where` as SQL, for the reads the hot path runs in Prisma's stead.
 * The domain keeps building its conditions for Prisma (history/filter.ts,
 * pagination.ts); this renders that same object, so that the filter is still
 * written once. Only the forms those builders use are rendered: equality,
 * null, gt/gte/lt/lte, `in`, `not: null`, AND and OR. Anything else throws,
 * so that a builder that grows a new form fails loudly here instead of
 * matching something else than Prisma would.
 */

export interface SqlDialect {
  /** The placeholder of the parameter at `index` (1-based) for this column: `?`, or `$3::timestamp(3)`. */
  placeholder(column: Column<string>, index: number): string;
  /** A value as the driver takes it for this column. */
  parameter(column: Column<string>, value: unknown): unknown;
}

export interface SqlCondition {
  text: string;
  values: unknown[];
}

const COMPARISONS: Readonly<Record<string, string>> = { equals: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

const isScalar = (value: unknown): boolean => value === null || value instanceof Date || typeof value !== 'object';

export function sqlWhere(where: Record<string, unknown>, columns: readonly Column<string>[], dialect: SqlDialect): SqlCondition {
  const byField = new Map(columns.map((column) => [column.field, column]));
  const values: unknown[] = [];
  const bind = (column: Column<string>, value: unknown) => {
    values.push(dialect.parameter(column, value));
    return dialect.placeholder(column, values.length);
  };

  const compare = (column: Column<string>, condition: unknown): string[] => {
    const name = `"${column.column}"`;
    if (condition === undefined) return [];
    if (condition === null) return [`${name} IS NULL`];
    if (isScalar(condition)) return [`${name} = ${bind(column, condition)}`];
    const parts: string[] = [];
    for (const [operator, operand] of Object.entries(condition as Record<string, unknown>)) {
      if (operand === undefined) continue;
      const comparison = COMPARISONS[operator];
      if (comparison && operand !== null && isScalar(operand)) parts.push(`${name} ${comparison} ${bind(column, operand)}`);
      else if (operator === 'equals' && operand === null) parts.push(`${name} IS NULL`);
      else if (operator === 'not' && operand === null) parts.push(`${name} IS NOT NULL`);
      else if (operator === 'in' && Array.isArray(operand))
        parts.push(operand.length === 0 ? '1 = 0' : `${name} IN (${operand.map((item) => bind(column, item)).join(', ')})`);
      else throw new Error(`the hot path does not render the condition ${operator} on ${column.field}`);
    }
    return parts;
  };

  const render = (node: Record<string, unknown>): string => {
    const parts: string[] = [];
    for (const [key, condition] of Object.entries(node)) {
      if (condition === undefined) continue;
      if (key === 'AND') {
        for (const branch of Array.isArray(condition) ? condition : [condition]) {
          const text = render(branch as Record<string, unknown>);
          if (text !== '1 = 1') parts.push(text);
        }
      } else if (key === 'OR') {
        if (!Array.isArray(condition)) throw new Error('OR must be a list');
        parts.push(condition.length === 0 ? '1 = 0' : `(${condition.map((branch) => render(branch as Record<string, unknown>)).join(' OR ')})`);
      } else {
        const column = byField.get(key);
        if (!column) throw new Error(`the hot path does not render conditions on ${key}`);
        parts.push(...compare(column, condition));
      }
    }
    return parts.length === 0 ? '1 = 1' : parts.length === 1 ? (parts[0] as string) : `(${parts.join(' AND ')})`;
  };

  return { text: render(where), values };
}

/** A Prisma `orderBy` of plain directions as SQL. */
export function sqlOrderBy(orderBy: readonly Record<string, unknown>[], columns: readonly Column<string>[]): string {
  const byField = new Map(columns.map((column) => [column.field, column]));
  return orderBy
    .flatMap((entry) => Object.entries(entry))
    .map(([field, direction]) => {
      const column = byField.get(field);
      if (!column || (direction !== 'asc' && direction !== 'desc'))
        throw new Error(`the hot path does not render the order ${field}: ${JSON.stringify(direction)}`);
      return `"${column.column}" ${direction.toUpperCase()}`;
    })
    .join(', ');
}
