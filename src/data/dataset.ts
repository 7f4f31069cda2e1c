// The CPU-side dataset: raw samples as they come from the source (bytes stay bytes), labels or
// regression targets, and the normalisation the GPU gather kernel applies per batch:
//   x' = (x · scale − mean) / std.
import { shuffledIndices } from './random.js';
import { thrower } from '../gpu/errors.js';

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export type Task = 'classification' | 'regression';

/** Preprocessing applied to every input value: x' = (x · scale − mean) / std (scalars). */
export interface Normalization {
  /** 1/255 for byte images, 1 for floats. */
  scale: number;
  /** Mean of x · scale over the training inputs (the test split reuses the training values). */
  mean: number;
  /** Standard deviation of x · scale over the training inputs (> 0). */
  std: number;
}

export interface RawDataset {
  name: string;
  task: Task;
  /** Number of samples. */
  n: number;
  /** Shape of one sample, e.g. [1, 28, 28] or [10]. */
  inputShape: number[];
  /** Product of inputShape. */
  featureCount: number;
  /** n × featureCount, row-major. Bytes stay Uint8Array (uploaded as bytes, normalised on the GPU). */
  inputs: Uint8Array | Float32Array;
  normalization: Normalization;
  /** Classification: one class index per sample, each < numClasses. Undefined for regression. */
  labels: Uint8Array | undefined;
  /** Classification: number of classes (≤ 256). 0 for regression. */
  numClasses: number;
  /** Regression: n × targetDim, row-major. Undefined for classification. */
  targets: Float32Array | undefined;
  /** Regression: outputs per sample. 0 for classification. */
  targetDim: number;
  /** Optional class names, numClasses of them. */
  classNames?: string[];
}

export interface DatasetSplit {
  train: RawDataset;
  test: RawDataset;
}

export const IDENTITY_NORMALIZATION: Readonly<Normalization> = Object.freeze({ scale: 1, mean: 0, std: 1 });

export function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/**
 * Mean and standard deviation of x · scale over all inputs (float64 accumulation). A constant
 * input gets std 1, so the normalisation never divides by zero.
 */
export function computeNormalization(inputs: Uint8Array | Float32Array, scale = 1): Normalization {
  if (inputs.length === 0) return { scale, mean: 0, std: 1 };
  let sum = 0,
    sumSq = 0;
  if (inputs instanceof Uint8Array) {
    // Histogram: exact and fast for bytes.
    const hist = new Float64Array(256);
    for (let i = 0; i < inputs.length; i++) hist[inputs[i]!]++;
    for (let v = 0; v < 256; v++) {
      const c = hist[v]!;
      if (c) {
        sum += c * v;
        sumSq += c * v * v;
      }
    }
  } else {
    for (let i = 0; i < inputs.length; i++) {
      const v = inputs[i]!;
      sum += v;
      sumSq += v * v;
    }
  }
  const n = inputs.length;
  const mean = sum / n;
  const variance = Math.max(0, sumSq / n - mean * mean);
  const std = Math.sqrt(variance) * Math.abs(scale);
  return { scale, mean: mean * scale, std: std > 1e-12 ? std : 1 };
}

/** Applies the normalisation on the CPU (reference for the GPU gather kernel). */
export function normalizeInputs(ds: Pick<RawDataset, 'inputs' | 'normalization'>, start = 0, end = ds.inputs.length): Float32Array {
  const { scale, mean, std } = ds.normalization;
  const out = new Float32Array(end - start);
  const inv = 1 / std;
  for (let i = start; i < end; i++) out[i - start] = (ds.inputs[i]! * scale - mean) * inv;
  return out;
}

