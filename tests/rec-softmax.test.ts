// recSoftmaxXent / recScatterRows against the float64 reference, a finite-difference check of the
// gradient, awkward shapes (one item, primes, padding rows, users without items) and bad input.
import { describe, expect, it } from 'vitest';
import { run } from '../src/gpu/dispatch.js';
import { createTensor } from '../src/gpu/tensor.js';
import { createSeedBuffer, recGatherRows, recMultiHot, recScatterRows, recSoftmaxXent, writeSeed } from '../src/kernels/rec-softmax.js';
import { recGatherRowsCpu, recMultiHotCpu, recScatterRowsCpu, recSoftmaxXentCpu } from '../src/reference/rec-softmax.js';
import { expectClose, rng, testGpu } from './helpers.js';

/** U users, each with 0..most distinct items of N (user 0 has none). */
function csr(U: number, N: number, most: number, seed: number) {
  const r = rng(seed);
  const ptr = [0],
    items: number[] = [];
  for (let u = 0; u < U; u++) {
    const s = new Set<number>();
    const m = u === 0 ? 0 : 1 + Math.floor(r() * most);
    for (let j = 0; j < m; j++) s.add(Math.floor(r() * N));
    items.push(...s);
    ptr.push(items.length);
  }
  return { rowptr: Uint32Array.from(ptr), items: Uint32Array.from(items.length ? items : [0]) };
}

async function gpuLoss(B: number, N: number, U: number, base: number, seed: number, scores?: Float32Array) {
  const gpu = await testGpu();
  const r = rng(seed);
  const s = scores ?? Float32Array.from({ length: B * N }, () => 4 * r() - 2);
  const perm = Uint32Array.from({ length: base + B }, (_, i) => (i % 5 === 4 ? U + 2 : Math.floor(r() * U)));
  const { rowptr, items } = csr(U, N, Math.min(N, 6), seed + 1);
  const t = {
    scores: createTensor(gpu, [B, N], s, { label: 'r.s' }),
    perm: createTensor(gpu, [perm.length], perm, { dtype: 'u32', label: 'r.perm' }),
    rowptr: createTensor(gpu, [rowptr.length], rowptr, { dtype: 'u32', label: 'r.ptr' }),
    items: createTensor(gpu, [items.length], items, { dtype: 'u32', label: 'r.items' }),
    ds: createTensor(gpu, [B, N], undefined, { label: 'r.ds' }),
    loss: createTensor(gpu, [base + B], undefined, { label: 'r.loss' }),
  };
  await run(gpu, await recSoftmaxXent(gpu, { ...t, base }));
  const out = { ds: await t.ds.read(), loss: (await t.loss.read()).subarray(base), s, perm, rowptr, items };
  for (const x of Object.values(t)) x.dispose();
  return out;
}

describe('recSoftmaxXent', () => {
  it('matches the float64 reference on awkward shapes', async () => {
    for (const [B, N, U, base] of [
      [1, 1, 2, 0],
      [3, 7, 5, 2],
      [13, 131, 11, 5],
      [8, 1031, 9, 64],
    ] as const) {
      const g = await gpuLoss(B, N, U, base, B * 7 + N);
      const ref = recSoftmaxXentCpu(g.s, B, N, g.perm, g.rowptr, g.items, base);
      expectClose(g.ds, ref.ds, { atol: 1e-6, rtol: 1e-4 }, `ds ${B}x${N}`);
      expectClose(g.loss, ref.loss, { atol: 1e-5, rtol: 1e-5 }, `loss ${B}x${N}`);
    }
  });

  it('its gradient is the derivative of scale·Σ loss (finite differences)', async () => {
    const B = 4,
      N = 9,
      U = 6;
    const g = await gpuLoss(B, N, U, 0, 3);
    const total = (s: Float32Array) => recSoftmaxXentCpu(s, B, N, g.perm, g.rowptr, g.items).loss.reduce((a, b) => a + b, 0) / B;
    const h = 1e-2;
    const fd = new Float64Array(B * N);
    for (let i = 0; i < B * N; i++) {
      const p = Float32Array.from(g.s),
        m = Float32Array.from(g.s);
      p[i]! += h;
      m[i]! -= h;
      fd[i] = (total(p) - total(m)) / (2 * h);
    }
    expectClose(g.ds, fd, { atol: 2e-4, rtol: 1e-2 }, 'ds vs finite differences');
    expect(g.ds.some((x) => x !== 0)).toBe(true);
  });

  it('is stable for large scores', async () => {
    const g = await gpuLoss(2, 5, 3, 0, 9, Float32Array.from([80, 1, 2, 3, 4, -90, 60, 61, 0, 0]));
    for (const x of [...g.ds, ...g.loss]) expect(Number.isFinite(x)).toBe(true);
  });

  it('refuses bad arguments by name', async () => {
    const gpu = await testGpu();
    const s = createTensor(gpu, [2, 3], undefined, { label: 'b.s' });
    const u = createTensor(gpu, [2], [0, 1], { dtype: 'u32', label: 'b.u' });
    const l = createTensor(gpu, [2], undefined, { label: 'b.l' });
    const args = { scores: s, perm: u, rowptr: u, items: u, ds: l, loss: l };
    await expect(recSoftmaxXent(gpu, args)).rejects.toThrow(/ds must have shape \[2,3\]/);
    await expect(recSoftmaxXent(gpu, { ...args, ds: s })).rejects.toThrow(/scores and ds must be in different GPU buffers \(ds is written\)/);
    await expect(recSoftmaxXent(gpu, { ...args, ds: createTensor(gpu, [2, 3], undefined, { label: 'b.d' }), base: 1 })).rejects.toThrow(
      /perm must hold base \+ B = 3/,
    );
    await expect(recScatterRows(gpu, { perm: u, dtable: l, B: 1 })).rejects.toThrow(/dtable must be 2-D/);
    for (const t of [s, u, l]) t.dispose();
  });
});

