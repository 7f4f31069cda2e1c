import { describe, expect, it } from 'vitest';
import { encodeDispatches, run } from '../src/gpu/dispatch.js';
import { createTensor, Tensor, type Tensor as T } from '../src/gpu/tensor.js';
import {
  CLUSTER,
  clusterApply,
  clusterAssign,
  clusterChunks,
  clusterReduceWidth,
  clusterReduce,
  clusterSgd,
  clusterUpdate,
  createClusterState,
  kmeansIteration,
} from '../src/kernels/cluster.js';
import {
  CLUSTER_CHUNK_CPU,
  CLUSTER_NONE_CPU,
  clusterReduceWidthCpu,
  clusterApplyCpu,
  clusterAssignCpu,
  clusterReduceCpu,
  clusterSgdCpu,
  clusterUpdateCpu,
  kmeansCpu,
} from '../src/reference/cluster.js';
import type { Gpu } from '../src/gpu/device.js';
import { expectClose, randn, rng, testGpu, uniform } from './helpers.js';

function randomMask(n: number, keep: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < keep ? 1 : 0));
}

function masked(w: Float32Array, m: Float32Array): Float32Array {
  return w.map((x, i) => (m[i] === 0 ? 0 : x));
}

function linearInit(w: Float32Array, m: Float32Array, K: number): Float32Array {
  let lo = Infinity,
    hi = -Infinity;
  w.forEach((x, i) => {
    if (m[i] !== 0) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
  });
  if (lo > hi) return new Float32Array(K);
  return Float32Array.from({ length: K }, (_, k) => (K === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * k) / (K - 1)));
}

async function gpuAssign(gpu: Gpu, w: Float32Array, m: Float32Array, c: Float32Array): Promise<Uint32Array> {
  const tw = createTensor(gpu, [w.length], w),
    tm = createTensor(gpu, [w.length], m),
    tc = createTensor(gpu, [c.length], c);
  const ta = createTensor(gpu, [w.length], undefined, { dtype: 'u32' });
  await run(gpu, await clusterAssign(gpu, { w: tw, mask: tm, centroids: tc, assign: ta }));
  const out = await ta.read();
  for (const t of [tw, tm, tc, ta]) t.dispose();
  return out;
}

async function gpuReduce(gpu: Gpu, v: Float32Array, a: Uint32Array, K: number): Promise<{ sums: Float32Array; counts: Uint32Array }> {
  const s = createClusterState(gpu, v.length, K);
  const tv = createTensor(gpu, [v.length], v);
  s.assign.write(a);
  await run(
    gpu,
    await clusterReduce(gpu, {
      values: tv,
      assign: s.assign,
      partialSums: s.partialSums,
      partialCounts: s.partialCounts,
      sums: s.sums,
      counts: s.counts,
    }),
  );
  const out = { sums: await s.sums.read(), counts: await s.counts.read() };
  s.dispose();
  tv.dispose();
  return out;
}

describe('cluster: assign', () => {
  const cases: [number, number, number][] = [
    [1, 1, 1],
    [1, 32, 1],
    [7, 3, 0.6],
    [257, 32, 0.5],
    [4097, 256, 0.3],
    [100_000, 32, 0.1],
    [100_000, 256, 0.9],
  ];
  for (const [n, K, keep] of cases) {
    it(`matches the reference exactly: n=${n}, K=${K}, keep ${keep}`, async () => {
      const gpu = await testGpu();
      const w = randn(n, n + K, 0.1);
      const m = n === 1 ? new Float32Array([1]) : randomMask(n, keep, n * 7 + K);
      const c = Float32Array.from(randn(K, K + 3, 0.1)).sort();
      const got = await gpuAssign(gpu, w, m, c);
      const want = clusterAssignCpu(w, m, c);
      expect(Array.from(got)).toEqual(Array.from(want));
      for (let i = 0; i < n; i++) expect(got[i] === CLUSTER.NONE).toBe(m[i] === 0);
    });
  }

  it('ties go to the lower index (equal distances and duplicate centroids)', async () => {
    const gpu = await testGpu();
    const w = new Float32Array([0.5, 0.25, 0, -1, 2, 0.75]);
    const m = new Float32Array(6).fill(1);
    expect(Array.from(await gpuAssign(gpu, w, m, new Float32Array([0, 1])))).toEqual([0, 0, 0, 0, 1, 1]);
    expect(Array.from(await gpuAssign(gpu, w, m, new Float32Array([0.25, 0.25, 0.25])))).toEqual([0, 0, 0, 0, 0, 0]);
    // 0 is exactly between -1 and 1; 0.25 between 0 and 0.5 (exact in f32)
    expect(Array.from(await gpuAssign(gpu, new Float32Array([0, 0.25]), new Float32Array([1, 1]), new Float32Array([1, -1, 0.5, 0])))).toEqual([
      3, 2,
    ]);
    expect(Array.from(await gpuAssign(gpu, new Float32Array([0]), new Float32Array([1]), new Float32Array([1, -1])))).toEqual([0]);
  });

  it('all pruned: every assignment is NONE, sums/counts are 0, centroids keep their values, weights become 0', async () => {
    const gpu = await testGpu();
    const n = 1000,
      K = 8;
    const w = randn(n, 1),
      m = new Float32Array(n);
    const init = Float32Array.from({ length: K }, (_, k) => k / 10);
    const s = createClusterState(gpu, n, K, { centroids: init });
    const tw = createTensor(gpu, [n], w),
      tm = createTensor(gpu, [n], m);
    await run(gpu, [
      ...(await kmeansIteration(gpu, tw, tm, s)),
      ...(await clusterAssign(gpu, { w: tw, mask: tm, centroids: s.centroids, assign: s.assign })),
      ...(await clusterApply(gpu, { w: tw, mask: tm, assign: s.assign, centroids: s.centroids })),
    ]);
    expect((await s.assign.read()).every((a) => a === CLUSTER_NONE_CPU)).toBe(true);
    expect(Array.from(await s.counts.read())).toEqual(new Array(K).fill(0));
    expect(Array.from(await s.sums.read())).toEqual(new Array(K).fill(0));
    expect(Array.from(await s.centroids.read())).toEqual(Array.from(init));
    expect((await tw.read()).every((x) => x === 0)).toBe(true);
    s.dispose();
    tw.dispose();
    tm.dispose();
  });
});

