import { describe, expect, it } from 'vitest';
import { createTensor, ops, run } from '../src/index.js';
import { layerNorm, layerNormBackward } from '../src/kernels/layernorm.js';
import { layerNormBackwardCpu, layerNormCpu } from '../src/reference/layernorm.js';
import { expectClose, randn, testGpu } from './helpers.js';

describe('layerNorm (forward with saved statistics, backward with two-stage dγ/dβ)', () => {
  it('forward and backward match the CPU reference on awkward shapes', async () => {
    const gpu = await testGpu();
    for (const [N, C] of [
      [1, 1],
      [3, 5],
      [7, 12],
      [67, 129],
      [130, 64],
      [33, 256],
    ] as const) {
      const x = randn(N * C, N * C, 2),
        gamma = randn(C, C + 1),
        beta = randn(C, C + 2),
        dy = randn(N * C, N + 3);
      for (let c = 0; c < C; c++) x[c]! += 5; // a row with a large mean
      const tx = createTensor(gpu, [N, C], x),
        tg = createTensor(gpu, [C], gamma),
        tb = createTensor(gpu, [C], beta),
        tdy = createTensor(gpu, [N, C], dy);
      const f = await ops.layerNorm(tx, tg, tb);
      const ref = layerNormCpu(x, gamma, beta, N, C);
      const what = `N=${N} C=${C}`;
      expectClose(await f.mean.read(), ref.mean, { atol: 1e-5, rtol: 1e-5 }, `mean ${what}`);
      expectClose(await f.rstd.read(), ref.rstd, { atol: 1e-5, rtol: 1e-4 }, `rstd ${what}`);
      expectClose(await f.y.read(), ref.y, { atol: 1e-4, rtol: 1e-4 }, `y ${what}`);
      const b = await ops.layerNormBackward(tx, tg, f.mean, f.rstd, tdy);
      const rb = layerNormBackwardCpu(x, gamma, ref.mean, ref.rstd, dy, N, C);
      expectClose(await b.dx.read(), rb.dx, { atol: 1e-4, rtol: 1e-3 }, `dx ${what}`);
      expectClose(await b.dgamma.read(), rb.dgamma, { atol: 1e-4, rtol: 1e-4 }, `dgamma ${what}`);
      expectClose(await b.dbeta.read(), rb.dbeta, { atol: 1e-4, rtol: 1e-4 }, `dbeta ${what}`);
      for (const t of [tx, tg, tb, tdy, f.y, f.mean, f.rstd, b.dx, b.dgamma, b.dbeta]) t.dispose();
    }
  });

  it('finite differences: dx, dγ, dβ are the gradient of Σ G ⊙ layernorm(x)', async () => {
    const gpu = await testGpu();
    for (const [N, C] of [
      [5, 7],
      [3, 8],
    ] as const) {
      const x = randn(N * C, 41 + C),
        gamma = randn(C, 42),
        beta = randn(C, 43),
        G = randn(N * C, 44);
      const L = (xs: Float64Array, gs: Float64Array, bs: Float64Array) => {
        let s = 0;
        for (let n = 0; n < N; n++) {
          let mu = 0,
            q = 0;
          for (let c = 0; c < C; c++) mu += xs[n * C + c]! / C;
          for (let c = 0; c < C; c++) q += (xs[n * C + c]! - mu) ** 2 / C;
          const r = 1 / Math.sqrt(q + 1e-5);
          for (let c = 0; c < C; c++) s += G[n * C + c]! * ((xs[n * C + c]! - mu) * r * gs[c]! + bs[c]!);
        }
        return s;
      };
      const args = [Float64Array.from(x), Float64Array.from(gamma), Float64Array.from(beta)] as const;
      const fd = (k: 0 | 1 | 2) =>
        Float64Array.from(args[k], (v, i) => {
          const a = args[k],
            h = 1e-4;
          a[i] = v + h;
          const lp = L(...args);
          a[i] = v - h;
          const lm = L(...args);
          a[i] = v;
          return (lp - lm) / (2 * h);
        });
      const tx = createTensor(gpu, [N, C], x),
        tg = createTensor(gpu, [C], gamma),
        tb = createTensor(gpu, [C], beta),
        tG = createTensor(gpu, [N, C], G);
      const f = await ops.layerNorm(tx, tg, tb);
      const b = await ops.layerNormBackward(tx, tg, f.mean, f.rstd, tG);
      expectClose(await b.dx.read(), fd(0), { atol: 1e-3, rtol: 1e-3 }, `dx vs FD ${N}x${C}`);
      expectClose(await b.dgamma.read(), fd(1), { atol: 1e-3, rtol: 1e-3 }, `dgamma vs FD ${N}x${C}`);
      expectClose(await b.dbeta.read(), fd(2), { atol: 1e-3, rtol: 1e-3 }, `dbeta vs FD ${N}x${C}`);
    }
  });

  it('accumulate adds dx to a residual gradient; dγ/dβ are the same bits on every run; eps is used', async () => {
    const gpu = await testGpu();
    const N = 1000,
      C = 128;
    const x = randn(N * C, 1),
      gamma = randn(C, 2),
      beta = randn(C, 3),
      dy = randn(N * C, 4),
      d0 = randn(N * C, 5);
    const tx = createTensor(gpu, [N, C], x),
      tg = createTensor(gpu, [C], gamma),
      tb = createTensor(gpu, [C], beta),
      tdy = createTensor(gpu, [N, C], dy);
    const y = createTensor(gpu, [N, C]),
      mean = createTensor(gpu, [N]),
      rstd = createTensor(gpu, [N]);
    await run(gpu, await layerNorm(gpu, tx, tg, tb, y, mean, rstd, { eps: 0.5 }));
    const ref = layerNormCpu(x, gamma, beta, N, C, 0.5);
    expectClose(await rstd.read(), ref.rstd, { atol: 1e-5, rtol: 1e-5 }, 'rstd with eps 0.5');
    const dx = createTensor(gpu, [N, C], d0),
      dg = createTensor(gpu, [C]),
      db = createTensor(gpu, [C]);
    const plan = await layerNormBackward(gpu, { x: tx, gamma: tg, mean, rstd, dy: tdy, dx, dgamma: dg, dbeta: db, accumulate: true });
    expect(plan.dispatches.length).toBe(3);
    await run(gpu, plan.dispatches);
    const rb = layerNormBackwardCpu(x, gamma, ref.mean, ref.rstd, dy, N, C);
    expectClose(
      await dx.read(),
      rb.dx.map((v, i) => v + d0[i]!),
      { atol: 1e-4, rtol: 1e-3 },
      'dx += ...',
    );
    const first = [await dg.read(), await db.read()];
    const again = await layerNormBackward(gpu, { x: tx, gamma: tg, mean, rstd, dy: tdy, dx, dgamma: dg, dbeta: db, scratch: plan.scratch });
    expect(again.scratch).toEqual(plan.scratch);
    await run(gpu, again.dispatches);
    expect(Buffer.from((await dg.read()).buffer).equals(Buffer.from(first[0]!.buffer))).toBe(true);
    expect(Buffer.from((await db.read()).buffer).equals(Buffer.from(first[1]!.buffer))).toBe(true);
    expectClose(await dx.read(), rb.dx, { atol: 1e-4, rtol: 1e-3 }, 'dx overwritten');
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const x = createTensor(gpu, [4, 6]),
      g = createTensor(gpu, [6]),
      b = createTensor(gpu, [6]),
      s = createTensor(gpu, [4]);
    await expect(ops.layerNorm(createTensor(gpu, [24]), g, b)).rejects.toThrow(/layerNorm: x must be 2-D \(N, C\), got shape \[24\]/);
    await expect(ops.layerNorm(x, createTensor(gpu, [5]), b)).rejects.toThrow(/layerNorm: gamma must have shape \[6\], got \[5\]/);
    await expect(ops.layerNorm(x, g, createTensor(gpu, [6], undefined, { dtype: 'u32' }))).rejects.toThrow(/beta must have dtype f32, got u32/);
    await expect(ops.layerNorm(x, g, b, { eps: 0 })).rejects.toThrow(/eps must be > 0, got 0/);
    await expect(layerNorm(gpu, x, g, b, createTensor(gpu, [4, 6]), createTensor(gpu, [3]), s)).rejects.toThrow(
      /mean must have shape \[4\], got \[3\]/,
    );
    await expect(layerNorm(gpu, x, g, b, x, s, createTensor(gpu, [4]))).rejects.toThrow(/x and y must be in different GPU buffers/);
    await expect(ops.layerNormBackward(x, g, s, s, createTensor(gpu, [4, 5]))).rejects.toThrow(
      /layerNormBackward: dy must have shape \[4,6\], got \[4,5\]/,
    );
    await expect(ops.layerNormBackward(x, g, s, createTensor(gpu, [5]), x)).rejects.toThrow(/rstd must have shape \[4\], got \[5\]/);
  });
});
