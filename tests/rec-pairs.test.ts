// rec-pairs kernels against the CPU reference on awkward shapes (one item, primes, padding rows,
// a user without items, a user holding every item), the sampling bit for bit (integer hash twin),
// the BPR gradient by finite differences, and bad input.
import { describe, expect, it } from 'vitest';
import { run } from '../src/gpu/dispatch.js';
import { createTensor, type Tensor } from '../src/gpu/tensor.js';
import type { Gpu } from '../src/gpu/device.js';
import {
  recBpr,
  recBprDense,
  recPairGmf,
  recPairMul,
  recPairRelu,
  recPairSample,
  recPairScore,
  recPairScore1,
  recSegmentSum,
} from '../src/kernels/rec-pairs.js';
import { createSeedBuffer, writeSeed } from '../src/kernels/rec-softmax.js';
import {
  recBprCpu,
  recBprDenseCpu,
  recPairMulCpu,
  recPairSampleCpu,
  recPairScore1Cpu,
  recPairScoreCpu,
  recPairTableCpu,
  recSegmentSumCpu,
} from '../src/reference/rec-pairs.js';
import { expectClose, rng, testGpu, uniform } from './helpers.js';

/** U users of N items: user 0 has none, user 1 has all of them, the others 1..most. */
function csr(U: number, N: number, most: number, seed: number) {
  const r = rng(seed);
  const ptr = [0],
    items: number[] = [];
  for (let u = 0; u < U; u++) {
    const s = new Set<number>();
    if (u === 1) for (let i = 0; i < N; i++) s.add(i);
    else if (u > 1) for (let j = 0, m = 1 + Math.floor(r() * most); j < m; j++) s.add(Math.floor(r() * N));
    items.push(...s);
    ptr.push(items.length);
  }
  return { rowptr: Uint32Array.from(ptr), items: Uint32Array.from(items.length ? items : [0]) };
}

const u32 = (gpu: Gpu, a: Uint32Array) => createTensor(gpu, [a.length], a, { dtype: 'u32', label: 't.u32' });
const f32 = (gpu: Gpu, shape: number[], a?: Float32Array) => createTensor(gpu, shape, a, { label: 't.f32' });

async function sampled(gpu: Gpu, R: number, K: number, N: number, U: number, base: number, seed: number) {
  const c = csr(U, N, Math.min(N, 5), seed);
  const perm = Uint32Array.from({ length: base + R }, (_, i) => (i % 7 === 6 ? U + 1 : (i * 5 + seed) % U));
  const sb = createSeedBuffer(gpu, 't.seed');
  writeSeed(gpu, sb, 0x1234567 + seed);
  const t = {
    perm: u32(gpu, perm),
    rowptr: u32(gpu, c.rowptr),
    items: u32(gpu, c.items),
    pitems: createTensor(gpu, [2 * R * K], undefined, { dtype: 'u32' }),
  };
  await run(gpu, await recPairSample(gpu, { ...t, seed: sb, R, K, N, base }));
  return { gpuItems: await t.pitems.read(), c: { ...c, perm }, seed: 0x1234567 + seed, t, sb };
}

