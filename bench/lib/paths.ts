import { fileURLToPath } from 'node:url';

/** The project's root (where package.json and bin/tessera.js are), and the bench folder's parts. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PEER_DIR = fileURLToPath(new URL('../peer/', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
export const TESSERA_BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));
export const YOGA_BASELINE = fileURLToPath(new URL('../yoga-baseline.mjs', import.meta.url));
/** The peer comparison's originals (side-by-side.sh and its peer), when this machine has them. */
export const SHARED_PEERS = process.env.BENCH_SHARED_PEERS ?? fileURLToPath(new URL('../../../shared/peers/', import.meta.url));
