import SchemaBuilder, { BasePlugin, createContextCache, type BuildCache, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { PothosComplexityPlugin, type ComplexityResult, type FieldComplexity, type FieldComplexityValue } from '@pothos/plugin-complexity';
import type { GraphQLResolveInfo, OperationDefinitionNode } from 'graphql';
import { BadQueryInputError } from '../domain/errors.ts';
import { LIMITS } from '../domain/rules/input.ts';
import { checkPageSize, DEFAULT_PAGE_SIZE } from '../domain/pagination.ts';

/**
 * What a query may cost, priced in kibibytes of the largest answer it could
 * produce, so that the limit bounds the size of every response. Fields are
 * priced by their worst case under the input limits (domain/rules/input.ts): a
 * short scalar (a key, a name of 64 characters, a time) at a quarter, a note
 * or reason (1,000 characters) at 4, a JSON document (16 KiB) at 16. Lists
 * multiply what they hold by the page size they ask for. graphql-armor's
 * cost rule cannot serve: it ignores page sizes given as variables.
 */
export const MAX_QUERY_COST = 50_000;

export const PRICE = {
  shortScalar: 0.25,
  longText: Math.ceil((LIMITS.longText * 4) / 1024),
  jsonDocument: Math.ceil(LIMITS.jsonBytes / 1024),
} as const;

/** Per-process prices that depend on configuration. */
export interface Pricing {
  /** A token's scope list: at most 100 of the configured scopes. */
  scopeList: number;
}

export function pricingFor(knownScopes: readonly string[]): Pricing {
  const longest = [...knownScopes].sort((a, b) => b.length - a.length).slice(0, LIMITS.scopesPerToken);
  return { scopeList: Math.max(PRICE.shortScalar, Math.ceil(Buffer.byteLength(JSON.stringify(longest)) / 1024)) };
}

/** Every field without a price of its own: a short scalar or object, multiplied by its page size when it pages. */
export function defaultFieldComplexity(args: Record<string, unknown>): FieldComplexityValue {
  if ('first' in args || 'last' in args) {
    const size = [args.first, args.last].find((value): value is number => typeof value === 'number') ?? DEFAULT_PAGE_SIZE;
    return { field: PRICE.shortScalar, multiplier: Math.max(size, 0) };
  }
  // The multiplier is explicit: the plugin would otherwise multiply every list (edges) by 10.
  return { field: PRICE.shortScalar, multiplier: 1 };
}

export function complexityError(_kind: unknown, result: { complexity: number; maxComplexity?: number }): Error {
  return new BadQueryInputError(
    'QUERY_TOO_COMPLEX',
    `The query could answer up to ${Math.ceil(result.complexity)} KiB, more than the ${result.maxComplexity} KiB allowed: ask for smaller pages or fewer fields`,
  );
}

/**
 * One code for one mistake: a page size over MAX_PAGE_SIZE is PAGE_SIZE_TOO_LARGE
 * whatever else the query asks, never QUERY_TOO_COMPLEX because the rest of the
 * query made it costly too. The cost is priced before anything runs, field by
 * field with its arguments; this plugin makes the price of every field that
 * takes `first` or `last` (every connection, nested ones included) check them
 * first, with the domain's own rule, so the refusal comes before the total is
 * compared with the limit. Listed before ComplexityPlugin in builder.ts, so
 * that it sees the price that plugin set.
 */
class PageSizeLimitPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    if (!('first' in fieldConfig.args) && !('last' in fieldConfig.args)) return fieldConfig;
    const price = fieldConfig.extensions?.complexity as FieldComplexity<Types['Context'], Record<string, unknown>> | undefined;
    const checkedPrice: FieldComplexity<Types['Context'], Record<string, unknown>> = (args, context, field) => {
      for (const name of ['first', 'last'] as const) {
        const size = args[name];
        checkPageSize(name, typeof size === 'number' ? size : null);
      }
      return typeof price === 'function' ? price(args, context, field) : (price ?? {});
    };
    return { ...fieldConfig, extensions: { ...fieldConfig.extensions, complexity: checkedPrice } };
  }
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      pageSizeLimit: PageSizeLimitPlugin<Types>;
    }
  }
}

/** The plugin's name, for builder.ts's plugin list. */
export const pageSizeLimitPlugin = 'pageSizeLimit';
SchemaBuilder.registerPlugin(pageSizeLimitPlugin, PageSizeLimitPlugin);

/**
 * The complexity plugin, but an operation without variables is priced once
 * per document rather than once per request (2–3 % of a verification's CPU):
 * its price depends only on its document and the process's prices (every
 * price function reads its arguments, which are then literals, and
 * context.pricing alone). An operation with variables is priced per request,
 * as before. A document that fails (a page size over the limit) is never
 * kept, so it fails every time.
 */
class DocumentPricedComplexityPlugin<Types extends SchemaTypes> extends PothosComplexityPlugin<Types> {
  constructor(buildCache: BuildCache<Types>, name: keyof PothosSchemaTypes.Plugins<Types>) {
    super(buildCache, name);
    // The plugin's own pricing, once per request.
    const priceOfRequest = this.complexityCache;
    // By the process's prices (tests run servers of different configurations in one process), then by operation.
    const prices = new WeakMap<Pricing, WeakMap<OperationDefinitionNode, ComplexityResult>>();
    this.complexityCache = createContextCache((context: Types['Context'], info: GraphQLResolveInfo): ComplexityResult => {
      if (info.operation.variableDefinitions?.length) return priceOfRequest(context, info);
      const { pricing } = context as { pricing: Pricing };
      let byOperation = prices.get(pricing);
      if (!byOperation) {
        byOperation = new WeakMap();
        prices.set(pricing, byOperation);
      }
      let price = byOperation.get(info.operation);
      if (!price) {
        price = priceOfRequest(context, info);
        byOperation.set(info.operation, price);
      }
      return price;
    });
  }
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      documentPricedComplexity: DocumentPricedComplexityPlugin<Types>;
    }
  }
}

/** In builder.ts's plugin list in place of @pothos/plugin-complexity's own; its options are that plugin's (`complexity`). */
export const documentPricedComplexityPlugin = 'documentPricedComplexity';
SchemaBuilder.registerPlugin(documentPricedComplexityPlugin, DocumentPricedComplexityPlugin);

/**
 * A connection's price: its items times the page size it may answer, the
 * default page when neither first nor last is given (the default pricing sees
 * only the sizes a query names, and a nested page of 100 is not a page of 1).
 */
export const pagePrice = (args: { first?: number | null; last?: number | null }) => ({
  field: PRICE.shortScalar,
  multiplier: Math.max(args.first ?? args.last ?? DEFAULT_PAGE_SIZE, 0),
});