describe('cluster: reduce, update, sgd, apply', () => {
  const sizes: [number, number][] = [
    [1, 1],
    [5, 256],
    [4096, 16],
    [4097, 32],
    [3 * CLUSTER_CHUNK_CPU + 129, 256],
    [100_000, 32],
  ];
  for (const [n, K] of sizes) {
    it(`reduce matches the reference: n=${n}, K=${K}`, async () => {
      const gpu = await testGpu();
      const v = randn(n, n ^ K, 0.05);
      const r = rng(n + 11);
      const a = Uint32Array.from({ length: n }, () => (r() < 0.2 ? CLUSTER_NONE_CPU : Math.floor(r() * K)));
      const got = await gpuReduce(gpu, v, a, K);
      const want = clusterReduceCpu(v, a, K);
      expect(Array.from(got.counts)).toEqual(Array.from(want.counts));
      // the kernel's order of additions is reproduced by the reference: bit-identical sums
      expect(Array.from(got.sums)).toEqual(Array.from(want.sums));
      // and against a plain f64 sum
      const f64 = new Float64Array(K);
      a.forEach((c, i) => {
        if (c < K) f64[c]! += v[i]!;
      });
      expectClose(got.sums, f64, { atol: 1e-4, rtol: 1e-4 }, 'sums vs f64');
    });
  }

  it('K larger than the number of kept weights: empty clusters keep their centroids', async () => {
    const gpu = await testGpu();
    const w = new Float32Array([0.1, -0.2, 0.3, 0.4, 9]);
    const m = new Float32Array([1, 1, 0, 1, 0]);
    const K = 256;
    const init = Float32Array.from({ length: K }, (_, k) => -1 + (2 * k) / (K - 1));
    const s = createClusterState(gpu, w.length, K, { centroids: init });
    const tw = createTensor(gpu, [w.length], w),
      tm = createTensor(gpu, [w.length], m);
    await run(gpu, await kmeansIteration(gpu, tw, tm, s));
    const ref = kmeansCpu(w, m, init, 1);
    const got = await s.centroids.read();
    expect(Array.from(got)).toEqual(Array.from(ref.centroids));
    const counts = await s.counts.read();
    expect(counts.reduce((x, y) => x + y, 0)).toBe(3);
    // the three members' clusters moved exactly onto them; all others unchanged
    let moved = 0;
    for (let k = 0; k < K; k++) if (got[k] !== init[k]) moved++;
    expect(moved).toBeLessThanOrEqual(3);
    for (const x of [0.1, -0.2, 0.4]) expect(got.includes(Math.fround(x))).toBe(true);
    s.dispose();
    tw.dispose();
    tm.dispose();
  });

  it('update, sgd and apply match the reference; pruned weights are written as exactly 0', async () => {
    const gpu = await testGpu();
    const n = 5000,
      K = 16;
    const w = randn(n, 4, 0.2),
      m = randomMask(n, 0.3, 5);
    const c0 = linearInit(w, m, K);
    const a = clusterAssignCpu(w, m, c0);
    const { sums, counts } = clusterReduceCpu(w, a, K);
    const s = createClusterState(gpu, n, K, { centroids: c0 });
    s.sums.write(sums);
    s.counts.write(counts);
    s.assign.write(a);
    await run(gpu, await clusterUpdate(gpu, { centroids: s.centroids, sums: s.sums, counts: s.counts }));
    const c1 = clusterUpdateCpu(c0, sums, counts);
    expectClose(await s.centroids.read(), c1, { atol: 0, rtol: 1e-6 }, 'update');
    s.centroids.write(c1);
    const g = randn(K, 9);
    s.sums.write(g);
    await run(gpu, await clusterSgd(gpu, { centroids: s.centroids, grads: s.sums, lr: 0.03 }));
    const c2 = clusterSgdCpu(c1, g, 0.03);
    expectClose(await s.centroids.read(), c2, { atol: 1e-7, rtol: 1e-6 }, 'sgd');
    s.centroids.write(c2);
    const tw = createTensor(gpu, [n], w),
      tm = createTensor(gpu, [n], m);
    await run(gpu, await clusterApply(gpu, { w: tw, mask: tm, assign: s.assign, centroids: s.centroids }));
    const out = await tw.read();
    expect(Array.from(out)).toEqual(Array.from(clusterApplyCpu(m, a, c2)));
    for (let i = 0; i < n; i++) {
      if (m[i] === 0) expect(Object.is(out[i], 0)).toBe(true);
      else expect(c2.includes(out[i]!)).toBe(true);
    }
    s.dispose();
    tw.dispose();
    tm.dispose();
  });

  it("the gradient reduce is the sum of each centroid's members' gradients", async () => {
    const gpu = await testGpu();
    const n = 9000,
      K = 32;
    const w = randn(n, 12, 0.1),
      m = randomMask(n, 0.25, 13),
      grad = randn(n, 14, 0.01);
    const a = clusterAssignCpu(w, m, linearInit(w, m, K));
    const got = await gpuReduce(gpu, grad, a, K);
    const f64 = new Float64Array(K);
    a.forEach((c, i) => {
      if (c < K) f64[c]! += grad[i]!;
    });
    expectClose(got.sums, f64, { atol: 1e-6, rtol: 1e-4 }, 'gradient sums');
    expectClose(got.sums, clusterReduceCpu(grad, a, K).sums, { atol: 1e-7, rtol: 1e-6 }, 'gradient sums (f32 order)');
  });
});

