import { describe, expect, it } from 'vitest';
import { createTensor, run, type Gpu } from '../src/index.js';
import { destroyDispatches } from '../src/gpu/dispatch.js';
import {
  convTranspose2d,
  convTranspose2dBackwardData,
  convTranspose2dBackwardFilter,
  type ConvTranspose2dOptions,
} from '../src/kernels/conv-transpose2d.js';
import { convTranspose2dCpu, convTranspose2dCpuF64, convTranspose2dOutShape } from '../src/reference/conv-transpose2d.js';
import { expectClose, testGpu, uniform } from './helpers.js';

type Shape = [number, number, number, number];
interface Case {
  x: Shape;
  w: Shape;
  stride?: number | [number, number];
  padding?: number | [number, number];
  outputPadding?: number | [number, number];
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const geo = (c: Case): ConvTranspose2dOptions => ({ stride: c.stride, padding: c.padding, outputPadding: c.outputPadding });
const name = (c: Case) =>
  `x[${c.x}] w[${c.w}] s${JSON.stringify(c.stride ?? 1)} p${JSON.stringify(c.padding ?? 0)} op${JSON.stringify(c.outputPadding ?? 0)}`;

const AWKWARD: Case[] = [
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1] },
  { x: [1, 1, 1, 1], w: [1, 3, 5, 5], stride: 2, padding: 2, outputPadding: 1 },
  { x: [2, 3, 5, 7], w: [3, 4, 5, 5], stride: 2, padding: 2, outputPadding: 1 },
  { x: [1, 5, 3, 4], w: [5, 2, 3, 3], stride: 3, padding: 1, outputPadding: [2, 0] },
  { x: [3, 2, 7, 5], w: [2, 7, 3, 2], stride: [1, 2], padding: [1, 0] },
  { x: [1, 9, 4, 4], w: [9, 3, 4, 4], stride: 2, padding: 1 },
  { x: [2, 4, 6, 3], w: [4, 1, 1, 1], stride: 2 },
];

async function gpuForward(gpu: Gpu, c: Case, x: Float32Array, w: Float32Array, b: Float32Array | undefined, relu: boolean): Promise<Float32Array> {
  const tx = createTensor(gpu, c.x, x),
    tw = createTensor(gpu, c.w, w);
  const tb = b ? createTensor(gpu, [c.w[1]], b) : undefined;
  const ty = createTensor(gpu, convTranspose2dOutShape(c.x, c.w, geo(c)));
  const d = await convTranspose2d(gpu, tx, tw, ty, { ...geo(c), bias: tb, activation: relu ? 'relu' : 'none' });
  await run(gpu, d);
  destroyDispatches(d);
  const out = await ty.read();
  for (const t of [tx, tw, tb, ty]) t?.dispose();
  return out as Float32Array;
}

describe('convTranspose2d', () => {
  it('matches the scatter reference on awkward shapes, with and without bias + relu', async () => {
    const gpu = await testGpu();
    for (const [i, c] of AWKWARD.entries()) {
      const x = uniform(numel(c.x), 10 + i),
        w = uniform(numel(c.w), 20 + i),
        b = uniform(c.w[1], 30 + i);
      const terms = c.w[0] * c.w[2] * c.w[3];
      const tol = { atol: 1e-5 * Math.sqrt(terms) + 1e-6, rtol: 1e-4 };
      expectClose(await gpuForward(gpu, c, x, w, undefined, false), convTranspose2dCpu(x, c.x, w, c.w, geo(c)), tol, `plain ${name(c)}`);
      expectClose(
        await gpuForward(gpu, c, x, w, b, true),
        convTranspose2dCpu(x, c.x, w, c.w, { ...geo(c), bias: b, activation: 'relu' }),
        tol,
        `bias+relu ${name(c)}`,
      );
    }
  });

  it('gradients (conv2d kernels) agree with finite differences of the float64 reference', async () => {
    const gpu = await testGpu();
    for (const [i, c] of AWKWARD.slice(1, 6).entries()) {
      const ys = convTranspose2dOutShape(c.x, c.w, geo(c));
      const x = uniform(numel(c.x), 40 + i),
        w = uniform(numel(c.w), 50 + i),
        g = uniform(numel(ys), 60 + i);
      const loss = (xv: ArrayLike<number>, wv: ArrayLike<number>) =>
        convTranspose2dCpuF64(xv, c.x, wv, c.w, geo(c)).reduce((s, v, j) => s + v * g[j]!, 0);
      const tx = createTensor(gpu, c.x, x),
        tw = createTensor(gpu, c.w, w),
        tg = createTensor(gpu, ys, g);
      const dx = createTensor(gpu, c.x),
        dw = createTensor(gpu, c.w);
      const d1 = await convTranspose2dBackwardData(gpu, tg, tw, dx, geo(c));
      const d2 = await convTranspose2dBackwardFilter(gpu, tx, tg, dw, geo(c));
      await run(gpu, [...d1, ...d2]);
      destroyDispatches([...d1, ...d2]);
      const gx = await dx.read(),
        gw = await dw.read();
      const eps = 1e-3;
      for (const [arr, grad, what] of [
        [x, gx, 'dx'],
        [w, gw, 'dw'],
      ] as const) {
        for (let k = 0; k < Math.min(arr.length, 12); k++) {
          const j = (k * 7919) % arr.length;
          const p = Float64Array.from(arr),
            m = Float64Array.from(arr);
          p[j] += eps;
          m[j] -= eps;
          const fd = what === 'dx' ? (loss(p, w) - loss(m, w)) / (2 * eps) : (loss(x, p) - loss(x, m)) / (2 * eps);
          expect(Math.abs(grad[j]! - fd), `${what}[${j}] ${name(c)}: gpu ${grad[j]} fd ${fd}`).toBeLessThan(2e-3 + 1e-3 * Math.abs(fd));
        }
      }
      for (const t of [tx, tw, tg, dx, dw]) t.dispose();
    }
  });

  it('names bad geometry', async () => {
    const gpu = await testGpu();
    const x = createTensor(gpu, [1, 2, 3, 3]),
      w = createTensor(gpu, [3, 2, 3, 3]),
      y = createTensor(gpu, [1, 2, 4, 4]);
    await expect(convTranspose2d(gpu, x, w, y)).rejects.toThrow(/C = 2 input channels/);
    const w2 = createTensor(gpu, [2, 2, 3, 3]);
    await expect(convTranspose2d(gpu, x, w2, y, { stride: 2, outputPadding: 2 })).rejects.toThrow(/outputPadding/);
    await expect(convTranspose2d(gpu, x, w2, y, { stride: 1 })).rejects.toThrow(/y/);
    for (const t of [x, w, y, w2]) t.dispose();
  });
});
