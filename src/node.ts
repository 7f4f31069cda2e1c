// slimgpu for Node: everything in the browser API plus whole runs (files, checkpoints, reports).
export * from './index.js';
export {
  runTraining,
  loadData,
  readCheckpoint,
  writeCheckpoint,
  buildReport,
  compressNetwork,
  fileBytesOf,
  specFor,
  DATA_SOURCES,
  RunError,
} from './run/run.js';
export type { RunConfig, RunHooks } from './run/run.js';

// Primed model states come from an on-disk cache in Node (docs/pretrained.md, "The fixed cost";
// SLIMGPU_CACHE_DIR=off turns it off; setPrimedStore(null) removes it for this process).
import { installPrimeCache } from './codec/v5/prime-cache.js';
export { installPrimeCache, diskPrimedStore, primeCacheDir } from './codec/v5/prime-cache.js';
export { setPrimedStore } from './codec/v5/prime.js';
installPrimeCache();
