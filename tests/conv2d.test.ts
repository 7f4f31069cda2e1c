import { describe, expect, it } from 'vitest';
import { createTensor, ops, run, type Gpu } from '../src/index.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter, conv2dBiasGrad, type Conv2dPair } from '../src/kernels/conv2d.js';
import {
  conv2dBackwardDataCpu,
  conv2dBackwardFilterCpu,
  conv2dBiasGradCpu,
  conv2dCpu,
  conv2dCpuF64,
  convOutSize,
  type ConvShape4,
} from '../src/reference/conv2d.js';
import { expectClose, testGpu, uniform } from './helpers.js';

interface Case {
  x: ConvShape4;
  w: ConvShape4;
  stride?: Conv2dPair;
  padding?: Conv2dPair;
}

const pairOf = (v: Conv2dPair | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);
function outShape(c: Case): ConvShape4 {
  const [SH, SW] = pairOf(c.stride, 1),
    [PH, PW] = pairOf(c.padding, 0);
  return [c.x[0], c.w[0], convOutSize(c.x[2], c.w[2], SH, PH), convOutSize(c.x[3], c.w[3], SW, PW)];
}
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const name = (c: Case) => `x[${c.x}] w[${c.w}] s${JSON.stringify(c.stride ?? 1)} p${JSON.stringify(c.padding ?? 0)}`;

const AWKWARD: Case[] = [
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1] },
  { x: [1, 1, 13, 11], w: [1, 1, 3, 3], padding: 1 },
  { x: [2, 3, 13, 11], w: [5, 3, 3, 3], stride: 2, padding: 1 },
  { x: [1, 2, 13, 11], w: [7, 2, 5, 5], padding: 2 },
  { x: [3, 5, 11, 13], w: [6, 5, 5, 5], stride: 2, padding: 2 },
  { x: [2, 3, 13, 11], w: [4, 3, 3, 5], stride: [1, 2], padding: [2, 1] },
  { x: [1, 1, 5, 5], w: [3, 1, 5, 5] },
  { x: [2, 3, 4, 4], w: [2, 3, 3, 3], padding: 3 },
  { x: [1, 9, 7, 9], w: [9, 9, 1, 1] },
  { x: [2, 2, 17, 7], w: [3, 2, 3, 2], stride: 3, padding: [0, 1] },
  { x: [1, 6, 3, 3], w: [5, 6, 3, 3], stride: 2, padding: 1 },
];

// tolerance for sums of `terms` products of values in [-1, 1]
const tol = (terms: number) => ({ atol: 2e-6 * Math.sqrt(terms) * 4 + 1e-6, rtol: 1e-4 });

async function checkCase(gpu: Gpu, c: Case, seed: number, epilogue: boolean): Promise<void> {
  const ys = outShape(c);
  const [N, C, H, W] = c.x;
  const [OC, , KH, KW] = c.w;
  const x = uniform(numel(c.x), seed),
    w = uniform(numel(c.w), seed + 1),
    b = uniform(OC, seed + 2),
    g = uniform(numel(ys), seed + 3);
  const tx = createTensor(gpu, c.x, x),
    tw = createTensor(gpu, c.w, w),
    tb = createTensor(gpu, [OC], b),
    tg = createTensor(gpu, ys, g);
  const geo = { stride: c.stride, padding: c.padding };
  const fw = epilogue ? { ...geo, bias: tb, activation: 'relu' as const } : geo;
  const y = await ops.conv2d(tx, tw, fw);
  expect(y.shape).toEqual([...ys]);
  const yRef = conv2dCpu(x, c.x, w, c.w, epilogue ? { ...geo, bias: b, activation: 'relu' } : geo);
  expectClose(await y.read(), yRef, tol(C * KH * KW), `forward ${name(c)}`);
  if (epilogue) return;
  const dx = await ops.conv2dBackwardData(tg, tw, { ...geo, inputShape: c.x });
  expect(dx.shape).toEqual([...c.x]);
  expectClose(await dx.read(), conv2dBackwardDataCpu(g, w, c.w, c.x, geo), tol(OC * KH * KW), `dx ${name(c)}`);
  const dw = await ops.conv2dBackwardFilter(tx, tg, { ...geo, kernelSize: [KH, KW] });
  expect(dw.shape).toEqual([...c.w]);
  expectClose(await dw.read(), conv2dBackwardFilterCpu(x, c.x, g, c.w, geo), tol(N * ys[2] * ys[3]), `dw ${name(c)}`);
  const db = await ops.conv2dBiasGrad(tg);
  expectClose(await db.read(), conv2dBiasGradCpu(g, ys), tol(N * ys[2] * ys[3]), `db ${name(c)}`);
  void H;
  void W;
  for (const t of [tx, tw, tb, tg, y, dx, dw, db]) t.dispose();
}