describe('rec-pairs sampling and BPR', () => {
  it('samples the same pairs as the CPU twin, bit for bit; negatives avoid the user’s items', async () => {
    const gpu = await testGpu();
    for (const [R, K, N, U, base] of [
      [1, 1, 1, 2, 0],
      [5, 3, 7, 6, 2],
      [13, 4, 131, 11, 9],
    ] as const) {
      const s = await sampled(gpu, R, K, N, U, base, R + N);
      const ref = recPairSampleCpu(s.c, s.seed, R, K, N, base);
      expect(Array.from(s.gpuItems)).toEqual(Array.from(ref));
      for (let r = 0; r < R; r++) {
        const u = s.c.perm[base + r]!;
        if (u >= U || u < 2) continue; // padding, no items, every item (no negative exists)
        const own = new Set(s.c.items.subarray(s.c.rowptr[u]!, s.c.rowptr[u + 1]!));
        for (let k = 0; k < K; k++) {
          expect(own.has(ref[2 * (r * K + k)]!)).toBe(true);
          if (own.size < N / 2) expect(own.has(ref[2 * (r * K + k) + 1]!)).toBe(false);
        }
      }
      for (const x of Object.values(s.t)) x.dispose();
      s.sb.destroy();
    }
  });

  it('popular negatives: the same pairs as the CPU twin, drawn from the log’s interactions', async () => {
    const gpu = await testGpu();
    const R = 9,
      K = 5,
      N = 41,
      U = 8;
    const c = csr(U, N, 6, 3);
    const perm = Uint32Array.from({ length: R }, (_, i) => (i * 3) % (U + 1));
    const sb = createSeedBuffer(gpu, 't.seed');
    writeSeed(gpu, sb, 99);
    const t = {
      perm: u32(gpu, perm),
      rowptr: u32(gpu, c.rowptr),
      items: u32(gpu, c.items),
      pitems: createTensor(gpu, [2 * R * K], undefined, { dtype: 'u32' }),
    };
    await run(gpu, await recPairSample(gpu, { ...t, seed: sb, R, K, N, negatives: 'popular' }));
    const ref = recPairSampleCpu({ ...c, perm }, 99, R, K, N, 0, true);
    expect(Array.from(await t.pitems.read())).toEqual(Array.from(ref));
    expect(Array.from(ref)).not.toEqual(Array.from(recPairSampleCpu({ ...c, perm }, 99, R, K, N, 0, false)));
    const logged = new Set(c.items);
    for (let m = 1; m < ref.length; m += 2) if (ref[m]! < N) expect(logged.has(ref[m]!)).toBe(true);
    await expect(recPairSample(gpu, { ...t, seed: sb, R, K, N, negatives: 'bogus' as 'popular' })).rejects.toThrow(
      /negatives must be 'uniform' or 'popular'/,
    );
    for (const x of Object.values(t)) x.dispose();
    sb.destroy();
  });

  it('BPR: GPU = float64 reference, and ds is the derivative of scale·Σ loss (finite differences)', async () => {
    const gpu = await testGpu();
    const R = 6,
      K = 3,
      N = 11;
    const s = await sampled(gpu, R, K, N, 9, 1, 4);
    const scores = uniform(2 * R * K, 5, -3, 3);
    const t = { scores: f32(gpu, [2 * R * K], scores), ds: f32(gpu, [2 * R * K]), loss: f32(gpu, [1 + R]) };
    await run(gpu, await recBpr(gpu, { ...t, pitems: s.t.pitems, R, K, N, base: 1, scale: 0.5 }));
    const ref = recBprCpu(scores, s.gpuItems, R, K, N, 0.5);
    expectClose(await t.ds.read(), ref.ds, { atol: 1e-6, rtol: 1e-5 }, 'ds');
    expectClose((await t.loss.read()).subarray(1), ref.loss, { atol: 1e-6, rtol: 1e-5 }, 'loss');
    const total = (x: ArrayLike<number>) => 0.5 * recBprCpu(x, s.gpuItems, R, K, N, 0.5).loss.reduce((a, b) => a + b, 0);
    const h = 1e-6;
    for (let m = 0; m < 2 * R * K; m++) {
      const p = Float64Array.from(scores),
        q = Float64Array.from(scores);
      p[m] += h;
      q[m] -= h;
      expect(Math.abs((total(p) - total(q)) / (2 * h) - ref.ds[m]!)).toBeLessThan(1e-6);
    }
    for (const x of [...Object.values(t), ...Object.values(s.t)]) x.dispose();
    s.sb.destroy();
  });

  it('BPR over a dense score matrix matches the reference (the pairs of recPairSample)', async () => {
    const gpu = await testGpu();
    for (const [R, N, K] of [
      [3, 1, 2],
      [9, 67, 5],
    ] as const) {
      const U = 8;
      const c = csr(U, N, Math.min(N, 4), N);
      const perm = Uint32Array.from({ length: R + 2 }, (_, i) => (i === 4 ? U : (i * 3) % U));
      const scores = uniform(R * N, N, -2, 2);
      const sb = createSeedBuffer(gpu);
      writeSeed(gpu, sb, 77);
      const t = {
        scores: f32(gpu, [R, N], scores),
        perm: u32(gpu, perm),
        rowptr: u32(gpu, c.rowptr),
        items: u32(gpu, c.items),
        ds: f32(gpu, [R, N]),
        loss: f32(gpu, [R + 2]),
      };
      await run(gpu, await recBprDense(gpu, { ...t, seed: sb, K, base: 2 }));
      const ref = recBprDenseCpu(scores, R, N, { ...c, perm }, 77, K, 2);
      expectClose(await t.ds.read(), ref.ds, { atol: 1e-6, rtol: 1e-5 }, `ds ${R}x${N}`);
      expectClose((await t.loss.read()).subarray(2), ref.loss, { atol: 1e-6, rtol: 1e-5 }, `loss ${R}x${N}`);
      for (const x of Object.values(t)) x.dispose();
      sb.destroy();
    }
  });
});

