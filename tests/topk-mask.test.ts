import { describe, expect, it } from 'vitest';
import { createTensor, encodeDispatches, ops, Tensor } from '../src/index.js';
import { kFor, TOPK_BLOCK, topkMask } from '../src/kernels/topk-mask.js';
import { kForCpu, topkAbsBits, topkMaskCpu, topkMaskCpuK } from '../src/reference/topk-mask.js';
import { randn, rng, testGpu } from './helpers.js';

const SPARSITIES = [0, 0.1, 0.5, 0.77, 0.9, 0.999, 1];

function countKept(m: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < m.length; i++) c += m[i]!;
  return c;
}

/** Index of the first element where a and b differ, or -1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectSameMask(got: Float32Array, ref: Float32Array, what: string): void {
  const i = firstDiff(got, ref);
  if (i >= 0)
    throw new Error(
      `${what}: mask differs from the reference at [${i}]: got ${got[i]}, expected ${ref[i]} (kept ${countKept(got)} vs ${countKept(ref)})`,
    );
}

/** Values drawn from a few levels (heavy ties), both signs. */
function levels(n: number, seed: number, nLevels: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * Math.floor(r() * nLevels) * 0.25);
}

/**
 * Checks that `mask` (0/1) is THE top-k mask of `w` without sorting: k kept, every kept |w| ≥ every
 * dropped |w| (by bits), and the kept elements equal to the threshold are the first ones in index
 * order. Together these determine the mask uniquely.
 */
function checkTopkProperty(w: Float32Array, mask: Float32Array, k: number, what: string): void {
  const bits = topkAbsBits(w);
  let kept = 0,
    minKept = 0xffffffff,
    maxDropped = -1;
  for (let i = 0; i < bits.length; i++) {
    const m = mask[i]!;
    if (m === 1) {
      kept++;
      if (bits[i]! < minKept) minKept = bits[i]!;
    } else if (m === 0) {
      if (bits[i]! > maxDropped) maxDropped = bits[i]!;
    } else throw new Error(`${what}: mask[${i}] = ${m}, not 0 or 1`);
  }
  expect(kept, `${what}: kept`).toBe(k);
  if (k === 0 || k === bits.length) return;
  expect(minKept >= maxDropped, `${what}: min kept |w| bits ${minKept} ≥ max dropped ${maxDropped}`).toBe(true);
  if (minKept === maxDropped) {
    // ties at the threshold: kept ones come first
    let seenDropped = false;
    for (let i = 0; i < bits.length; i++) {
      if (bits[i] !== minKept) continue;
      if (mask[i] === 0) seenDropped = true;
      else if (seenDropped) throw new Error(`${what}: tie at index ${i} kept after a dropped tie`);
    }
  }
}

