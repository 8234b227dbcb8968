import type { MaintenanceReport } from './domain/token-service.ts';
import type { Logger } from './logger.ts';

/**
 * Runs the maintenance (expiry records, history retention) once at start and
 * then every `intervalSeconds`, never two runs at once in this process
 * (several processes may run it at once: the domain keeps that safe).
 * Returns a stop function that waits for a run in progress.
 */
export function startSweeper(
  run: () => Promise<MaintenanceReport>,
  intervalSeconds: number,
  logger: Logger,
  /** Told each run's duration, in seconds, whether it succeeded or failed (tessera_sweep_duration_seconds). */
  onDuration?: (seconds: number) => void,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    const started = performance.now();
    running = run()
      .finally(() => onDuration?.((performance.now() - started) / 1000))
      .then((report) => {
        if (report.expired > 0 || report.pruned > 0) logger.info(report, 'maintenance recorded expiries and pruned history');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'maintenance failed'))
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(tick, 0);
  const timer = setInterval(tick, intervalSeconds * 1000);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
