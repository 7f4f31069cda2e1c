import { describe, expect, it } from 'vitest';
import { createTensor, ops, run, type Tensor } from '../src/index.js';
import { LOSS_STATS, createStats, mse, softmaxCrossEntropy, zeroStats } from '../src/kernels/loss.js';
import { mseCpu, mseLossCpu, softmaxCrossEntropyCpu, softmaxCrossEntropyLossCpu } from '../src/reference/loss.js';
import { expectClose, randn, rng, testGpu } from './helpers.js';

function labelsFor(B: number, C: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: B }, () => Math.floor(r() * C));
}

/** Central finite differences of f at every element of x (float64). */
function fdGrad(x: Float32Array, f: (x: Float64Array) => number, h: number): Float64Array {
  const xd = Float64Array.from(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = xd[i]!;
    xd[i] = v + h;
    const fp = f(xd);
    xd[i] = v - h;
    const fm = f(xd);
    xd[i] = v;
    out[i] = (fp - fm) / (2 * h);
  }
  return out;
}

describe('softmax cross-entropy (fused forward + backward)', () => {
  it('matches the CPU reference on awkward shapes', async () => {
    const gpu = await testGpu();
    for (const [B, C] of [
      [1, 1],
      [1, 10],
      [7, 3],
      [128, 10],
      [257, 13],
      [3001, 10],
      [5, 1000],
    ] as [number, number][]) {
      const x = randn(B * C, B * 31 + C, 3),
        y = labelsFor(B, C, B + C);
      const tx = createTensor(gpu, [B, C], x),
        ty = createTensor(gpu, [B], y, { dtype: 'u32' });
      const { dlogits, loss, accuracy, invalidLabels } = await ops.softmaxCrossEntropy(tx, ty);
      const ref = softmaxCrossEntropyCpu(x, y, B, C);
      expect(dlogits.shape).toEqual([B, C]);
      expectClose(await dlogits.read(), ref.dlogits, { atol: 1e-6 / B + 1e-7, rtol: 1e-4 }, `dlogits ${B}x${C}`);
      expect(loss).toBeCloseTo(ref.lossSum / B, 4);
      expect(accuracy).toBe(ref.correct / B);
      expect(invalidLabels).toBe(0);
      tx.dispose();
      ty.dispose();
      dlogits.dispose();
    }
  });

  it('accumulates stats over calls (sum, correct, rows) and zeroStats resets every entry', async () => {
    const gpu = await testGpu();
    const [B, C] = [100, 10];
    const stats = createTensor(gpu, [8], [1, 2, 3, 4, 5, 6, 7, 8], { label: 'stats8' });
    const dl = createTensor(gpu, [B, C]);
    const zero = await zeroStats(gpu, stats);
    await run(gpu, zero);
    expect(Array.from(await stats.read())).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    let lossSum = 0,
      correct = 0;
    const dispatches = [];
    for (let s = 0; s < 3; s++) {
      const x = randn(B * C, 100 + s, 2),
        y = labelsFor(B, C, 200 + s);
      const ref = softmaxCrossEntropyCpu(x, y, B, C);
      lossSum += ref.lossSum;
      correct += ref.correct;
      const tx = createTensor(gpu, [B, C], x),
        ty = createTensor(gpu, [B], y, { dtype: 'u32' });
      dispatches.push(...(await softmaxCrossEntropy(gpu, tx, ty, dl, stats)));
    }
    // all steps in one submission, no readback in between
    await run(gpu, dispatches);
    const s = await stats.read();
    expect(s[LOSS_STATS.lossSum]).toBeCloseTo(lossSum, 2);
    expect(s[LOSS_STATS.correct]).toBe(correct);
    expect(s[LOSS_STATS.count]).toBe(3 * B);
    expect(s[LOSS_STATS.invalidLabels]).toBe(0);
    expect(Array.from(s.subarray(4))).toEqual([0, 0, 0, 0]);
    await run(gpu, await zeroStats(gpu, stats));
    expect(Array.from(await stats.read())).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('is numerically stable for huge logits and breaks argmax ties at the first maximum', async () => {
    const gpu = await testGpu();
    const [B, C] = [4, 3];
    const x = Float32Array.from([
      1e4,
      -1e4,
      0, // label 0: loss ≈ 0
      -1e4,
      1e4,
      5e3, // label 2: loss = 5e3
      2,
      2,
      1, // tie: argmax 0; label 1 → wrong
      2,
      2,
      1, // tie: argmax 0; label 0 → correct
    ]);
    const y = Uint32Array.from([0, 2, 1, 0]);
    const { dlogits, loss, accuracy } = await ops.softmaxCrossEntropy(createTensor(gpu, [B, C], x), createTensor(gpu, [B], y, { dtype: 'u32' }));
    const ref = softmaxCrossEntropyCpu(x, y, B, C);
    const d = await dlogits.read();
    expect(d.every(Number.isFinite)).toBe(true);
    expectClose(d, ref.dlogits, { atol: 1e-6, rtol: 1e-4 });
    expect(loss).toBeCloseTo(ref.lossSum / B, 2);
    expect(ref.lossSum).toBeGreaterThan(5e3);
    expect(accuracy).toBe(0.5); // rows 0 and 3
  });

  it('labels ≥ C do not crash: loss 0, zero gradient row, counted wrong and as invalid', async () => {
    const gpu = await testGpu();
    const [B, C] = [6, 4];
    const x = randn(B * C, 5);
    const y = Uint32Array.from([0, 4, 3, 0xffffffff, 1000, 2]);
    const stats = createStats(gpu);
    const dl = createTensor(gpu, [B, C]);
    await run(gpu, await softmaxCrossEntropy(gpu, createTensor(gpu, [B, C], x), createTensor(gpu, [B], y, { dtype: 'u32' }), dl, stats));
    const ref = softmaxCrossEntropyCpu(x, y, B, C);
    const d = await dl.read();
    expectClose(d, ref.dlogits, { atol: 1e-6, rtol: 1e-4 });
    for (const r of [1, 3, 4]) expect(Array.from(d.subarray(r * C, (r + 1) * C))).toEqual([0, 0, 0, 0]);
    const s = await stats.read();
    expect(s[0]).toBeCloseTo(ref.lossSum, 4);
    expect(s[1]).toBe(ref.correct);
    expect(s[2]).toBe(B);
    expect(s[3]).toBe(3);
    // i32 labels: negatives read as huge u32, so they are invalid too
    const r2 = await ops.softmaxCrossEntropy(createTensor(gpu, [B, C], x), createTensor(gpu, [B], [0, -1, 3, 2, -5, 2], { dtype: 'i32' }));
    expect(r2.invalidLabels).toBe(2);
  });

  it('finite differences: dlogits is the gradient of the mean loss', async () => {
    const gpu = await testGpu();
    const [B, C] = [5, 7];
    const x = randn(B * C, 77, 2),
      y = labelsFor(B, C, 78);
    const { dlogits } = await ops.softmaxCrossEntropy(createTensor(gpu, [B, C], x), createTensor(gpu, [B], y, { dtype: 'u32' }));
    const fd = fdGrad(x, (xd) => softmaxCrossEntropyLossCpu(xd, y, B, C), 1e-5);
    expectClose(await dlogits.read(), fd, { atol: 1e-6, rtol: 1e-4 }, 'dlogits vs FD');
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const x = createTensor(gpu, [4, 3]);
    await expect(ops.softmaxCrossEntropy(x, createTensor(gpu, [5], undefined, { dtype: 'u32' }))).rejects.toThrow(
      /labels must have shape \[4\], got \[5\]/,
    );
    await expect(ops.softmaxCrossEntropy(x, createTensor(gpu, [4]))).rejects.toThrow(/labels must have dtype u32 \(or i32\), got f32/);
    await expect(ops.softmaxCrossEntropy(createTensor(gpu, [12]), createTensor(gpu, [4], undefined, { dtype: 'u32' }))).rejects.toThrow(
      /logits must be 2-D \(B, C\)/,
    );
    const labels = createTensor(gpu, [4], undefined, { dtype: 'u32' });
    await expect(softmaxCrossEntropy(gpu, x, labels, createTensor(gpu, [4, 3]), createTensor(gpu, [3]))).rejects.toThrow(
      /stats must have at least 4 entries/,
    );
    await expect(softmaxCrossEntropy(gpu, x, labels, createTensor(gpu, [3, 4]), createStats(gpu))).rejects.toThrow(
      /dlogits must have shape \[4,3\], got \[3,4\]/,
    );
    await expect(softmaxCrossEntropy(gpu, x, labels, x, createStats(gpu))).rejects.toThrow(/logits and dlogits must be in different GPU buffers/);
    await expect(zeroStats(gpu, createTensor(gpu, [4], undefined, { dtype: 'u32' }))).rejects.toThrow(/stats must have dtype f32/);
  });
});

describe('mean squared error (fused forward + backward)', () => {
  it('matches the CPU reference, including 128×784 and more elements than the partial sums cover in one pass', async () => {
    const gpu = await testGpu();
    for (const shape of [
      [1, 1],
      [3, 7],
      [1, 100003],
      [4099, 1],
      [128, 784],
      [2, 3, 5, 7],
      [2048, 2053],
    ]) {
      const n = shape.reduce((a, b) => a * b, 1),
        B = shape[0]!,
        D = n / B;
      const p = randn(n, n + 1),
        t = randn(n, n + 2);
      const { dpred, loss } = await ops.mse(createTensor(gpu, shape, p), createTensor(gpu, shape, t));
      const ref = mseCpu(p, t, B, D);
      expect(dpred.shape).toEqual(shape);
      expectClose(await dpred.read(), ref.dpred, { atol: 1e-7, rtol: 1e-5 }, `dpred [${shape}]`);
      expect(Math.abs(loss - ref.lossSum / B)).toBeLessThan(1e-4 * (ref.lossSum / B) + 1e-6);
      dpred.dispose();
    }
  });

  it('accumulates Σ per-sample MSE and B into stats, sharing a buffer with cross-entropy', async () => {
    const gpu = await testGpu();
    const stats = createStats(gpu);
    const [B, D] = [128, 784];
    const p = randn(B * D, 1),
      t = randn(B * D, 2);
    const tp = createTensor(gpu, [B, D], p),
      tt = createTensor(gpu, [B, D], t),
      dp = createTensor(gpu, [B, D]);
    const rec = await mse(gpu, tp, tt, dp, stats);
    expect(rec.length).toBe(2);
    await run(gpu, [...rec, ...(await mse(gpu, tp, tt, dp, stats))]);
    const s = await stats.read();
    const ref = mseCpu(p, t, B, D);
    expect(Math.abs(s[0]! - 2 * ref.lossSum)).toBeLessThan(1e-4 * 2 * ref.lossSum);
    expect(s[1]).toBe(0);
    expect(s[2]).toBe(2 * B);
    expect(s[3]).toBe(0);
  });

  it('finite differences: dpred is the gradient of the mean loss', async () => {
    const gpu = await testGpu();
    const [B, D] = [3, 5];
    const p = randn(B * D, 9),
      t = randn(B * D, 10);
    const { dpred } = await ops.mse(createTensor(gpu, [B, D], p), createTensor(gpu, [B, D], t));
    const fd = fdGrad(p, (pd) => mseLossCpu(pd, t, B, D), 1e-5);
    expectClose(await dpred.read(), fd, { atol: 1e-6, rtol: 1e-4 }, 'dpred vs FD');
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const p: Tensor = createTensor(gpu, [4, 3]);
    await expect(ops.mse(p, createTensor(gpu, [3, 4]))).rejects.toThrow(/target must have shape \[4,3\], got \[3,4\]/);
    await expect(ops.mse(p, createTensor(gpu, [4, 3], undefined, { dtype: 'u32' }))).rejects.toThrow(/target must have dtype f32/);
    await expect(mse(gpu, p, createTensor(gpu, [4, 3]), createTensor(gpu, [12]), createStats(gpu))).rejects.toThrow(
      /dpred must have shape \[4,3\], got \[12\]/,
    );
    await expect(mse(gpu, p, createTensor(gpu, [4, 3]), p, createStats(gpu))).rejects.toThrow(/pred and dpred must be in different GPU buffers/);
  });
});
