import { performance } from 'node:perf_hooks';
import { Kind, type DocumentNode, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Operation names kept as label values; past them, `other`. */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

type OperationLabels = 'operationName' | 'operationType';
type ErrorPhase = 'parse' | 'validate' | 'context' | 'execute' | 'subscribe';

/** One operation's series, bound once: counting a request costs no label lookup. */
interface OperationSeries {
  labels: Record<OperationLabels, string>;
  requests: Counter.Internal;
  duration: Histogram.Internal<OperationLabels>;
  errors: Partial<Record<ErrorPhase, Counter.Internal>>;
}

/**
 * GraphQL request counts, durations and errors by operation, on the
 * instance's registry: the series yoga's Prometheus plugin kept here
 * (`graphql_envelop_request`, `…_request_duration`, `…_error_result`, under
 * Tessera's names), counted by a plugin of its own because that one, even
 * with its other metrics off, hooks every phase of every request, keeps a
 * WeakMap entry per context, and builds and hashes a label object per
 * observation (4 % of a verification's CPU). Here each operation's series
 * are bound once, and a request costs a lookup and two observations.
 *
 * Operation names are chosen by clients, so the label set is bounded: the
 * first MAX_OPERATION_NAMES distinct names this process executes (only
 * authenticated requests get that far) are kept, any later one is `other`,
 * and a request without a name is `Anonymous`. Like yoga's plugin, the name
 * is the request's operationName or else the document's first definition's,
 * and the type that definition's. It serves no endpoint of its own:
 * /metrics is http/probes.ts's, behind a token.
 */
export function graphqlMetricsPlugin(registry: Registry): Plugin {
  const labelNames: OperationLabels[] = ['operationName', 'operationType'];
  const requests = new Counter({
    name: 'tessera_graphql_requests_total',
    help: 'GraphQL operations executed by this process',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tessera_graphql_request_duration_seconds',
    help: 'Time to execute a GraphQL operation (parsing and validation excluded)',
    labelNames,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'tessera_graphql_errors_total',
    help: 'GraphQL results with errors, by operation and phase',
    labelNames: [...labelNames, 'phase'],
    registers: [registry],
  });

  const kept = new Set<string>();
  const boundedName = (name: string | undefined): string => {
    if (!name) return 'Anonymous';
    if (kept.has(name)) return name;
    if (kept.size >= MAX_OPERATION_NAMES || !OPERATION_NAME.test(name)) return 'other';
    kept.add(name);
    return name;
  };
  const series = new Map<string, OperationSeries>();
  /** Keyed by the bounded name, so the map holds no more entries than the registry holds series. */
  const seriesOf = (name: string | null | undefined, type: string | undefined): OperationSeries => {
    const labels = { operationName: boundedName(name ?? undefined), operationType: type ?? 'unknown' };
    const key = `${labels.operationType}\u0000${labels.operationName}`;
    let found = series.get(key);
    if (!found) {
      found = { labels, requests: requests.labels(labels), duration: duration.labels(labels), errors: {} };
      series.set(key, found);
    }
    return found;
  };
  const countError = (target: OperationSeries, phase: ErrorPhase, count = 1) => {
    target.errors[phase] ??= errors.labels({ ...target.labels, phase });
    target.errors[phase].inc(count);
  };
  /** The series of a document: the request's operationName, else its first definition's name, and that definition's type. */
  const seriesOfDocument = (document: DocumentNode, operationName: string | null | undefined): OperationSeries => {
    const first = document.definitions[0];
    const name = operationName || (first && 'name' in first ? first.name?.value : undefined);
    return seriesOf(name, first?.kind === Kind.OPERATION_DEFINITION ? first.operation : undefined);
  };
  const operationNameOf = (context: unknown): string | undefined => (context as { params?: { operationName?: string } }).params?.operationName;
  // A document that does not parse has neither name nor type.
  const unparsed = seriesOf(undefined, undefined);
  const afterParse = ({ result }: { result: unknown }) => {
    if (result instanceof Error) countError(unparsed, 'parse');
  };
  const finished = (target: OperationSeries, startedAt: number, result: ExecutionResult) => {
    target.requests.inc();
    target.duration.observe((performance.now() - startedAt) / 1000);
    if (result.errors?.length) countError(target, 'execute', result.errors.length);
  };

  return {
    onPluginInit({ registerContextErrorHandler }) {
      // The document is not at hand where a context fails; its operation name is.
      registerContextErrorHandler(({ context }) => countError(seriesOf(operationNameOf(context), undefined), 'context'));
    },
    onParse: () => afterParse,
    onValidate:
      ({ params, context }) =>
      ({ valid }) => {
        if (!valid) countError(seriesOfDocument(params.documentAST, operationNameOf(context)), 'validate');
      },
    onExecute({ args }) {
      const target = seriesOfDocument(args.document, args.operationName);
      const startedAt = performance.now();
      return {
        onExecuteDone({ result }) {
          if (!isAsyncIterable(result)) return finished(target, startedAt, result);
          // An incremental result: its errors as each part comes, its count and duration at its end.
          return {
            onNext: ({ result: part }) => {
              if (part.errors?.length) countError(target, 'execute', part.errors.length);
            },
            onEnd: () => {
              target.requests.inc();
              target.duration.observe((performance.now() - startedAt) / 1000);
            },
          };
        },
      };
    },
    onSubscribe({ args }) {
      const target = seriesOfDocument(args.document, args.operationName);
      const startedAt = performance.now();
      return {
        onSubscribeError: () => countError(target, 'subscribe'),
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) return finished(target, startedAt, result);
          return {
            onNext: ({ result: event }) => {
              if (event.errors?.length) countError(target, 'execute', event.errors.length);
            },
            onEnd: () => {
              target.requests.inc();
              target.duration.observe((performance.now() - startedAt) / 1000);
            },
          };
        },
      };
    },
  };
}