describe('rec-pairs NCF ops', () => {
  it('pair ReLU / GMF / mul / score and segment sums match the reference, sampled and dense pairs', async () => {
    const gpu = await testGpu();
    for (const [R, N, C, J, per] of [
      [1, 1, 1, 1, 0],
      [3, 7, 5, 3, 0],
      [4, 13, 6, 5, 6],
      [2, 5, 9, 7, 3],
    ] as const) {
      const M = per === 0 ? R * N : R * per;
      const pit = Uint32Array.from({ length: Math.max(1, M) }, (_, m) => (m % 5 === 4 ? N : (m * 7) % N));
      const rows = uniform(R * C, 1, -1, 1),
        table = uniform(N * C, 2, -1, 1),
        x = uniform(M * C, 3, -1, 1),
        a = uniform(M * J, 4, -1, 1),
        hg = uniform(C, 5),
        hm = uniform(J, 6),
        bias = uniform(N, 7);
      const own: Tensor[] = [];
      const T = <X extends Tensor>(t: X) => (own.push(t), t);
      const tp = T(u32(gpu, pit)),
        tRows = T(f32(gpu, [R, C], rows)),
        tTable = T(f32(gpu, [N, C], table)),
        tx = T(f32(gpu, [M, C], x));
      const out = T(f32(gpu, [M, C])),
        sc = T(f32(gpu, [M]));
      const tag = `${R}x${N}x${C} per=${per}`;
      for (const op of ['relu', 'gmf'] as const) {
        await run(gpu, await (op === 'relu' ? recPairRelu : recPairGmf)(gpu, { rows: tRows, table: tTable, pitems: tp, out, per }));
        expectClose(await out.read(), recPairTableCpu(op, rows, table, N, C, pit, M, per), { atol: 1e-6, rtol: 1e-5 }, `${op} ${tag}`);
      }
      await run(gpu, await recPairMul(gpu, { x: tx, rows: tRows, pitems: tp, out, per, N }));
      expectClose(await out.read(), recPairMulCpu(x, rows, C, M, per, N, pit), { atol: 1e-6, rtol: 1e-5 }, `mul ${tag}`);
      const args = {
        g: tx,
        hg: T(f32(gpu, [C], hg)),
        a: T(f32(gpu, [M, J], a)),
        hm: T(f32(gpu, [J], hm)),
        bias: T(f32(gpu, [N], bias)),
        pitems: tp,
        out: sc,
        per,
      };
      await run(gpu, await recPairScore(gpu, args));
      expectClose(await sc.read(), recPairScoreCpu(x, hg, a, hm, bias, pit, M, per), { atol: 1e-5, rtol: 1e-5 }, `score ${tag}`);
      if (per > 0) {
        const acc = uniform(R * C, 8);
        const so = T(f32(gpu, [R, C], acc));
        await run(gpu, await recSegmentSum(gpu, { x: tx, out: so, per, pitems: tp, table: tTable, accumulate: true }));
        expectClose(await so.read(), recSegmentSumCpu(x, R, C, per, pit, { t: table, N }, acc), { atol: 1e-5, rtol: 1e-5 }, `segsum× ${tag}`);
        await run(gpu, await recSegmentSum(gpu, { x: tx, out: so, per, pitems: tp }));
        expectClose(await so.read(), recSegmentSumCpu(x, R, C, per, pit), { atol: 1e-5, rtol: 1e-5 }, `segsum ${tag}`);
      }
      for (const t of own) t.dispose();
    }
  });

  it('the fused one-layer score equals the reference on awkward shapes', async () => {
    const gpu = await testGpu();
    for (const [R, N, C, J] of [
      [1, 1, 1, 1],
      [3, 13, 5, 7],
      [17, 67, 3, 9],
    ] as const) {
      const d = {
        ue: uniform(R * C, 1),
        v: uniform(N * C, 2),
        p: uniform(R * J, 3),
        q: uniform(N * J, 4),
        hg: uniform(C, 5),
        hm: uniform(J, 6),
        bias: uniform(N, 7),
      };
      const t = {
        ue: f32(gpu, [R, C], d.ue),
        v: f32(gpu, [N, C], d.v),
        p: f32(gpu, [R, J], d.p),
        q: f32(gpu, [N, J], d.q),
        hg: f32(gpu, [C], d.hg),
        hm: f32(gpu, [J], d.hm),
        bias: f32(gpu, [N], d.bias),
        out: f32(gpu, [R, N]),
      };
      await run(gpu, await recPairScore1(gpu, t));
      expectClose(await t.out.read(), recPairScore1Cpu(d.ue, d.v, d.p, d.q, d.hg, d.hm, d.bias, R), { atol: 1e-5, rtol: 1e-5 }, `score1 ${R}x${N}`);
      for (const x of Object.values(t)) x.dispose();
    }
    const a = f32(gpu, [2, 3]);
    await expect(
      recPairScore1(gpu, {
        ue: a,
        v: a,
        p: a,
        q: f32(gpu, [4, 3]),
        hg: f32(gpu, [3]),
        hm: f32(gpu, [3]),
        bias: f32(gpu, [4]),
        out: f32(gpu, [2, 4]),
      }),
    ).rejects.toThrow(/recPairScore1: shapes disagree/);
  });

  it('refuses bad arguments with named errors', async () => {
    const gpu = await testGpu();
    const a = f32(gpu, [4, 3]),
      b = f32(gpu, [5, 2]),
      p = u32(gpu, new Uint32Array(8));
    await expect(recPairRelu(gpu, { rows: a, table: b, pitems: p, out: f32(gpu, [8, 3]), per: 2 })).rejects.toThrow(
      /recPairRelu: table must have 3 columns/,
    );
    await expect(recPairGmf(gpu, { rows: a, table: f32(gpu, [5, 3]), pitems: p, out: f32(gpu, [9, 3]), per: 2 })).rejects.toThrow(
      /recPairGmf: 9 pairs need/,
    );
    await expect(recSegmentSum(gpu, { x: a, out: f32(gpu, [4, 3]), per: 0, pitems: p })).rejects.toThrow(
      /recSegmentSum: per must be a positive integer/,
    );
    await expect(recBpr(gpu, { scores: f32(gpu, [6]), pitems: p, ds: f32(gpu, [8]), loss: f32(gpu, [2]), R: 2, K: 2, N: 5 })).rejects.toThrow(
      /recBpr: scores must hold 2·R·K = 8/,
    );
    const sb = createSeedBuffer(gpu);
    await expect(
      recPairSample(gpu, { perm: p, rowptr: p, items: p, pitems: u32(gpu, new Uint32Array(2)), seed: sb, R: 2, K: 1, N: 5 }),
    ).rejects.toThrow(/pitems must hold 2·R·K = 4/);
    sb.destroy();
  });
});
