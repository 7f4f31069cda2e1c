import { describe, expect, it } from 'vitest';
import { createTensor, ops, run, Tensor } from '../src/index.js';
import { add, gelu, geluBackward } from '../src/kernels/elementwise.js';
import { addCpu, geluBackwardCpu, geluCpu } from '../src/reference/elementwise.js';
import { expectClose, randn, testGpu } from './helpers.js';

describe('gelu (GPT-2 tanh form) and the residual add', () => {
  it('forward, backward and add match the CPU reference (vec4 body + tail, in place)', async () => {
    const gpu = await testGpu();
    for (const n of [1, 7, 67, 1000, 70001]) {
      const x = randn(n, n, 3),
        dy = randn(n, n + 1),
        y = randn(n, n + 2);
      if (n > 2) {
        x[0] = -30;
        x[1] = 30;
        x[2] = 0;
      }
      const tx = createTensor(gpu, [n], x),
        tdy = createTensor(gpu, [n], dy),
        ty = createTensor(gpu, [n], y);
      const g = await (await ops.gelu(tx)).read();
      expectClose(g, geluCpu(x), { atol: 1e-6, rtol: 1e-5 }, `gelu n=${n}`);
      expect(g.every(Number.isFinite)).toBe(true);
      expectClose(await (await ops.geluBackward(tx, tdy)).read(), geluBackwardCpu(x, dy), { atol: 1e-6, rtol: 1e-5 }, `geluBackward n=${n}`);
      expectClose(await (await ops.add(tx, ty)).read(), addCpu(x, y), { atol: 0, rtol: 0 }, `add n=${n}`);
      // in place: dx over dy, gelu over x, x += y
      await run(gpu, await geluBackward(gpu, tx, tdy, tdy));
      expectClose(await tdy.read(), geluBackwardCpu(x, dy), { atol: 1e-6, rtol: 1e-5 }, `geluBackward in place n=${n}`);
      await run(gpu, await add(gpu, ty, tx, ty));
      expectClose(await ty.read(), addCpu(y, x), { atol: 0, rtol: 0 }, `y += x n=${n}`);
      await run(gpu, await gelu(gpu, tx, tx));
      expectClose(await tx.read(), geluCpu(x), { atol: 1e-6, rtol: 1e-5 }, `gelu in place n=${n}`);
      for (const t of [tx, tdy, ty]) t.dispose();
    }
  });

  it('finite differences: geluBackward is the gradient of Σ G ⊙ gelu(x)', async () => {
    const gpu = await testGpu();
    const n = 53,
      x = randn(n, 5, 2),
      G = randn(n, 6);
    const f = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    const h = 1e-4;
    const fd = Float64Array.from(x, (v, i) => (G[i]! * (f(v + h) - f(v - h))) / (2 * h));
    const dx = await (await ops.geluBackward(createTensor(gpu, [n], x), createTensor(gpu, [n], G))).read();
    expectClose(dx, fd, { atol: 1e-5, rtol: 1e-4 }, 'geluBackward vs FD');
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const a = createTensor(gpu, [10]),
      c = createTensor(gpu, [11]);
    await expect(ops.add(a, c)).rejects.toThrow(/add: y must have 10 elements like out \[10\], got shape \[11\]/);
    await expect(ops.geluBackward(c, a)).rejects.toThrow(/geluBackward: x must have 10 elements like dx/);
    await expect(ops.gelu(createTensor(gpu, [4], undefined, { dtype: 'u32' }))).rejects.toThrow(/gelu: x must have dtype f32, got u32/);
    const big = createTensor(gpu, [128]);
    const lo = new Tensor(gpu, big.buffer, [64], 'f32', 0, false),
      hi = new Tensor(gpu, big.buffer, [64], 'f32', 256, false);
    await expect(add(gpu, lo, createTensor(gpu, [64]), hi)).rejects.toThrow(/add: out shares a GPU buffer with x at another range/);
  });
});