describe('topkMask against the CPU reference', () => {
  it('kFor rounds (1 − s)·n', () => {
    expect(kFor(10, 0.25)).toBe(8);
    expect(kFor(10, 0.3)).toBe(7);
    expect(kFor(1, 0.5)).toBe(1);
    expect(kFor(1, 0.51)).toBe(0);
    expect(kFor(7, 0)).toBe(7);
    expect(kFor(7, 1)).toBe(0);
    expect(kFor(0, 0.5)).toBe(0);
    for (const n of [1, 3, 1000, 10_000_000]) for (const s of SPARSITIES) expect(kFor(n, s)).toBe(kForCpu(n, s));
  });

  it('exactly k kept for awkward n and every sparsity (normal weights)', async () => {
    const gpu = await testGpu();
    const NS = [1, 2, 3, 4, 5, 7, 13, 64, 97, 1000, 4099, TOPK_BLOCK - 1, TOPK_BLOCK, TOPK_BLOCK + 1, 65537, 100003];
    for (const n of NS) {
      const w = randn(n, n * 31 + 7);
      const t = createTensor(gpu, [n], w);
      for (const s of SPARSITIES) {
        const m = await ops.topkMask(t, s);
        const got = await m.read();
        expect(countKept(got), `n=${n} s=${s}`).toBe(kFor(n, s));
        expectSameMask(got, topkMaskCpu(w, s), `n=${n} s=${s}`);
        m.dispose();
      }
      t.dispose();
    }
  });

  it('2-D weights: the mask has the same shape', async () => {
    const gpu = await testGpu();
    const w = randn(37 * 53, 5);
    const t = createTensor(gpu, [37, 53], w);
    const m = await ops.topkMask(t, 0.6);
    expect(m.shape).toEqual([37, 53]);
    expectSameMask(await m.read(), topkMaskCpu(w, 0.6), '37x53');
  });

  it('all-equal weights keep the first k indices; signs do not matter', async () => {
    const gpu = await testGpu();
    for (const n of [1, 5, 1000, 3 * TOPK_BLOCK + 11]) {
      const w = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -0.5 : 0.5));
      const t = createTensor(gpu, [n], w);
      for (const s of SPARSITIES) {
        const k = kFor(n, s);
        const got = await (await ops.topkMask(t, s)).read();
        const want = Float32Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
        expectSameMask(got, want, `all equal n=${n} s=${s}`);
      }
    }
  });

  it('many duplicates, negatives and zeros (ties across blocks)', async () => {
    const gpu = await testGpu();
    for (const [n, nLevels] of [
      [100003, 4],
      [100003, 50],
      [70001, 1000],
      [5000, 2],
    ] as const) {
      const w = levels(n, n + nLevels, nLevels);
      const t = createTensor(gpu, [n], w);
      for (const s of [...SPARSITIES, 0.33, 0.66]) {
        const got = await (await ops.topkMask(t, s)).read();
        expectSameMask(got, topkMaskCpu(w, s), `levels n=${n} L=${nLevels} s=${s}`);
      }
    }
  });

  it('every k from 0 to n on a small tie-heavy tensor', async () => {
    const gpu = await testGpu();
    const n = 23;
    const w = levels(n, 99, 3);
    const t = createTensor(gpu, [n], w);
    for (let k = 0; k <= n; k++) {
      const s = 1 - k / n;
      expect(kFor(n, s)).toBe(k);
      const got = await (await ops.topkMask(t, s)).read();
      expect(countKept(got)).toBe(k);
      expectSameMask(got, topkMaskCpuK(w, k), `k=${k}`);
    }
  });

  it('zeros, −0, denormals, ±Inf and NaN (NaN counts as the largest |w|)', async () => {
    const gpu = await testGpu();
    const w = new Float32Array(12);
    const u = new Uint32Array(w.buffer);
    w.set([0, -0, 1e-45, -1e-45, 1e-40, 1, -1, Infinity, -Infinity, 0, 0, 0]);
    u[9] = 0x7fc00000; // NaN
    u[10] = 0xffc00001; // −NaN with another payload
    u[11] = 0x80000000; // −0
    const t = createTensor(gpu, [12], w);
    for (let k = 0; k <= 12; k++) {
      const got = await (await ops.topkMask(t, 1 - k / 12)).read();
      expectSameMask(got, topkMaskCpuK(w, k), `special k=${k}`);
    }
    // k = 2: the two NaNs; k = 4: and both infinities
    const two = await (await ops.topkMask(t, 1 - 2 / 12)).read();
    expect([...two].map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([9, 10]);
    const four = await (await ops.topkMask(t, 1 - 4 / 12)).read();
    expect([...four].map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([7, 8, 9, 10]);
    // the smallest denormal ties (2, 3): with 8 kept only index 2 survives; with 10 kept both do,
    // and of the three zeros (0, −0 at 1 and 11) index 0 comes first
    const kept = async (k: number) => [...(await (await ops.topkMask(t, 1 - k / 12)).read())].map((v, i) => (v ? i : -1)).filter((i) => i >= 0);
    expect(await kept(8)).toEqual([2, 4, 5, 6, 7, 8, 9, 10]);
    expect(await kept(10)).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('global pruning over views of one buffer: concatenation order, gaps untouched', async () => {
    const gpu = await testGpu();
    const size = 100_000;
    // out of offset order, with gaps; ties between views are broken by view order
    const views = [
      { offset: 50_000, length: 3001 },
      { offset: 10, length: 20_000 },
      { offset: 30_011, length: 7 },
      { offset: 70_001, length: 29_000 },
    ];
    for (const [name, w] of [
      ['normal', randn(size, 3)],
      ['levels', levels(size, 4, 6)],
      ['equal', new Float32Array(size).fill(-2)],
    ] as const) {
      const t = createTensor(gpu, [size], w);
      for (const s of [0, 0.25, 0.5, 0.9, 1]) {
        const sentinel = new Float32Array(size).fill(7);
        const mask = createTensor(gpu, [size], sentinel);
        const out = await ops.topkMask(t, s, { views, mask });
        expect(out).toBe(mask);
        const got = await mask.read();
        expectSameMask(got, topkMaskCpu(w, s, { views, mask: sentinel }), `views ${name} s=${s}`);
        let total = 0;
        for (const v of views) total += v.length;
        let kept = 0,
          untouched = 0;
        for (let i = 0; i < size; i++) {
          if (got[i] === 1) kept++;
          if (got[i] === 7) untouched++;
        }
        expect(kept).toBe(kFor(total, s));
        expect(untouched).toBe(size - total);
        mask.dispose();
      }
      if (name === 'equal') {
        // all tie: the first k in view order are views[0] (offset 50 000), then views[1] (offset 10)
        const m = await (await ops.topkMask(t, 1 - 4000 / 52_008, { views })).read();
        expect(countKept(m)).toBe(4000);
        expect(m.subarray(50_000, 53_001).every((v) => v === 1)).toBe(true);
        expect(m.subarray(10, 10 + 999).every((v) => v === 1)).toBe(true);
        expect(m[10 + 999]).toBe(0);
      }
      t.dispose();
    }
  });

  it('weights as a view at an offset inside a larger buffer (the parameter arena)', async () => {
    const gpu = await testGpu();
    const align = gpu.limits.minStorageBufferOffsetAlignment;
    const before = (align / 4) * 3,
      n = 40_003,
      after = 17;
    const all = randn(before + n + after, 8);
    const arena = createTensor(gpu, [before + n + after], all);
    const w = new Tensor(gpu, arena.buffer, [n], 'f32', before * 4, false);
    const maskArena = createTensor(gpu, [before + n + after], new Float32Array(before + n + after).fill(5));
    const mask = new Tensor(gpu, maskArena.buffer, [n], 'f32', before * 4, false);
    const views = [
      { offset: 1, length: 20_000 },
      { offset: 20_002, length: 20_000 },
    ];
    await ops.topkMask(w, 0.7, { views, mask });
    const got = await maskArena.read();
    const wv = all.slice(before, before + n);
    const ref = topkMaskCpu(wv, 0.7, { views, mask: new Float32Array(n).fill(5) });
    expectSameMask(got.subarray(before, before + n), ref, 'arena view');
    expect(got.subarray(0, before).every((v) => v === 5)).toBe(true);
    expect(got.subarray(before + n).every((v) => v === 5)).toBe(true);
  });

  it('10M weights: exact count, threshold property and tie order', async () => {
    const gpu = await testGpu();
    const n = 10_000_000;
    for (const [name, w, s] of [
      ['normal', randn(n, 77), 0.9],
      ['levels', levels(n, 78, 64), 0.37],
    ] as const) {
      const t = createTensor(gpu, [n], w);
      const m = await ops.topkMask(t, s);
      checkTopkProperty(w, await m.read(), kFor(n, s), `10M ${name}`);
      t.dispose();
      m.dispose();
    }
  });

  it('deterministic; one plan re-recorded with k changed on the GPU and scratch reused', async () => {
    const gpu = await testGpu();
    const n = 3 * TOPK_BLOCK + 123;
    const w = levels(n, 5, 8);
    const t = createTensor(gpu, [n], w);
    const a = await (await ops.topkMask(t, 0.45)).read();
    const b = await (await ops.topkMask(t, 0.45)).read();
    expect(firstDiff(a, b)).toBe(-1);

    const mask = createTensor(gpu, [n]);
    const k = createTensor(gpu, [1], [kFor(n, 0.5)], { dtype: 'u32' });
    const plan = await topkMask(gpu, { weights: t, mask, k });
    const plan2 = await topkMask(gpu, { weights: t, mask, k, scratch: plan.scratch });
    expect(plan2.scratch.every((s, i) => s === plan.scratch[i])).toBe(true);
    for (const kk of [kFor(n, 0.5), 0, n, 12345, n + 10]) {
      k.write([kk]);
      const enc = gpu.device.createCommandEncoder();
      encodeDispatches(enc, plan.dispatches);
      encodeDispatches(enc, plan.dispatches); // twice in one encoder: init resets the state
      gpu.device.queue.submit([enc.finish()]);
      const got = await mask.read();
      expectSameMask(got, topkMaskCpuK(w, kk), `plan k=${kk}`);
      expect(countKept(got)).toBe(Math.min(kk, n));
    }
    for (const s of plan.scratch) s.dispose();
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const w = createTensor(gpu, [10]);
    for (const s of [NaN, -0.1, 1.5, Infinity, '0.5' as unknown as number]) {
      await expect(ops.topkMask(w, s)).rejects.toThrow(/topkMask: sparsity must be in \[0, 1\]/);
    }
    await expect(
      ops.topkMask(w, 0.5, {
        views: [
          { offset: 0, length: 5 },
          { offset: 4, length: 3 },
        ],
      }),
    ).rejects.toThrow(/views\[0\] \(0\.\.5\) and views\[1\] \(4\.\.7\) overlap/);
    await expect(ops.topkMask(w, 0.5, { views: [{ offset: 8, length: 3 }] })).rejects.toThrow(
      /views\[0\] = \(offset 8, length 3\) ends at 11, beyond the 10 elements of weights/,
    );
    await expect(ops.topkMask(w, 0.5, { views: [{ offset: 1.5, length: 3 }] })).rejects.toThrow(/views\[0\]\.offset must be a non-negative integer/);
    await expect(ops.topkMask(w, 0.5, { views: [{ offset: 1, length: 0 }] })).rejects.toThrow(/views\[0\]\.length must be a positive integer/);
    await expect(ops.topkMask(w, 0.5, { views: [] })).rejects.toThrow(/views must be a non-empty array/);
    await expect(ops.topkMask(w, 0.5, { mask: createTensor(gpu, [11]) })).rejects.toThrow(
      /mask must have the 10 elements of weights, got shape \[11\]/,
    );
    await expect(ops.topkMask(w, 0.5, { mask: createTensor(gpu, [10], undefined, { dtype: 'u32' }) })).rejects.toThrow(/mask must have dtype f32/);
    await expect(ops.topkMask(createTensor(gpu, [10], undefined, { dtype: 'i32' }), 0.5)).rejects.toThrow(/weights must have dtype f32/);
    await expect(
      topkMask(gpu, { weights: w, mask: createTensor(gpu, [10]), k: createTensor(gpu, [2], undefined, { dtype: 'u32' }) }),
    ).rejects.toThrow(/k must hold one u32, got shape \[2\]/);
    await expect(topkMask(gpu, { weights: w, mask: createTensor(gpu, [10]), k: createTensor(gpu, [1]) })).rejects.toThrow(/k must have dtype u32/);
    expect(() => kFor(10, 2)).toThrow(/sparsity must be in \[0, 1\], got 2/);
  });
});
