import { describe, expect, it } from 'vitest';
import { createTensor, ops, run, type Gpu } from '../src/index.js';
import { maxPool2dBackward, type MaxPool2dOptions } from '../src/kernels/pool.js';
import { maxPool2dBackwardCpu, maxPool2dCpu, maxPool2dCpuF64, poolGeometry, type PoolShape4 } from '../src/reference/pool.js';
import { expectClose, rng, testGpu, uniform } from './helpers.js';

interface Case {
  x: PoolShape4;
  opts: MaxPool2dOptions;
}
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const name = (c: Case) => `x[${c.x}] ${JSON.stringify(c.opts)}`;

const AWKWARD: Case[] = [
  { x: [1, 1, 1, 1], opts: { kernel: 1 } },
  { x: [1, 1, 2, 2], opts: {} },
  { x: [1, 1, 13, 11], opts: { kernel: 2, stride: 2 } }, // odd sizes: last row/column dropped
  { x: [2, 3, 13, 11], opts: { kernel: 3, stride: 2 } }, // overlapping windows
  { x: [1, 2, 7, 9], opts: { kernel: 3, stride: 1 } }, // heavy overlap
  { x: [2, 3, 13, 11], opts: { kernel: [2, 3], stride: [3, 2] } }, // overlap along w only
  { x: [1, 2, 11, 13], opts: { kernel: 2, stride: 3 } }, // gaps between windows
  { x: [1, 4, 5, 7], opts: { kernel: [5, 7] } }, // one window per plane
  { x: [3, 5, 17, 19], opts: { kernel: [3, 2], stride: [3, 2] } },
];

