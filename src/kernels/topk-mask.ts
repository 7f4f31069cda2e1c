// topkMask: mask = 1 for exactly k elements with the largest |w|, 0 for the others   (shaders/topk-mask.wgsl)
//   weights (any shape, f32), mask (same number of elements, f32), k: u32[1] on the GPU.
//   views: (offset, length) element ranges of `weights` taken together (global magnitude pruning
//   over several layers of the parameter arena); index order = the concatenation of the views;
//   elements outside the views are neither read nor written. Default: the whole tensor.
// Order: the u32 bits of |w| (sign bit cleared), monotonic in |w|; |NaN| counts as the largest
// value. Ties at the threshold are kept lowest index first, so exactly min(k, n) are kept.
// Radix select with no readback: init, 3 × (hist, select), count_eq, boundary, mask = 10 dispatches.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { checkArgs, fail, finite, inRange } from './args.js';

export interface TopkView {
  /** First element, counted from element 0 of `weights` (and of `mask`). */
  offset: number;
  length: number;
}

export interface TopkMaskArgs {
  weights: Tensor;
  /** Written at the same element offsets as `weights`; same number of elements, f32. */
  mask: Tensor;
  /** Element ranges of `weights` ranked together; default the whole tensor. */
  views?: readonly TopkView[];
  /** u32[1]: how many elements to keep (clamped to the total view length); see kFor. */
  k: Tensor;
  /** Scratch tensors from an earlier call, reused when they are large enough. */
  scratch?: readonly Tensor[];
}

export interface TopkMaskPlan {
  dispatches: Dispatch[];
  /** [state u32[16], histogram u32[2048], per-block counts u32[≥ nblocks]]; the caller disposes them. */
  scratch: Tensor[];
}

/** Workgroup size of the per-block passes; a block holds at most TOPK_BLOCK elements. */
export const TOPK_WG = 64;
export const TOPK_BLOCK = 16384;
/** The 31 value bits of |w| in three digits, most significant first. */
export const TOPK_PASSES = [
  { shift: 20, bits: 11 },
  { shift: 10, bits: 10 },
  { shift: 0, bits: 10 },
] as const;

const OP = 'topkMask';

/** k = round((1 − sparsity)·n), the number of elements a sparsity keeps. */
export function kFor(n: number, sparsity: number): number {
  if (!Number.isInteger(n) || n < 0) fail(OP, `n must be a non-negative integer, got ${n}`);
  finite(OP, 'sparsity', sparsity);
  inRange(OP, 'sparsity', sparsity, 0, 1);
  return Math.min(n, Math.max(0, Math.round((1 - sparsity) * n)));
}

/** Checks weights, sparsity and views; returns k = kFor(total view length, sparsity) and that total. */
export function topkCount(weights: Tensor, sparsity: number, views?: readonly TopkView[]): { k: number; total: number } {
  checkArgs(OP, { weights: { t: weights, dtype: 'f32' } });
  inRange(OP, 'sparsity', sparsity, 0, 1);
  const { total } = topkViews(weights.size, views);
  return { k: kFor(total, sparsity), total };
}

/** Checks the views against a tensor of `size` elements; returns them (default: the whole) and their total length. */
export function topkViews(size: number, views?: readonly TopkView[]): { views: TopkView[]; total: number } {
  if (views === undefined) return { views: [{ offset: 0, length: size }], total: size };
  if (!Array.isArray(views) || views.length === 0) fail(OP, 'views must be a non-empty array of { offset, length }');
  const out: TopkView[] = [];
  let total = 0;
  views.forEach((v, i) => {
    const { offset, length } = v ?? ({} as TopkView);
    if (!Number.isInteger(offset) || offset < 0) fail(OP, `views[${i}].offset must be a non-negative integer, got ${offset}`);
    if (!Number.isInteger(length) || length < 1) fail(OP, `views[${i}].length must be a positive integer, got ${length}`);
    if (offset + length > size) {
      fail(OP, `views[${i}] = (offset ${offset}, length ${length}) ends at ${offset + length}, beyond the ${size} elements of weights`);
    }
    out.push({ offset, length });
    total += length;
  });
  const order = out.map((v, i) => [v, i] as const).sort((a, b) => a[0].offset - b[0].offset);
  for (let j = 1; j < order.length; j++) {
    const [prev, pi] = order[j - 1]!;
    const [cur, ci] = order[j]!;
    if (cur.offset < prev.offset + prev.length) {
      fail(OP, `views[${pi}] (${prev.offset}..${prev.offset + prev.length}) and views[${ci}] (${cur.offset}..${cur.offset + cur.length}) overlap`);
    }
  }
  if (total > 0xffffffff) fail(OP, `views hold ${total} elements, beyond 2^32 − 1`);
  return { views: out, total };
}

