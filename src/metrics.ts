import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Tessera's Prometheus metrics, served at GET /metrics (http/probes.ts).
 * Every counter counts what THIS process did (the Prometheus convention:
 * a query sums over the processes it scrapes), and each Tessera instance has
 * a registry of its own, never prom-client's global one, so that several
 * servers in one process (tests) do not collide.
 */

/** Outcomes of the authentication step every request takes (http/authenticate-request.ts). */
export const AUTHENTICATION_OUTCOMES = ['ok', 'missing', 'malformed', 'unknown', 'invalid', 'expired', 'limited'] as const;
export type AuthenticationOutcome = (typeof AUTHENTICATION_OUTCOMES)[number];

/**
 * Webhook deliveries by outcome, counted by the delivery worker (notifications/).
 * Module-wide, so that the worker can import it: it joins every instance's
 * registry, and its counts are the process's (summed over the instances a
 * test process may run).
 */
export const webhookDeliveries = new Counter({
  name: 'tessera_webhook_deliveries_total',
  help: 'Webhook delivery attempts made by this process, by outcome',
  labelNames: ['outcome'] as const,
  registers: [],
});

export interface TesseraMetrics {
  registry: Registry;
  authentications: Counter<'outcome'>;
  /** History entries this process committed, by action (create, revoke, expire, edit). */
  tokenChanges: Counter<'action'>;
  sweepDuration: Histogram;
}

export interface MetricsOptions {
  /** Open subscription streams of this instance, read at each scrape. */
  openStreams: () => number;
}

export function createMetrics(options: MetricsOptions): TesseraMetrics {
  const registry = new Registry();
  // Node's process metrics (CPU, memory, event loop lag, GC), under their usual names.
  collectDefaultMetrics({ register: registry });
  registry.registerMetric(webhookDeliveries);
  const authentications = new Counter({
    name: 'tessera_authentications_total',
    help: 'Credentials checked by this process, by outcome (limited: refused with 429 by the failed-credential limit)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Every outcome is exported from the start, at 0, so that a rate over it exists before the first failure.
  for (const outcome of AUTHENTICATION_OUTCOMES) authentications.labels(outcome);
  const tokenChanges = new Counter({
    name: 'tessera_token_changes_total',
    help: 'Token change history entries committed by this process, by action',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  for (const action of ['create', 'revoke', 'expire', 'edit']) tokenChanges.labels(action);
  new Gauge({
    name: 'tessera_feed_streams',
    help: 'Open tokenChanges subscription streams in this process',
    registers: [registry],
    collect() {
      this.set(options.openStreams());
    },
  });
  const sweepDuration = new Histogram({
    name: 'tessera_sweep_duration_seconds',
    help: 'Duration of the maintenance sweep (expiry records, history retention) run by this process',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return { registry, authentications, tokenChanges, sweepDuration };
}