/** Exact equality (fast on millions of elements), reporting the first difference. */
function expectEqual(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: first difference at [${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

async function checkCase(gpu: Gpu, c: Case, x: Float32Array, seed: number): Promise<void> {
  const ref = maxPool2dCpu(x, c.x, c.opts);
  const g = poolGeometry(c.x, c.opts);
  const ys = [g.N, g.C, g.OH, g.OW];
  const tx = createTensor(gpu, c.x, x);
  const { y, argmax } = await ops.maxPool2d(tx, c.opts);
  expect(y.shape).toEqual(ys);
  expect(argmax.shape).toEqual(ys);
  expect(argmax.dtype).toBe('u32');
  expectEqual(await y.read(), ref.y, `y ${name(c)}`);
  expectEqual(await argmax.read(), ref.argmax, `argmax ${name(c)}`);
  const dyv = uniform(numel(ys), seed);
  const dy = createTensor(gpu, ys, dyv);
  const dx = await ops.maxPool2dBackward(dy, argmax, c.x, c.opts);
  expect(dx.shape).toEqual([...c.x]);
  expectClose(await dx.read(), maxPool2dBackwardCpu(dyv, ref.argmax, c.x, c.opts), { atol: 1e-6, rtol: 1e-6 }, `dx ${name(c)}`);
  for (const t of [tx, y, argmax, dy, dx]) t.dispose();
}

describe('maxPool2d against the CPU reference', () => {
  it('awkward shapes: y and argmax exactly, dx', async () => {
    const gpu = await testGpu();
    let seed = 1;
    for (const c of AWKWARD) await checkCase(gpu, c, uniform(numel(c.x), (seed += 10)), seed + 1);
  });

  it('ties pick the first maximum in window order', async () => {
    const gpu = await testGpu();
    let seed = 100;
    for (const c of AWKWARD) {
      const r = rng((seed += 10));
      const x = Float32Array.from({ length: numel(c.x) }, () => Math.floor(r() * 3)); // values 0, 1, 2
      await checkCase(gpu, c, x, seed + 1);
    }
    // all-equal window: argmax is the window's first element
    const tx = createTensor(gpu, [1, 1, 4, 4], new Float32Array(16).fill(7));
    const { argmax } = await ops.maxPool2d(tx, { kernel: 2 });
    expect(Array.from(await argmax.read())).toEqual([0, 2, 8, 10]);
  });

  it('LeNet-5 shapes (batch 64) and the default 2×2 stride 2', async () => {
    const gpu = await testGpu();
    let seed = 1000;
    for (const x of [
      [64, 6, 28, 28],
      [64, 16, 10, 10],
      [64, 20, 24, 24],
      [64, 50, 8, 8],
    ] as PoolShape4[]) {
      await checkCase(gpu, { x, opts: {} }, uniform(numel(x), (seed += 10)), seed + 1);
    }
    const { y } = await ops.maxPool2d(createTensor(gpu, [2, 3, 9, 7]));
    expect(y.shape).toEqual([2, 3, 4, 3]);
  });

  it('large case beyond 65535 workgroups in one dimension (2-D grid)', async () => {
    const gpu = await testGpu();
    await checkCase(gpu, { x: [1, 1, 4100, 4100], opts: {} }, uniform(4100 * 4100, 9), 10);
    await checkCase(gpu, { x: [1, 1, 2900, 2900], opts: { kernel: 3, stride: 1 } }, uniform(2900 * 2900, 11), 12);
  });

  it('finite differences: dx is the gradient of L = Σ G⊙maxpool(x)', async () => {
    const gpu = await testGpu();
    for (const c of [
      { x: [2, 2, 7, 6], opts: { kernel: 3, stride: 2 } },
      { x: [1, 3, 6, 7], opts: { kernel: 2 } },
      { x: [1, 1, 5, 5], opts: { kernel: 3, stride: 1 } },
    ] as Case[]) {
      const x = uniform(numel(c.x), 77);
      const g = poolGeometry(c.x, c.opts);
      const G = uniform(g.N * g.C * g.OH * g.OW, 78);
      const { argmax } = await ops.maxPool2d(createTensor(gpu, c.x, x), c.opts);
      const dx = await (await ops.maxPool2dBackward(createTensor(gpu, [g.N, g.C, g.OH, g.OW], G), argmax, c.x, c.opts)).read();
      const L = (v: ArrayLike<number>) => {
        const y = maxPool2dCpuF64(v, c.x, c.opts);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i]! * G[i]!;
        return s;
      };
      const h = 1e-5; // far below the gaps between distinct random values
      const fd = Float64Array.from(x, (_, i) => {
        const p = Float64Array.from(x);
        p[i]! += h;
        const m = Float64Array.from(x);
        m[i]! -= h;
        return (L(p) - L(m)) / (2 * h);
      });
      expectClose(dx, fd, { atol: 1e-5, rtol: 1e-5 }, `dx FD ${name(c)}`);
      expect(fd.some((v) => v === 0)).toBe(true);
    }
  });

  it('the backward kernels write every element of dx (both the gather and the tile path)', async () => {
    const gpu = await testGpu();
    for (const c of [AWKWARD[4]!, AWKWARD[6]!, AWKWARD[2]!]) {
      const x = uniform(numel(c.x), 5);
      const { y, argmax } = await ops.maxPool2d(createTensor(gpu, c.x, x), c.opts);
      const dx = createTensor(gpu, c.x, new Float32Array(numel(c.x)).fill(NaN));
      await run(gpu, await maxPool2dBackward(gpu, y, argmax, dx, c.opts));
      const ref = maxPool2dCpu(x, c.x, c.opts);
      expectClose(await dx.read(), maxPool2dBackwardCpu(ref.y, ref.argmax, c.x, c.opts), { atol: 1e-6, rtol: 1e-6 }, `dx ${name(c)}`);
    }
  });

  it('bad input throws naming the argument and the expected shape', async () => {
    const gpu = await testGpu();
    const x = createTensor(gpu, [2, 3, 8, 6]);
    await expect(ops.maxPool2d(createTensor(gpu, [3, 8, 6]))).rejects.toThrow(/maxPool2d: x must be 4-D \(N, C, H, W\), got shape \[3,8,6\]/);
    await expect(ops.maxPool2d(x, { kernel: 7 })).rejects.toThrow(/maxPool2d: kernel 7x7 is larger than the input 8x6 \(x \[2,3,8,6\]\)/);
    await expect(ops.maxPool2d(x, { kernel: [2, 0] })).rejects.toThrow(/kernel must be a positive integer or a pair \[h, w\] of them, got \[2,0\]/);
    await expect(ops.maxPool2d(x, { stride: 0 })).rejects.toThrow(/stride must be a positive integer or a pair \[h, w\] of them, got 0/);
    await expect(ops.maxPool2d(x, { stride: 1.5 })).rejects.toThrow(/stride must be a positive integer/);
    await expect(ops.maxPool2d(createTensor(gpu, [2, 3, 8, 6], undefined, { dtype: 'u32' }))).rejects.toThrow(/x must have dtype f32, got u32/);
    const { y, argmax } = await ops.maxPool2d(x);
    await expect(ops.maxPool2dBackward(y, argmax, [2, 3, 8, 8])).rejects.toThrow(
      /maxPool2dBackward: dy must have shape \[2,3,4,4\], got \[2,3,4,3\]/,
    );
    await expect(ops.maxPool2dBackward(y, y, [2, 3, 8, 6])).rejects.toThrow(/argmax must have dtype u32, got f32/);
    await expect(ops.maxPool2dBackward(y, createTensor(gpu, [2, 3, 4, 2], undefined, { dtype: 'u32' }), [2, 3, 8, 6])).rejects.toThrow(
      /argmax must have shape \[2,3,4,3\], got \[2,3,4,2\]/,
    );
    await expect(ops.maxPool2dBackward(y, argmax, [2, 3, 8])).rejects.toThrow(/inputShape must be 4 positive integers \(N, C, H, W\)/);
    await expect(ops.maxPool2dBackward(y, argmax, [2, 3, 1, 6])).rejects.toThrow(
      /kernel 2x2 is larger than the input 1x6 \(inputShape \[2,3,1,6\]\)/,
    );
  });
});