/** The views cut into blocks of ≤ TOPK_BLOCK elements, as (offset, length) u32 pairs in index order. */
export function topkBlocks(views: readonly TopkView[]): Uint32Array {
  let n = 0;
  for (const v of views) n += Math.ceil(v.length / TOPK_BLOCK);
  const out = new Uint32Array(2 * n);
  let j = 0;
  for (const v of views) {
    for (let s = 0; s < v.length; s += TOPK_BLOCK) {
      out[j++] = v.offset + s;
      out[j++] = Math.min(TOPK_BLOCK, v.length - s);
    }
  }
  return out;
}

function reuse(t: Tensor | undefined, gpu: Gpu, n: number, label: string): Tensor {
  if (t && !t.isDisposed && t.gpu === gpu && t.dtype === 'u32' && t.size >= n) return t;
  return createTensor(gpu, [n], undefined, { dtype: 'u32', label });
}

/** weights as vec4<u32> for the aligned body of each block: a whole number of vec4s (≥ 1; a tensor of < 4 elements has no aligned body, it gets a dummy binding, added to `owned`). */
function vec4Body(gpu: Gpu, weights: Tensor, owned: GPUBuffer[]): GPUBufferBinding {
  if (weights.byteLength >= 16) return { buffer: weights.buffer, offset: weights.offset, size: Math.floor(weights.byteLength / 16) * 16 };
  const dummy = gpu.device.createBuffer({ label: 'topkMask.w4', size: 16, usage: 0x80 });
  owned.push(dummy);
  return { buffer: dummy };
}

/** The uniforms of the three radix passes (digit shift, digit mask, prefix mask, bins, blocks, total). */
function passParams(gpu: Gpu, nblocks: number, total: number): GPUBuffer[] {
  return TOPK_PASSES.map(({ shift, bits }, i) => {
    const pmask = (0x7fffffff & ~(2 ** (shift + bits) - 1)) >>> 0;
    return uniformParams(gpu, `topkMask.params${i}`, [
      ['u32', shift],
      ['u32', 2 ** bits - 1],
      ['u32', pmask],
      ['u32', 2 ** bits],
      ['u32', nblocks],
      ['u32', total],
      ['u32', 0],
      ['u32', 0],
    ]);
  });
}

/** The topk-mask bindings (0..8), each entry point binding only the ones it uses. */
interface TopkBindings {
  weights: Tensor;
  mask: Tensor;
  table: GPUBuffer;
  k: Tensor;
  state: Tensor;
  hist: Tensor;
  eq: Tensor;
  w4: GPUBufferBinding;
}

/** A bind-group maker for the topk-mask entry points. */
function binder(gpu: Gpu, t: TopkBindings) {
  const { weights, mask, table, k, state, hist, eq, w4 } = t;
  //          0       1        2     3      4  5      6     7
  return (
    pl: GPUComputePipeline,
    label: string,
    uni: GPUBuffer,
    b: {
      w?: boolean;
      w4?: boolean;
      mask?: boolean;
      blocks?: boolean;
      k?: boolean;
      st?: boolean;
      hist?: boolean;
      eq?: boolean;
    },
  ) =>
    bindGroup(gpu, pl, label, [
      uni,
      b.w ? weights : undefined,
      b.mask ? mask : undefined,
      b.blocks ? table : undefined,
      b.k ? k : undefined,
      b.st ? state : undefined,
      b.hist ? hist : undefined,
      b.eq ? eq : undefined,
      b.w4 ? w4 : undefined,
    ]);
}