describe('cluster: k-means on the GPU', () => {
  it('L iterations recorded into one encoder converge to the reference centroids for a fixed init (100k weights)', async () => {
    const gpu = await testGpu();
    const n = 100_000,
      K = 32,
      L = 12;
    // a mixture: most weights near 0, some wider
    const w = randn(n, 21, 0.05).map((x, i) => (i % 7 === 0 ? x * 6 : x));
    const m = randomMask(n, 0.3, 22);
    const init = linearInit(w, m, K);
    const ref = kmeansCpu(w, m, init, L);
    const s = createClusterState(gpu, n, K, { centroids: init });
    const tw = createTensor(gpu, [n], w),
      tm = createTensor(gpu, [n], m);
    const iter = await kmeansIteration(gpu, tw, tm, s);
    const fin = [
      ...(await clusterAssign(gpu, { w: tw, mask: tm, centroids: s.centroids, assign: s.assign })),
      ...(await clusterApply(gpu, { w: tw, mask: tm, assign: s.assign, centroids: s.centroids })),
    ];
    const enc = gpu.device.createCommandEncoder({ label: 'kmeans test' });
    for (let t = 0; t < L; t++) encodeDispatches(enc, iter);
    encodeDispatches(enc, fin);
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    gpu.check();
    const c = await s.centroids.read();
    expectClose(c, ref.centroids, { atol: 1e-6, rtol: 1e-5 }, 'centroids');
    const a = await s.assign.read();
    let diff = 0;
    for (let i = 0; i < n; i++) if (a[i] !== ref.assign[i]) diff++;
    expect(diff).toBeLessThanOrEqual(n * 1e-4);
    const out = await tw.read();
    for (let i = 0; i < n; i++) {
      if (m[i] === 0) expect(out[i]).toBe(0);
      else expect(out[i]).toBe(c[a[i]!]);
    }
    // the mean squared quantisation error fell below that of the initial codebook
    const err = (cb: Float32Array) => {
      const as = clusterAssignCpu(w, m, cb);
      let e = 0;
      for (let i = 0; i < n; i++) if (m[i] !== 0) e += (w[i]! - cb[as[i]!]!) ** 2;
      return e;
    };
    expect(err(c)).toBeLessThan(err(init));
    for (const d of [...iter, ...fin]) for (const b of d.owned ?? []) b.destroy();
    s.dispose();
    tw.dispose();
    tm.dispose();
  });

  it('works on views into a larger buffer and leaves the elements around them untouched', async () => {
    const gpu = await testGpu();
    const align = gpu.limits.minStorageBufferOffsetAlignment / 4;
    const total = align * 4 + 300;
    const all = uniform(total, 31),
      mall = randomMask(total, 0.5, 32);
    const wbuf = createTensor(gpu, [total], all),
      mbuf = createTensor(gpu, [total], mall);
    const off = align * 2,
      n = 301 - 1;
    const view = (t: T) => new Tensor(gpu, t.buffer, [n], 'f32', off * 4, false);
    const K = 4;
    const s = createClusterState(gpu, n, K, { centroids: new Float32Array([-0.5, -0.1, 0.1, 0.5]) });
    await run(gpu, [
      ...(await kmeansIteration(gpu, view(wbuf), view(mbuf), s)),
      ...(await clusterAssign(gpu, { w: view(wbuf), mask: view(mbuf), centroids: s.centroids, assign: s.assign })),
      ...(await clusterApply(gpu, { w: view(wbuf), mask: view(mbuf), assign: s.assign, centroids: s.centroids })),
    ]);
    const out = await wbuf.read();
    const ref = kmeansCpu(all.slice(off, off + n), mall.slice(off, off + n), new Float32Array([-0.5, -0.1, 0.1, 0.5]), 1);
    expectClose(out.slice(off, off + n), ref.weights, { atol: 1e-7, rtol: 1e-6 }, 'view');
    expect(Array.from(out.slice(0, off))).toEqual(Array.from(all.slice(0, off)));
    expect(Array.from(out.slice(off + n))).toEqual(Array.from(all.slice(off + n)));
    expect(masked(out.slice(off, off + n), mall.slice(off, off + n))).toEqual(out.slice(off, off + n));
    s.dispose();
    wbuf.dispose();
    mbuf.dispose();
  });
});

