// rankTopk against its CPU reference: awkward shapes (1 item, fewer items than k, primes, rows of
// padding), heavy ties, NaN/−inf scores, exclusion lists, chunked bases into one output, bad input.
import { describe, expect, it } from 'vitest';
import { run } from '../src/gpu/dispatch.js';
import { createTensor } from '../src/gpu/tensor.js';
import { rankTopk, RANK_TOPK_NONE } from '../src/kernels/rank-topk.js';
import { hitAndNdcg, rankTopkCpu } from '../src/reference/rank-topk.js';
import { rng, testGpu } from './helpers.js';

/** CSR of random exclusions: user u gets up to `most` distinct items (some ≥ N, ignored). */
function exclusions(U: number, N: number, most: number, seed: number): { rowptr: Uint32Array; cols: Uint32Array } {
  const r = rng(seed);
  const ptr = [0],
    cols: number[] = [];
  for (let u = 0; u < U; u++) {
    const m = Math.floor(r() * (most + 1));
    const s = new Set<number>();
    for (let j = 0; j < m; j++) s.add(Math.floor(r() * (N + 2)));
    cols.push(...s);
    ptr.push(cols.length);
  }
  return { rowptr: Uint32Array.from(ptr), cols: Uint32Array.from(cols.length ? cols : [0]) };
}

async function check(R: number, N: number, k: number, opts: { U?: number; ties?: boolean; special?: boolean; chunks?: number; seed?: number } = {}) {
  for (const variant of ['lists', 'rounds'] as const) await checkVariant(R, N, k, { ...opts, variant });
}

async function checkVariant(
  R: number,
  N: number,
  k: number,
  opts: { U?: number; ties?: boolean; special?: boolean; chunks?: number; seed?: number; variant: 'lists' | 'rounds' },
) {
  const gpu = await testGpu();
  const seed = opts.seed ?? R * 31 + N;
  const U = opts.U ?? R + 3,
    chunks = opts.chunks ?? 1;
  const r = rng(seed);
  const rows = Uint32Array.from({ length: R * chunks }, (_, i) => (i % 7 === 6 ? U + 1 : Math.floor(r() * U)));
  const { rowptr, cols } = exclusions(U, N, Math.min(N, 9), seed + 1);
  const tRows = createTensor(gpu, [rows.length], rows, { dtype: 'u32', label: 't.rows' });
  const tPtr = createTensor(gpu, [rowptr.length], rowptr, { dtype: 'u32', label: 't.ptr' });
  const tCols = createTensor(gpu, [cols.length], cols, { dtype: 'u32', label: 't.cols' });
  const outIdx = createTensor(gpu, [R * chunks * k], undefined, { dtype: 'u32', label: 't.idx' });
  const outVal = createTensor(gpu, [R * chunks * k], undefined, { label: 't.val' });
  const refIdx = new Uint32Array(R * chunks * k),
    refVal = new Float32Array(R * chunks * k);
  const scoreT = createTensor(gpu, [R, N], undefined, { label: 't.scores' });
  for (let c = 0; c < chunks; c++) {
    const s = Float32Array.from({ length: R * N }, () => (opts.ties ? Math.floor(r() * 3) : r() * 2 - 1));
    if (opts.special) for (let i = 0; i < s.length; i += 5) s[i] = [NaN, -Infinity, Infinity, -0, 1e30][(i / 5) % 5]!;
    scoreT.write(s);
    await run(
      gpu,
      await rankTopk(gpu, { scores: scoreT, rows: tRows, rowptr: tPtr, cols: tCols, outIdx, outVal, k, base: c * R, variant: opts.variant }),
    );
    const ref = rankTopkCpu(s, R, N, k, rows, rowptr, cols, c * R);
    refIdx.set(ref.idx, c * R * k);
    refVal.set(ref.val, c * R * k);
  }
  const [gi, gv] = [await outIdx.read(), await outVal.read()];
  for (let i = 0; i < gi.length; i++) {
    if (gi[i] !== refIdx[i] || !Object.is(gv[i], refVal[i])) {
      throw new Error(
        `${opts.variant} R=${R} N=${N} k=${k}: entry ${i} (row ${Math.floor(i / k)}, rank ${i % k}) is (${gi[i]}, ${gv[i]}), reference (${refIdx[i]}, ${refVal[i]})`,
      );
    }
  }
  for (const t of [tRows, tPtr, tCols, outIdx, outVal, scoreT]) t.dispose();
}

describe('rankTopk', () => {
  it('matches the reference on awkward shapes', async () => {
    await check(1, 1, 1);
    await check(3, 5, 10); // fewer items than k: empty entries
    await check(7, 13, 10);
    await check(17, 131, 10);
    await check(5, 1031, 16);
    await check(2, 64, 1);
  });

  it('breaks ties by lower index and never ranks NaN or −inf', async () => {
    await check(9, 257, 10, { ties: true });
    await check(9, 97, 10, { special: true });
  });

  it('writes chunks at their base into one output', async () => {
    await check(11, 203, 10, { chunks: 3 });
  });

  it('a larger case', async () => {
    await check(64, 5003, 10, { seed: 5 });
  });

  it('refuses bad arguments by name', async () => {
    const gpu = await testGpu();
    const s = createTensor(gpu, [2, 3], undefined, { label: 'b.s' });
    const u = createTensor(gpu, [2], [0, 1], { dtype: 'u32', label: 'b.u' });
    const o = createTensor(gpu, [20], undefined, { dtype: 'u32', label: 'b.o' });
    const v = createTensor(gpu, [20], undefined, { label: 'b.v' });
    const args = { scores: s, rows: u, rowptr: u, cols: u, outIdx: o, outVal: v, k: 10 };
    await expect(rankTopk(gpu, { ...args, k: 17 })).rejects.toThrow(/k must be ≤ 16/);
    await expect(rankTopk(gpu, { ...args, k: 0 })).rejects.toThrow(/k must be a positive integer/);
    await expect(rankTopk(gpu, { ...args, base: 1 })).rejects.toThrow(/rows must hold base \+ R = 3/);
    await expect(rankTopk(gpu, { ...args, outVal: o })).rejects.toThrow(/outVal must have dtype f32/);
    await expect(rankTopk(gpu, { ...args, scores: u })).rejects.toThrow(/scores must be 2-D/);
    await expect(rankTopk(gpu, { ...args, variant: 'heap' as 'lists' })).rejects.toThrow(/variant must be 'lists' or 'rounds', got 'heap'/);
    for (const t of [s, u, o, v]) t.dispose();
  });

  it('HR and NDCG of a top list', () => {
    expect(hitAndNdcg([5, 7, 9], 5)).toEqual({ hit: 1, ndcg: 1 });
    expect(hitAndNdcg([5, 7, 9], 9).ndcg).toBeCloseTo(0.5, 12);
    expect(hitAndNdcg([5, 7, RANK_TOPK_NONE], 8)).toEqual({ hit: 0, ndcg: 0 });
  });
});