/** Checks every invariant of a RawDataset; throws a DataError naming the first broken one. */
export function validateDataset(ds: RawDataset): void {
  const where = `dataset '${ds?.name}'`;
  const bad = thrower(DataError, `slimgpu.data: ${where}: `);
  if (!ds || typeof ds !== 'object') throw new DataError('slimgpu.data: dataset must be an object');
  if (ds.task !== 'classification' && ds.task !== 'regression') bad(`task must be 'classification' or 'regression', got ${String(ds.task)}`);
  if (!Number.isInteger(ds.n) || ds.n < 0) bad(`n must be a non-negative integer, got ${ds.n}`);
  if (!Array.isArray(ds.inputShape) || ds.inputShape.length === 0 || ds.inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    bad(`inputShape must be a non-empty array of positive integers, got ${JSON.stringify(ds.inputShape)}`);
  }
  if (ds.featureCount !== product(ds.inputShape)) bad(`featureCount ${ds.featureCount} ≠ product of inputShape [${ds.inputShape}]`);
  if (!(ds.inputs instanceof Uint8Array) && !(ds.inputs instanceof Float32Array)) bad('inputs must be a Uint8Array or Float32Array');
  if (ds.inputs.length !== ds.n * ds.featureCount)
    bad(`inputs hold ${ds.inputs.length} values, expected n × featureCount = ${ds.n} × ${ds.featureCount}`);
  const nz = ds.normalization;
  if (!nz || ![nz.scale, nz.mean, nz.std].every(Number.isFinite) || !(nz.std > 0))
    bad(`normalization must have finite scale, mean and std > 0, got ${JSON.stringify(nz)}`);
  if (ds.task === 'classification') {
    if (!Number.isInteger(ds.numClasses) || ds.numClasses < 1 || ds.numClasses > 256)
      bad(`numClasses must be an integer in [1, 256], got ${ds.numClasses}`);
    if (!(ds.labels instanceof Uint8Array)) bad('classification needs labels (Uint8Array)');
    const labels = ds.labels as Uint8Array;
    if (labels.length !== ds.n) bad(`labels hold ${labels.length} values, expected n = ${ds.n}`);
    for (let i = 0; i < labels.length; i++)
      if (labels[i]! >= ds.numClasses) bad(`label ${labels[i]} at sample ${i} is not < numClasses = ${ds.numClasses}`);
    if (ds.classNames !== undefined && ds.classNames.length !== ds.numClasses)
      bad(`classNames has ${ds.classNames.length} names, expected numClasses = ${ds.numClasses}`);
  } else {
    if (!Number.isInteger(ds.targetDim) || ds.targetDim < 1) bad(`targetDim must be a positive integer, got ${ds.targetDim}`);
    if (!(ds.targets instanceof Float32Array)) bad('regression needs targets (Float32Array)');
    if (ds.targets!.length !== ds.n * ds.targetDim)
      bad(`targets hold ${ds.targets!.length} values, expected n × targetDim = ${ds.n} × ${ds.targetDim}`);
  }
}

/** The samples at `indices`, in that order, as a new dataset (same normalisation and shape). */
export function subset(ds: RawDataset, indices: ArrayLike<number>, name = ds.name): RawDataset {
  const f = ds.featureCount,
    t = ds.targetDim,
    m = indices.length;
  const inputs = ds.inputs instanceof Uint8Array ? new Uint8Array(m * f) : new Float32Array(m * f);
  const labels = ds.labels ? new Uint8Array(m) : undefined;
  const targets = ds.targets ? new Float32Array(m * t) : undefined;
  for (let k = 0; k < m; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new DataError(`slimgpu.data: subset index ${i} (position ${k}) is outside [0, ${ds.n})`);
    inputs.set(ds.inputs.subarray(i * f, (i + 1) * f), k * f);
    if (labels) labels[k] = ds.labels![i]!;
    if (targets) targets.set(ds.targets!.subarray(i * t, (i + 1) * t), k * t);
  }
  const out: RawDataset = { ...ds, name, n: m, inputShape: [...ds.inputShape], inputs, labels, targets };
  if (ds.classNames) out.classNames = [...ds.classNames];
  return out;
}

export interface SplitOptions {
  /** Samples in the test split. */
  testSize: number;
  /** Samples in the train split (default: all that remain after the test split). */
  trainSize?: number;
  /** Seed of the shuffle that assigns samples to splits (default 0). */
  seed?: number;
  /**
   * 'train' (default): mean/std recomputed from the train split (same scale) and given to both
   * splits; 'keep': both keep the source's normalisation.
   */
  normalization?: 'train' | 'keep';
}

/**
 * A fixed, seeded train/test split: the samples are shuffled with `shuffledIndices(n, seed)`; the
 * first `testSize` form the test split and the next `trainSize` the train split, so the test split
 * does not change when only trainSize does.
 */
export function splitDataset(ds: RawDataset, opts: SplitOptions): DatasetSplit {
  const testSize = opts.testSize;
  const trainSize = opts.trainSize ?? ds.n - testSize;
  for (const [k, v] of [
    ['testSize', testSize],
    ['trainSize', trainSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new DataError(`slimgpu.data: split ${k} must be a non-negative integer, got ${v}`);
  }
  if (trainSize + testSize > ds.n)
    throw new DataError(`slimgpu.data: split of '${ds.name}' asks for ${trainSize} train + ${testSize} test samples, but it has only ${ds.n}`);
  const perm = shuffledIndices(ds.n, opts.seed ?? 0, 0);
  const test = subset(ds, perm.subarray(0, testSize), `${ds.name}/test`);
  const train = subset(ds, perm.subarray(testSize, testSize + trainSize), `${ds.name}/train`);
  if ((opts.normalization ?? 'train') === 'train' && train.n > 0) {
    const nz = computeNormalization(train.inputs, ds.normalization.scale);
    train.normalization = nz;
    test.normalization = { ...nz };
  }
  return { train, test };
}
