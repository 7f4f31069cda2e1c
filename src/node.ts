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
