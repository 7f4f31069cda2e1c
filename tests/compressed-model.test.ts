// CompressedModel: inference from the compressed file (weights stay sparse + codebook on the GPU)
// against the dense model that loadCompressed builds from the same file, on LeNet-300-100 and
// LeNet-5 in every layout; wrong input shapes and inconsistent files are refused.
import { describe, expect, it } from 'vitest';
import { CompressedModel, evaluate, loadCompressed, normalizeInputs, serializeCompressed, type RawDataset } from '../src/index.js';
import { ArgumentError } from '../src/kernels/args.js';
import { CompressedModelError, parseSafetensors, serializeSafetensors } from '../src/io/index.js';
import { modelFromName, type ModelSpec } from '../src/nn/model.js';
import { prunedShared } from './compressed-fixtures.js';
import { expectClose, rng, testGpu } from './helpers.js';

function images(n: number, shape: number[], seed: number): RawDataset {
  const r = rng(seed);
  const D = shape.reduce((a, b) => a * b, 1);
  return {
    name: 'random-images',
    task: 'classification',
    n,
    inputShape: shape,
    featureCount: D,
    inputs: Uint8Array.from({ length: n * D }, () => (r() < 0.7 ? 0 : Math.floor(r() * 256))),
    normalization: { scale: 1 / 255, mean: 0.13, std: 0.31 },
    labels: Uint8Array.from({ length: n }, () => Math.floor(r() * 10)),
    numClasses: 10,
    targets: undefined,
    targetDim: 0,
  };
}

const argmax = (y: Float32Array, C: number) =>
  Array.from({ length: y.length / C }, (_, i) => {
    let b = 0;
    for (let c = 1; c < C; c++) if (y[i * C + c]! > y[i * C + b]!) b = c;
    return b;
  });

async function agree(spec: ModelSpec, shape: number[], sparsity: number, bits: number, unshared?: string): Promise<void> {
  const gpu = await testGpu();
  const inp = prunedShared(spec, sparsity, bits, 4);
  if (unshared) delete inp.sharing!.layers[unshared]; // f32 kept values
  for (const [k, v] of inp.values)
    if (!inp.masks!.has(k))
      v.forEach((_, i) => {
        v[i] = (i % 7) * 0.01;
      }); // non-zero biases
  const bytes = serializeCompressed(inp);
  const ds = images(37, shape, 11);
  const net = await loadCompressed(gpu, bytes);
  const dense = (await evaluate(net, ds, { batch: 16, predictions: true })).predictions!;
  net.dispose();
  const x = normalizeInputs(ds);
  for (const [format, transposedBatch, conv] of [
    ['auto', undefined, 'direct'],
    ['csr', 16, 'im2col'],
    ['bitmask', undefined, 'direct'],
    ['dense', undefined, undefined],
  ] as const) {
    const m = await CompressedModel.load(gpu, bytes, { format, transposedBatch, conv });
    try {
      expect(m.outputShape).toEqual([10]);
      if (format !== 'dense') expect(m.weightBytes * 4).toBeLessThan(m.denseBytes);
      const y = await m.predict(x);
      expectClose(y, dense, { atol: 2e-4, rtol: 1e-3 }, `${spec.name} ${format} transposed from ${transposedBatch}, conv ${conv}`);
      expect(argmax(y, 10)).toEqual(argmax(dense, 10));
      // batch 1 and a batch of 3 give the same rows (plans per batch size)
      expectClose(await m.predict(x.subarray(0, x.length / 37)), dense.subarray(0, 10), { atol: 2e-4, rtol: 1e-3 }, 'B=1');
      expectClose(await m.predict(x.subarray(0, (3 * x.length) / 37)), dense.subarray(0, 30), { atol: 2e-4, rtol: 1e-3 }, 'B=3');
    } finally {
      m.dispose();
    }
  }
}

describe('CompressedModel', () => {
  it('LeNet-300-100 (92% sparse, 5-bit; dense2 unshared f32): outputs within float tolerance of the dense model, identical predictions, in csr / dense / auto layouts', async () => {
    await agree(modelFromName('lenet-300-100', { input: [784], numClasses: 10 }), [784], 0.92, 5, 'dense2');
  });

  it('LeNet-5 (conv direct from offsets, or lowered to im2col + spmm; 80% sparse, 4-bit): same', async () => {
    await agree(modelFromName('lenet-5', { input: [1, 28, 28], numClasses: 10 }), [1, 28, 28], 0.8, 4);
  });

  it('refuses a wrong input shape (naming the expected one) and an inconsistent file before any GPU buffer', async () => {
    const gpu = await testGpu();
    const bytes = serializeCompressed(prunedShared(modelFromName('lenet-300-100', { input: [784], numClasses: 10 }), 0.9, 4, 2));
    const m = await CompressedModel.load(gpu, bytes);
    await expect(m.predict(new Float32Array(783))).rejects.toThrow(ArgumentError);
    await expect(m.predict(new Float32Array(785))).rejects.toThrow(/input must have shape \[B, 784\] \(B·784 values, B ≥ 1\), got 785 values/);
    await expect(m.predict([])).rejects.toThrow(/shape \[B, 784\]/);
    m.dispose();
    const { tensors, metadata } = parseSafetensors(bytes);
    const data = (tensors.data!.data as Uint8Array).slice();
    tensors.data = { dtype: 'U8', shape: [data.length], data };
    const before = gpu.memory.createdBuffers;
    // a codebook index beyond the codebook (packed values): rewrite as packed v2 with a bad codebook size
    const bad = serializeSafetensors(tensors, { ...metadata, params: metadata.params!.replace(/ 4h(\d+):/, ' 4h3:') });
    await expect(CompressedModel.load(gpu, bad)).rejects.toThrow(CompressedModelError);
    new DataView(data.buffer, data.byteOffset).setFloat32(data.length - 4, NaN, true); // the last bias
    await expect(CompressedModel.load(gpu, serializeSafetensors(tensors, metadata))).rejects.toThrow(/dense3\.bias': value 9 is not finite/);
    expect(gpu.memory.createdBuffers).toBe(before);
  });
});
