import { describe, expect, it } from 'vitest';
import { createTensor, run, type Gpu } from '../src/index.js';
import { destroyDispatches } from '../src/gpu/dispatch.js';
import { factorizedBits, factorizedBitsBackward, FP_PARAMS, packFactorizedTheta } from '../src/kernels/factorized-prior.js';
import { factorizedBitsBackwardCpu, factorizedBitsCpu, factorizedInit, factorizedLogitCpu } from '../src/reference/factorized-prior.js';
import { expectClose, testGpu, uniform } from './helpers.js';

type Shape = [number, number, number, number];
// awkward: one element; channels × positions not a multiple of the workgroup; more elements per channel than the workgroup
const SHAPES: Shape[] = [
  [1, 1, 1, 1],
  [3, 5, 1, 7],
  [2, 4, 9, 11],
];

/** Ballé's init perturbed (so every parameter matters), values over the bulk and both tails (floored bins). */
function data(s: Shape, seed: number): { y: Float32Array; theta: Float32Array; g: Float32Array } {
  const [N, C, H, W] = s;
  const theta = factorizedInit(C, 10, seed);
  const noise = uniform(theta.length, seed + 1, -0.6, 0.6);
  for (let i = 0; i < theta.length; i++) theta[i]! += noise[i]!;
  const y = uniform(N * C * H * W, seed + 2, -12, 12);
  if (y.length > 4) y.set([1e4, -1e4, 0.5, -0.5], 0);
  return { y, theta, g: uniform(y.length, seed + 3, 0.2, 1.5) };
}

async function gpuRun(gpu: Gpu, s: Shape, d: ReturnType<typeof data>) {
  const ty = createTensor(gpu, s, d.y),
    tt = createTensor(gpu, [s[1], FP_PARAMS], d.theta),
    tg = createTensor(gpu, s, d.g);
  const bits = createTensor(gpu, s),
    dy = createTensor(gpu, s),
    dtheta = createTensor(gpu, [s[1], FP_PARAMS]);
  const ds = [...(await factorizedBits(gpu, ty, tt, bits)), ...(await factorizedBitsBackward(gpu, ty, tt, tg, dy, dtheta))];
  await run(gpu, ds);
  destroyDispatches(ds);
  const out = { bits: await bits.read(), dy: await dy.read(), dtheta: await dtheta.read() };
  for (const t of [ty, tt, tg, bits, dy, dtheta]) t.dispose();
  return out;
}

describe('factorizedBits / factorizedBitsBackward', () => {
  it('match the float64 reference on awkward shapes, tails included', async () => {
    const gpu = await testGpu();
    for (const [i, s] of SHAPES.entries()) {
      const d = data(s, 10 * i + 1);
      const got = await gpuRun(gpu, s, d);
      const hw = s[2] * s[3];
      expectClose(got.bits, factorizedBitsCpu(d.y, d.theta, s[1], hw), { atol: 2e-4, rtol: 2e-4 }, `bits [${s}]`);
      const ref = factorizedBitsBackwardCpu(d.y, d.theta, d.g, s[1], hw);
      expectClose(got.dy, ref.dy, { atol: 1e-4, rtol: 2e-3 }, `dy [${s}]`);
      expectClose(got.dtheta, ref.dtheta, { atol: 1e-3, rtol: 2e-3 }, `dtheta [${s}]`);
      if (s[0] * s[1] * hw > 4) {
        expect(got.bits[0]).toBeCloseTo(-Math.log2(1e-9), 3); // the floored tail
        expect(got.dy[0]).toBe(0);
      }
    }
  });

  it('gradients agree with finite differences of the float64 reference', async () => {
    const gpu = await testGpu();
    const s: Shape = [2, 3, 2, 3];
    const d = data(s, 7);
    const loss = (y: ArrayLike<number>, th: ArrayLike<number>) => factorizedBitsCpu(y, th, s[1], 6).reduce((a, v, j) => a + v * d.g[j]!, 0);
    const got = await gpuRun(gpu, s, d);
    const eps = 1e-4;
    const fd = (arr: Float32Array, j: number, which: 'y' | 'theta') => {
      const p = Float64Array.from(arr),
        m = Float64Array.from(arr);
      p[j] += eps;
      m[j] -= eps;
      return which === 'y' ? (loss(p, d.theta) - loss(m, d.theta)) / (2 * eps) : (loss(d.y, p) - loss(d.y, m)) / (2 * eps);
    };
    for (let j = 4; j < d.y.length; j++) {
      const f = fd(d.y, j, 'y');
      expect(Math.abs(got.dy[j]! - f), `dy[${j}] gpu ${got.dy[j]} fd ${f}`).toBeLessThan(2e-3 + 2e-3 * Math.abs(f));
    }
    for (let j = 0; j < d.theta.length; j++) {
      const f = fd(d.theta, j, 'theta');
      expect(Math.abs(got.dtheta[j]! - f), `dtheta[${j}] gpu ${got.dtheta[j]} fd ${f}`).toBeLessThan(5e-3 + 2e-3 * Math.abs(f));
    }
    expect(Math.max(...Array.from(got.dtheta, Math.abs))).toBeGreaterThan(0.01);
  });

  it('packs the trainer layout and names bad operands', async () => {
    const gpu = await testGpu();
    const C = 2;
    const t: Record<string, { data: Float32Array; shape: number[] }> = {};
    const sizes = [3, 3, 3, 9, 3, 3, 9, 3, 3, 3, 1];
    const names = ['mats.0', 'biases.0', 'factors.0', 'mats.1', 'biases.1', 'factors.1', 'mats.2', 'biases.2', 'factors.2', 'mats.3', 'biases.3'];
    let v = 0;
    names.forEach((n, k) => (t[`entf.${n}`] = { data: Float32Array.from({ length: C * sizes[k]! }, () => v++), shape: [C, sizes[k]!] }));
    const theta = packFactorizedTheta(t, C);
    expect(theta[FP_PARAMS]).toBe(3); // channel 1's H0 starts after channel 0's 3 entries of mats.0
    expect(Number.isFinite(factorizedLogitCpu(theta, 1, 0.3))).toBe(true);
    const y = createTensor(gpu, [1, 2, 2, 2]),
      bad = createTensor(gpu, [3, FP_PARAMS]),
      out = createTensor(gpu, [1, 2, 2, 2]);
    await expect(factorizedBits(gpu, y, bad, out)).rejects.toThrow(/theta must have shape \[2,43\]/);
    await expect(factorizedBits(gpu, y, createTensor(gpu, [2, FP_PARAMS]), y)).rejects.toThrow(/different GPU buffers/);
    for (const x of [y, bad, out]) x.dispose();
  });
});