describe('recScatterRows', () => {
  it('gathers, writes and clears the batch rows only, skipping padding', async () => {
    const gpu = await testGpu();
    for (const [U, C, B, base] of [
      [5, 1, 2, 0],
      [17, 7, 5, 3],
      [40, 64, 11, 2],
    ] as const) {
      const r = rng(U + C);
      const perm = Uint32Array.from({ length: base + B }, (_, i) => (i === base + 1 ? U + 5 : (i * 7 + 3) % U));
      // distinct users in the batch
      const table = Float32Array.from({ length: U * C }, () => r());
      const drows = Float32Array.from({ length: B * C }, () => r() + 2);
      const tt = createTensor(gpu, [U, C], table, { label: 's.t' });
      const tr = createTensor(gpu, [B, C], drows, { label: 's.r' });
      const tp = createTensor(gpu, [perm.length], perm, { dtype: 'u32', label: 's.p' });
      const tg = createTensor(gpu, [B, C], undefined, { label: 's.g' });
      await run(gpu, await recGatherRows(gpu, { table: tt, perm: tp, out: tg, base }));
      expectClose(await tg.read(), recGatherRowsCpu(table, C, perm, B, base), { atol: 0, rtol: 0 }, 'gather');
      tg.dispose();
      await run(gpu, await recScatterRows(gpu, { drows: tr, perm: tp, dtable: tt, base }));
      const afterScatter = recScatterRowsCpu(table, C, perm, B, base, drows);
      expectClose(await tt.read(), afterScatter, { atol: 0, rtol: 0 }, 'scatter');
      await run(gpu, await recScatterRows(gpu, { perm: tp, dtable: tt, B, base, clear: true }));
      expectClose(await tt.read(), recScatterRowsCpu(afterScatter, C, perm, B, base), { atol: 0, rtol: 0 }, 'clear');
      for (const t of [tt, tr, tp]) t.dispose();
    }
  });
});

describe('recMultiHot', () => {
  it('writes normalised multi-hot rows with seeded item dropout, like the reference', async () => {
    const gpu = await testGpu();
    const seedBuf = createSeedBuffer(gpu);
    for (const [B, N, U, base, drop, seed] of [
      [1, 1, 2, 0, 0, 0],
      [5, 13, 7, 2, 0.5, 7],
      [9, 1031, 12, 3, 0.25, 123456789],
    ] as const) {
      const r = rng(B + N);
      const perm = Uint32Array.from({ length: base + B }, (_, i) => (i % 4 === 3 ? U + 1 : Math.floor(r() * U)));
      const { rowptr, items } = csr(U, N, Math.min(N, 40), seed);
      const tp = createTensor(gpu, [perm.length], perm, { dtype: 'u32', label: 'm.p' });
      const tr = createTensor(gpu, [rowptr.length], rowptr, { dtype: 'u32', label: 'm.r' });
      const ti = createTensor(gpu, [items.length], items, { dtype: 'u32', label: 'm.i' });
      const out = createTensor(
        gpu,
        [B, N],
        Float32Array.from({ length: B * N }, () => 9),
        { label: 'm.o' },
      );
      writeSeed(gpu, seedBuf, seed);
      await run(gpu, await recMultiHot(gpu, { perm: tp, rowptr: tr, items: ti, out, seed: seedBuf, base, drop }));
      const ref = recMultiHotCpu(B, N, perm, rowptr, items, base, seed, drop);
      expectClose(await out.read(), ref, { atol: 0, rtol: 1e-6 }, `multi-hot ${B}x${N} drop ${drop}`);
      if (drop > 0) expect(ref.filter((x) => x > 0).length).toBeLessThan(items.length);
      for (const t of [tp, tr, ti, out]) t.dispose();
    }
    seedBuf.destroy();
  });
});
