// The original article's example: random linear regression trained with MSE.
//   X (n × features) standard normal, y = X · w_true + noise · ε, ε standard normal,
// w_true (features × outputs) standard normal; all from one seeded stream.
import { DataError, IDENTITY_NORMALIZATION, type DatasetSplit, type RawDataset } from './dataset.js';
import { Rng } from './random.js';

export interface SyntheticOptions {
  /** Train samples (default 1000). */
  n?: number;
  /** Test samples (default 200). */
  testN?: number;
  /** Input features (default 10). */
  features?: number;
  /** Outputs per sample (default 1). */
  outputs?: number;
  /** Standard deviation of the additive noise (default 0.1). */
  noise?: number;
  /** Seed (default 0). */
  seed?: number;
}

export interface SyntheticSplit extends DatasetSplit {
  /** The true weights, features × outputs, row-major. */
  wTrue: Float32Array;
}

function make(rng: Rng, name: string, n: number, features: number, outputs: number, noise: number, w: Float32Array): RawDataset {
  const inputs = new Float32Array(n * features);
  const targets = new Float32Array(n * outputs);
  for (let i = 0; i < inputs.length; i++) inputs[i] = rng.normal();
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outputs; o++) {
      let s = 0;
      for (let k = 0; k < features; k++) s += inputs[r * features + k]! * w[k * outputs + o]!;
      targets[r * outputs + o] = s + noise * rng.normal();
    }
  }
  return {
    name,
    task: 'regression',
    n,
    inputShape: [features],
    featureCount: features,
    inputs,
    normalization: { ...IDENTITY_NORMALIZATION },
    labels: undefined,
    numClasses: 0,
    targets,
    targetDim: outputs,
  };
}

/** The synthetic regression problem: { train (n × features), test (testN × features), wTrue }. */
export function synthetic(opts: SyntheticOptions = {}): SyntheticSplit {
  const { n = 1000, testN = 200, features = 10, outputs = 1, noise = 0.1, seed = 0 } = opts;
  for (const [k, v, min] of [
    ['n', n, 0],
    ['testN', testN, 0],
    ['features', features, 1],
    ['outputs', outputs, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new DataError(`slimgpu.data: synthetic ${k} must be an integer ≥ ${min}, got ${v}`);
  }
  if (!Number.isFinite(noise) || noise < 0) throw new DataError(`slimgpu.data: synthetic noise must be a finite number ≥ 0, got ${noise}`);
  if (!Number.isInteger(seed)) throw new DataError(`slimgpu.data: synthetic seed must be an integer, got ${seed}`);
  const rng = new Rng(seed);
  const wTrue = new Float32Array(features * outputs);
  for (let i = 0; i < wTrue.length; i++) wTrue[i] = rng.normal();
  const train = make(rng, 'synthetic/train', n, features, outputs, noise, wTrue);
  const test = make(rng, 'synthetic/test', testN, features, outputs, noise, wTrue);
  return { train, test, wTrue };
}