/** Dispatch records that write the top-k mask of `weights` (over `views`) into `mask`, with k read from the GPU. */
export async function topkMask(gpu: Gpu, args: TopkMaskArgs): Promise<TopkMaskPlan> {
  const { weights, mask, k } = args ?? ({} as TopkMaskArgs);
  checkArgs(OP, { weights: { t: weights, dtype: 'f32' }, mask: { t: mask, dtype: 'f32' }, k: { t: k, dtype: 'u32' } });
  if (k.size !== 1) fail(OP, `k must hold one u32, got shape [${k.shape}]`);
  if (mask.size !== weights.size) fail(OP, `mask must have the ${weights.size} elements of weights, got shape [${mask.shape}] (${mask.size})`);
  if (weights.gpu !== gpu) fail(OP, 'weights lives on another GPU device');
  const { views, total } = topkViews(weights.size, args.views);

  const blocks = topkBlocks(views);
  const nblocks = blocks.length / 2;
  const [st0, hist0, eq0] = args.scratch ?? [];
  const state = reuse(st0, gpu, 16, 'topkMask.state');
  const hist = reuse(hist0, gpu, 2048, 'topkMask.hist');
  const eq = reuse(eq0, gpu, nblocks, 'topkMask.eq');
  const scratch = [state, hist, eq];

  // weights as vec4<u32> for the aligned body of each block: a whole number of vec4s (≥ 1; a
  // tensor of < 4 elements has no aligned body, it gets a dummy binding)
  const owned: GPUBuffer[] = [];
  const w4 = vec4Body(gpu, weights, owned);
  const table = gpu.device.createBuffer({ label: 'topkMask.blocks', size: blocks.byteLength, usage: 0x80 | 0x8, mappedAtCreation: true });
  new Uint32Array(table.getMappedRange()).set(blocks);
  table.unmap();

  const defines = { WG: TOPK_WG };
  const get = (entry: string) => pipelines(gpu).get('topk-mask', defines, entry);
  const [pInit, pHist, pSelect, pCount, pBoundary, pMask] = await Promise.all(
    ['init', 'hist_pass', 'select_digit', 'count_eq', 'boundary', 'mask_pass'].map(get),
  );
  const params = passParams(gpu, nblocks, total);
  const last = params[params.length - 1]!;
  const blockGrid = grid(gpu, nblocks);
  const one = [1, 1, 1] as const;
  const name = `topkMask n=${total}${views.length > 1 ? ` views=${views.length}` : ''}`;
  const bind = binder(gpu, { weights, mask, table, k, state, hist, eq, w4 });

  const dispatches: Dispatch[] = [];
  dispatches.push({
    label: `${name} init`,
    pipeline: pInit,
    bindGroup: bind(pInit, `${name} init`, params[0]!, { k: true, st: true, hist: true }),
    workgroups: one,
    owned: [table, ...params, ...owned],
  });
  params.forEach((uni, i) => {
    const hl = `${name} hist${i}`,
      sl = `${name} select${i}`;
    dispatches.push({
      label: hl,
      pipeline: pHist,
      bindGroup: bind(pHist, hl, uni, { w: true, w4: true, blocks: true, st: true, hist: true }),
      workgroups: blockGrid,
    });
    dispatches.push({ label: sl, pipeline: pSelect, bindGroup: bind(pSelect, sl, uni, { st: true, hist: true }), workgroups: one });
  });
  const cl = `${name} count_eq`,
    bl = `${name} boundary`,
    ml = `${name} mask`;
  dispatches.push({
    label: cl,
    pipeline: pCount,
    bindGroup: bind(pCount, cl, last, { w: true, w4: true, blocks: true, st: true, eq: true }),
    workgroups: blockGrid,
  });
  dispatches.push({ label: bl, pipeline: pBoundary, bindGroup: bind(pBoundary, bl, last, { st: true, eq: true }), workgroups: one });
  dispatches.push({
    label: ml,
    pipeline: pMask,
    bindGroup: bind(pMask, ml, last, { w: true, w4: true, mask: true, blocks: true, st: true }),
    workgroups: blockGrid,
  });
  return { dispatches, scratch };
}