describe('cluster: bad input', () => {
  it('refuses wrong shapes, dtypes, K and shared buffers with clear errors', async () => {
    const gpu = await testGpu();
    const w = createTensor(gpu, [10]),
      m = createTensor(gpu, [10]),
      m9 = createTensor(gpu, [9]);
    const c = createTensor(gpu, [4]),
      c300 = createTensor(gpu, [300]);
    const a = createTensor(gpu, [10], undefined, { dtype: 'u32' }),
      af = createTensor(gpu, [10]);
    await expect(clusterAssign(gpu, { w, mask: m9, centroids: c, assign: a })).rejects.toThrow(
      /cluster: mask must have 10 elements \(like w\), got shape \[9\]/,
    );
    await expect(clusterAssign(gpu, { w, mask: m, centroids: c300, assign: a })).rejects.toThrow(/centroids must hold K ≤ 256 values .* got 300/);
    await expect(clusterAssign(gpu, { w, mask: m, centroids: c, assign: af })).rejects.toThrow(/assign must have dtype u32, got f32/);
    await expect(clusterAssign(gpu, { w, mask: m, centroids: w, assign: a })).rejects.toThrow(/centroids and w must be in different GPU buffers/);
    await expect(clusterSgd(gpu, { centroids: c, grads: c300, lr: 0.1 })).rejects.toThrow(/grads must have 4 elements/);
    await expect(clusterSgd(gpu, { centroids: c, grads: createTensor(gpu, [4]), lr: NaN })).rejects.toThrow(/lr must be a finite number, got NaN/);
    const s = createClusterState(gpu, 10, 4);
    await expect(
      clusterReduce(gpu, {
        values: w,
        assign: s.assign,
        partialSums: createTensor(gpu, [2]),
        partialCounts: s.partialCounts,
        sums: s.sums,
        counts: s.counts,
      }),
    ).rejects.toThrow(/partialSums must hold at least chunks·K = 1·4 = 4 values for n = 10, got 2/);
    expect(() => createClusterState(gpu, 10, 257)).toThrow(/K must be an integer in \[1, 256\], got 257/);
    expect(() => createClusterState(gpu, 0, 4)).toThrow(/n must be a positive integer, got 0/);
    expect(clusterChunks(1)).toBe(1);
    expect(clusterChunks(CLUSTER.CHUNK + 1)).toBe(2);
    expect(CLUSTER.CHUNK).toBe(CLUSTER_CHUNK_CPU);
    for (const K of [1, 2, 31, 32, 33, 64, 65, 128, 200, 256]) expect(clusterReduceWidth(K)).toBe(clusterReduceWidthCpu(K));
    w.dispose();
    await expect(clusterApply(gpu, { w, mask: m, assign: a, centroids: c })).rejects.toThrow(/w was disposed/);
    s.dispose();
  });
});