describe('conv2d against the CPU reference', () => {
  it('awkward shapes: forward, backward-data, backward-filter, bias gradient', async () => {
    const gpu = await testGpu();
    let seed = 1;
    for (const c of AWKWARD) await checkCase(gpu, c, (seed += 10), false);
  });

  it('awkward shapes: forward with bias and relu', async () => {
    const gpu = await testGpu();
    let seed = 500;
    for (const c of AWKWARD) await checkCase(gpu, c, (seed += 10), true);
  });

  it('LeNet-5 shapes (batch 64)', async () => {
    const gpu = await testGpu();
    const cases: Case[] = [
      { x: [64, 1, 28, 28], w: [6, 1, 5, 5], padding: 2 },
      { x: [64, 6, 14, 14], w: [16, 6, 5, 5] },
      { x: [64, 20, 12, 12], w: [50, 20, 5, 5] },
    ];
    let seed = 1000;
    for (const c of cases) await checkCase(gpu, c, (seed += 10), false);
    await checkCase(gpu, { x: [64, 1, 28, 28], w: [20, 1, 5, 5] }, 2000, true);
  });

  it('large case beyond 65535 workgroups in one dimension (2-D grid)', async () => {
    const gpu = await testGpu();
    await checkCase(gpu, { x: [2, 1, 2900, 2900], w: [1, 1, 3, 3], padding: 1 }, 3000, false);
  });

  it('finite differences: dx, dw and db are the gradients of L = Σ G⊙conv(x, w, b)', async () => {
    const gpu = await testGpu();
    const cases: Case[] = [
      { x: [2, 3, 7, 6], w: [4, 3, 3, 3], stride: 2, padding: 1 },
      { x: [1, 2, 5, 7], w: [3, 2, 5, 3], stride: [1, 2], padding: [2, 1] },
    ];
    for (const c of cases) {
      const ys = outShape(c);
      const OC = c.w[0];
      const x = uniform(numel(c.x), 31),
        w = uniform(numel(c.w), 32),
        b = uniform(OC, 33),
        G = uniform(numel(ys), 34);
      const geo = { stride: c.stride, padding: c.padding };
      const tx = createTensor(gpu, c.x, x),
        tw = createTensor(gpu, c.w, w),
        tG = createTensor(gpu, ys, G);
      const dx = await (await ops.conv2dBackwardData(tG, tw, { ...geo, inputShape: c.x })).read();
      const dw = await (await ops.conv2dBackwardFilter(tx, tG, { ...geo, weightShape: c.w })).read();
      const db = await (await ops.conv2dBiasGrad(tG)).read();
      // L in float64 on the CPU reference
      const L = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) => {
        const y = conv2dCpuF64(xx, c.x, ww, c.w, { ...geo, bias: bb });
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i]! * G[i]!;
        return s;
      };
      const h = 1e-3;
      const fd = (v: Float32Array, f: (p: Float64Array) => number) =>
        Float64Array.from(v, (_, i) => {
          const p = Float64Array.from(v);
          p[i]! += h;
          const m = Float64Array.from(v);
          m[i]! -= h;
          return (f(p) - f(m)) / (2 * h);
        });
      expectClose(
        dx,
        fd(x, (p) => L(p, w, b)),
        { atol: 1e-4, rtol: 1e-4 },
        `dx FD ${name(c)}`,
      );
      expectClose(
        dw,
        fd(w, (p) => L(x, p, b)),
        { atol: 1e-4, rtol: 1e-4 },
        `dw FD ${name(c)}`,
      );
      expectClose(
        db,
        fd(b, (p) => L(x, w, p)),
        { atol: 1e-4, rtol: 1e-4 },
        `db FD ${name(c)}`,
      );
    }
  });

  it('the kernels write every output element (outputs start as NaN)', async () => {
    const gpu = await testGpu();
    for (const c of [AWKWARD[2]!, AWKWARD[5]!, AWKWARD[7]!, AWKWARD[9]!]) {
      const ys = outShape(c);
      const geo = { stride: c.stride, padding: c.padding };
      const x = uniform(numel(c.x), 61),
        w = uniform(numel(c.w), 62),
        g = uniform(numel(ys), 63);
      const tx = createTensor(gpu, c.x, x),
        tw = createTensor(gpu, c.w, w),
        tg = createTensor(gpu, ys, g);
      const nan = (s: readonly number[]) => createTensor(gpu, s, new Float32Array(numel(s)).fill(NaN));
      const y = nan(ys),
        dx = nan(c.x),
        dw = nan(c.w),
        db = nan([c.w[0]]);
      await run(gpu, [
        ...(await conv2d(gpu, tx, tw, y, geo)),
        ...(await conv2dBackwardData(gpu, tg, tw, dx, geo)),
        ...(await conv2dBackwardFilter(gpu, tx, tg, dw, geo)),
        ...(await conv2dBiasGrad(gpu, tg, db)),
      ]);
      expectClose(await y.read(), conv2dCpu(x, c.x, w, c.w, geo), tol(numel(c.w)), `y ${name(c)}`);
      expectClose(await dx.read(), conv2dBackwardDataCpu(g, w, c.w, c.x, geo), tol(numel(c.w)), `dx ${name(c)}`);
      expectClose(await dw.read(), conv2dBackwardFilterCpu(x, c.x, g, c.w, geo), tol(numel(ys)), `dw ${name(c)}`);
      expectClose(await db.read(), conv2dBiasGradCpu(g, ys), tol(numel(ys)), `db ${name(c)}`);
    }
  });

  it('bad input throws naming the argument and the expected shape', async () => {
    const gpu = await testGpu();
    const x = createTensor(gpu, [2, 3, 8, 8]),
      w = createTensor(gpu, [4, 3, 3, 3]);
    await expect(ops.conv2d(x, createTensor(gpu, [4, 2, 3, 3]))).rejects.toThrow(
      /conv2d: w must have shape \[OC, C, KH, KW\] with C = 3 input channels \(x is \[2,3,8,8\]\), got \[4,2,3,3\]/,
    );
    await expect(ops.conv2d(x, createTensor(gpu, [4, 3, 11, 3]), { padding: 1 })).rejects.toThrow(
      /kernel 11x3 \(w \[4,3,11,3\]\) is larger than the padded input 10x10 \(x \[2,3,8,8\] with padding \[1, 1\]\)/,
    );
    await expect(ops.conv2d(x, w, { stride: 0 })).rejects.toThrow(/stride must be a positive integer or a pair \[h, w\] of them, got 0/);
    await expect(ops.conv2d(x, w, { stride: [1, -2] })).rejects.toThrow(/stride must be a positive integer .*got \[1,-2\]/);
    await expect(ops.conv2d(x, w, { padding: -1 })).rejects.toThrow(/padding must be a non-negative integer/);
    await expect(ops.conv2d(createTensor(gpu, [3, 8, 8]), w)).rejects.toThrow(/conv2d: x must be 4-D \(N, C, H, W\), got shape \[3,8,8\]/);
    await expect(ops.conv2d(x, createTensor(gpu, [4, 27]))).rejects.toThrow(/w must be 4-D \(OC, C, KH, KW\)/);
    await expect(ops.conv2d(x, w, { bias: createTensor(gpu, [3]) })).rejects.toThrow(/bias must have shape \[4\], got \[3\]/);
    await expect(ops.conv2d(x, w, { activation: 'tanh' as 'relu' })).rejects.toThrow(/activation must be 'none' or 'relu'/);
    const dy = createTensor(gpu, [2, 4, 6, 6]);
    await expect(ops.conv2dBackwardData(dy, w, { inputShape: [2, 3, 8, 9] })).rejects.toThrow(
      /conv2dBackwardData: dy must have shape \[2,4,6,7\], got \[2,4,6,6\]/,
    );
    await expect(ops.conv2dBackwardData(dy, w, { inputShape: [2, 5, 8, 8] })).rejects.toThrow(
      /w must have shape \[OC, C, KH, KW\] with C = 5 input channels/,
    );
    await expect(ops.conv2dBackwardData(dy, w, { inputShape: [2, 8, 8] })).rejects.toThrow(/inputShape must be 4 positive integers \(N, C, H, W\)/);
    await expect(ops.conv2dBackwardFilter(x, dy, { kernelSize: 3, stride: 2 })).rejects.toThrow(
      /conv2dBackwardFilter: dy must have shape \[2,4,3,3\], got \[2,4,6,6\]/,
    );
    await expect(ops.conv2dBackwardFilter(x, dy, { weightShape: [4, 2, 3, 3] })).rejects.toThrow(
      /weightShape must have shape \[OC, C, KH, KW\] with C = 3/,
    );
    await expect(ops.conv2dBackwardFilter(x, dy, {})).rejects.toThrow(/needs kernelSize/);
    await expect(ops.conv2dBackwardFilter(x, createTensor(gpu, [2, 4, 36]), { kernelSize: 3 })).rejects.toThrow(/dy must be 4-D \(N, OC, OH, OW\)/);
    await expect(ops.conv2dBiasGrad(createTensor(gpu, [2, 4]))).rejects.toThrow(
      /conv2dBiasGrad: dy must be 4-D \(N, OC, OH, OW\), got shape \[2,4\]/,
    );
  });
});
