/**
 * Loads Prisma's schema engine compiled to WebAssembly
 * (`@prisma/schema-engine-wasm`, pinned to the engine of the installed
 * `prisma`), once per process, and keeps what the engine leaves behind in
 * check: its timers and the message of its last panic.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Bindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

let bindingsPromise: Promise<Bindings> | undefined;
/** Timers the engine started and that have not fired yet. */
const pendingTimers = new Set<NodeJS.Timeout>();
/** Engines created and not yet freed: timers are only cleared when none is left. */
let liveEngines = 0;
/** The message of the engine's last Rust panic, set through the global registry below. */
let lastPanicMessage: string | undefined;

/** The WebAssembly global, which this project's type libraries (ES2023, Node) do not declare. */
const webAssembly = (
  globalThis as unknown as {
    WebAssembly: {
      instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: Record<string, unknown> } }>;
    };
  }
).WebAssembly;

/** The engine's bindings, instantiated on first use; a failed load is retried on the next call. */
export function loadBindings(): Promise<Bindings> {
  bindingsPromise ??= instantiate().catch((error: unknown) => {
    bindingsPromise = undefined;
    throw error;
  });
  return bindingsPromise;
}

async function instantiate(): Promise<Bindings> {
  // The package's main entry imports the .wasm file as an ES module, which
  // Node 20 only does behind --experimental-wasm-modules; the glue module
  // (`schema_engine_bg`) plus bytes we instantiate ourselves need no flag.
  const bg: Bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const gluePath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bytes = await readFile(join(dirname(gluePath), 'schema_engine_bg.wasm'));

  // The glue reports Rust panics to this global (the Prisma client defines it
  // too for its own WebAssembly; keep theirs if present).
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } };
  g.PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message(message: string) {
      lastPanicMessage = message;
    },
  };

  const { instance } = await webAssembly.instantiate(bytes, { './schema_engine_bg.js': unrefEngineTimers(bg) });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bg;
}

/**
 * Workaround for @prisma/schema-engine-wasm 7.10.0-4.0edf323efd1d98336f3f0a68684b56f689b900d3:
 * the engine arms timeouts (about 10 s) that stay pending after its work is
 * done and would keep a one-shot process (`tessera migrate`,
 * scripts/migration-create.ts) alive. Its `setTimeout` imports are replaced
 * by ones that unref the timer and remember it, so that engineStopped can
 * clear it.
 *
 * No longer needed when a one-shot process exits at once without it (the
 * unit test "let a one-shot process exit at once" measures exactly that).
 */
function unrefEngineTimers(bg: Bindings): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...bg };
  for (const name of Object.keys(bg)) {
    if (name.startsWith('__wbg_setTimeout_')) {
      imports[name] = (callback: () => void, ms: number) => {
        const timer: NodeJS.Timeout = setTimeout(() => {
          pendingTimers.delete(timer);
          callback();
        }, ms >>> 0);
        timer.unref();
        pendingTimers.add(timer);
        return timer;
      };
    }
  }
  return imports;
}

/** Call before creating an engine; it forgets the previous engine's panic. */
export function engineStarting(): void {
  liveEngines++;
  lastPanicMessage = undefined;
}

/** Call once an engine is freed: the last one out clears the timers the engines left. */
export function engineStopped(): void {
  liveEngines--;
  if (liveEngines > 0) return;
  for (const timer of pendingTimers) clearTimeout(timer);
  pendingTimers.clear();
}

/** The message of the engine's last panic, if it panicked since the last engineStarting. */
export function lastEnginePanic(): string | undefined {
  return lastPanicMessage;
}
