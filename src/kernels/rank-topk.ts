// rankTopk: per-row top k of users × items scores, excluding each user's seen items   (shaders/rank-topk.wgsl)
//   scores (R, N) f32 (overwritten: excluded items become −FLT_MAX), rows (≥ base + R) u32 user ids
//   (≥ U: a padding row), rowptr (U + 1) u32 + cols u32: CSR of the items each user must not get,
//   outIdx (≥ (base + R)·k) u32 and outVal (same) f32: row r's top k at (base + r)·k, score
//   descending, ties lower index first; empty entries are index 0xffffffff, value −FLT_MAX.
// NaN and −inf scores never rank. Two dispatches: exclude (one invocation per row), topk (one
// workgroup per row). `base` lets many chunks of R rows share one rows / output buffer, so a whole
// evaluation records into one encoder and is read back once.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, fail, positiveInt } from './args.js';

export const RANK_TOPK_WG = 64;
/** Largest k (the private and shared list length). */
export const RANK_TOPK_KMAX = 16;
/** An empty top-k entry. */
export const RANK_TOPK_NONE = 0xffffffff;

export interface RankTopkArgs {
  scores: Tensor;
  rows: Tensor;
  rowptr: Tensor;
  cols: Tensor;
  outIdx: Tensor;
  outVal: Tensor;
  k: number;
  /** First row of this chunk in rows / outIdx / outVal (default 0). */
  base?: number;
  /** 'lists' (per-invocation sorted lists + merges) or 'rounds' (k workgroup argmax rounds); default
   *  SLIMGPU_RANK_TOPK_VARIANT, else 'lists'. Both give the same lists. */
  variant?: RankTopkVariant;
}

export type RankTopkVariant = 'lists' | 'rounds';

function variantOf(v?: RankTopkVariant): RankTopkVariant {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SLIMGPU_RANK_TOPK_VARIANT;
  const out = v ?? (env || 'lists');
  if (out !== 'lists' && out !== 'rounds') fail(OP, `variant must be 'lists' or 'rounds', got '${out}'`);
  return out as RankTopkVariant;
}

const OP = 'rankTopk';

/** Dispatch records (exclude, topk) for one chunk of R = scores.shape[0] rows. */
export async function rankTopk(gpu: Gpu, a: RankTopkArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'args must be an object { scores, rows, rowptr, cols, outIdx, outVal, k, base? }');
  const { scores, rows, rowptr, cols, outIdx, outVal, k } = a;
  const base = a.base ?? 0;
  checkArgs(OP, {
    scores: { t: scores, rank: 2, what: '(R, N)', dtype: 'f32', out: true }, // exclude writes −FLT_MAX into it
    rows: { t: rows, dtype: 'u32' },
    rowptr: { t: rowptr, dtype: 'u32' },
    cols: { t: cols, dtype: 'u32' },
    outIdx: { t: outIdx, dtype: 'u32', out: true },
    outVal: { t: outVal, dtype: 'f32', out: true },
  });
  positiveInt(OP, 'k', k);
  if (k > RANK_TOPK_KMAX) fail(OP, `k must be ≤ ${RANK_TOPK_KMAX}, got ${k}`);
  if (!Number.isInteger(base) || base < 0) fail(OP, `base must be a non-negative integer, got ${base}`);
  const [R, N] = scores.shape as [number, number];
  if (rows.size < base + R) fail(OP, `rows must hold base + R = ${base + R} user ids, got ${rows.size}`);
  if (rowptr.size < 2) fail(OP, `rowptr must hold U + 1 ≥ 2 offsets, got ${rowptr.size}`);
  for (const [n, t] of [
    ['outIdx', outIdx],
    ['outVal', outVal],
  ] as const) {
    if (t.size < (base + R) * k) fail(OP, `${n} must hold (base + R)·k = ${(base + R) * k} entries, got ${t.size}`);
  }
  const defines = { WG: RANK_TOPK_WG, KMAX: RANK_TOPK_KMAX };
  const variant = variantOf(a.variant);
  const [pe, pt] = await Promise.all(
    ['exclude', variant === 'rounds' ? 'topk_rounds' : 'topk'].map((e) => pipelines(gpu).get('rank-topk', defines, e)),
  );
  const u = uniformParams(gpu, 'rankTopk.params', [
    ['u32', R],
    ['u32', N],
    ['u32', k],
    ['u32', base],
    ['u32', rowptr.size - 1],
  ]);
  const tag = `${R}x${N} k=${k} base=${base} ${variant}`;
  return [
    {
      label: `rankTopk.exclude ${tag}`,
      pipeline: pe!,
      bindGroup: bindGroup(gpu, pe!, `rankTopk.exclude ${tag}`, [u, scores, rows, rowptr, cols]),
      workgroups: grid(gpu, Math.ceil(R / 64)),
      owned: [u],
    },
    {
      label: `rankTopk.topk ${tag}`,
      pipeline: pt!,
      bindGroup: bindGroup(gpu, pt!, `rankTopk.topk ${tag}`, [u, scores, rows, undefined, undefined, outIdx, outVal]),
      workgroups: grid(gpu, R),
    },
  ];
}
