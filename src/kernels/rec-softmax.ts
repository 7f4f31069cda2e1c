// recSoftmaxXent: multinomial (full-softmax) loss and score gradient of a batch of users   (shaders/rec-softmax.wgsl)
//   scores (B, N) f32, perm (≥ base + B) u32 user of each row (≥ U: padding), rowptr (U + 1) u32 +
//   items u32: each user's training items → ds (B, N) = scale·(softmax(s) − multi-hot/n),
//   loss (≥ base + B) f32 at base + b: logsumexp(s[b]) − mean of s[b] over the user's items.
// recGatherRows: out (B, C)[b] = table (U, C)[perm[base + b]] (0 for padding).
// recScatterRows: dtable (U, C)[perm[base + b]] = drows (B, C)[b] (or 0 with clear: the rows one
//   step wrote go back to zero, so the table gradient stays zero outside the batch).
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, fail, finite } from './args.js';

export const REC_SOFTMAX_WG = 64;

export interface RecSoftmaxArgs {
  scores: Tensor;
  perm: Tensor;
  rowptr: Tensor;
  items: Tensor;
  ds: Tensor;
  loss: Tensor;
  /** First row of this batch in perm and loss (default 0). */
  base?: number;
  /** Gradient scale (default 1/B: the mean over the batch). */
  scale?: number;
}

/** The sizes of the index operands (their dtypes are checked by checkArgs). */
function checkIndex(op: string, perm: Tensor, rowptr: Tensor | undefined, base: number, B: number): void {
  if (!Number.isInteger(base) || base < 0) fail(op, `base must be a non-negative integer, got ${base}`);
  if (perm.size < base + B) fail(op, `perm must hold base + B = ${base + B} user ids, got ${perm.size}`);
  if (rowptr && rowptr.size < 2) fail(op, `rowptr must hold U + 1 ≥ 2 offsets, got ${rowptr.size}`);
}

/** One dispatch: ds and loss of a batch (see the file comment). */
export async function recSoftmaxXent(gpu: Gpu, a: RecSoftmaxArgs): Promise<Dispatch[]> {
  const op = 'recSoftmaxXent';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { scores, perm, rowptr, items, ds, loss, base?, scale? }');
  const { scores, perm, rowptr, items, ds, loss } = a;
  checkArgs(op, {
    scores: { t: scores, rank: 2, what: '(B, N)', dtype: 'f32' },
    perm: { t: perm, dtype: 'u32' },
    rowptr: { t: rowptr, dtype: 'u32' },
    items: { t: items, dtype: 'u32' },
    ds: { t: ds, dtype: 'f32', shape: scores?.shape, what: '(B, N) like scores', out: true },
    loss: { t: loss, dtype: 'f32', out: true },
  });
  const [B, N] = scores.shape as [number, number];
  const base = a.base ?? 0,
    scale = a.scale ?? 1 / B;
  finite(op, 'scale', scale);
  checkIndex(op, perm, rowptr, base, B);
  if (loss.size < base + B) fail(op, `loss must hold base + B = ${base + B} values, got ${loss.size}`);
  const pipeline = await pipelines(gpu).get('rec-softmax', { WG: REC_SOFTMAX_WG }, 'softmax_xent');
  const u = uniformParams(gpu, 'recSoftmaxXent.params', [
    ['u32', B],
    ['u32', N],
    ['u32', base],
    ['u32', rowptr.size - 1],
    ['u32', 0],
    ['f32', scale],
  ]);
  const label = `recSoftmaxXent ${B}x${N} base=${base}`;
  return [
    { label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, [u, scores, perm, rowptr, items, ds, loss]), workgroups: grid(gpu, B), owned: [u] },
  ];
}

export interface RecScatterArgs {
  /** (B, C) rows to write (ignored with clear). */
  drows?: Tensor;
  perm: Tensor;
  /** (U, C): rows perm[base + b] written. */
  dtable: Tensor;
  /** Rows in the batch (default drows.shape[0]). */
  B?: number;
  base?: number;
  clear?: boolean;
}

/** One dispatch: the batch's rows into (or, with clear, zeroed in) the full table. */
export async function recScatterRows(gpu: Gpu, a: RecScatterArgs): Promise<Dispatch[]> {
  const op = 'recScatterRows';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { drows?, perm, dtable, B?, base?, clear? }');
  const { drows, perm, dtable } = a;
  checkArgs(op, {
    dtable: { t: dtable, rank: 2, what: '(U, C)', dtype: 'f32', out: true },
    drows: { t: a.clear ? undefined : drows, rank: 2, what: '(B, C)', dtype: 'f32', optional: !!a.clear },
    perm: { t: perm, dtype: 'u32' },
  });
  const [U, C] = dtable.shape as [number, number];
  if (!a.clear && drows!.shape[1] !== C) fail(op, `drows must have ${C} columns like dtable, got shape [${drows!.shape}]`);
  const B = a.B ?? drows?.shape[0];
  if (!Number.isInteger(B) || B! < 1) fail(op, `B must be a positive integer (or give drows), got ${B}`);
  const base = a.base ?? 0;
  checkIndex(op, perm, undefined, base, B!);
  const entry = a.clear ? 'clear_rows' : 'scatter_rows';
  const pipeline = await pipelines(gpu).get('rec-softmax', { WG: REC_SOFTMAX_WG }, entry);
  const u = uniformParams(gpu, `${op}.params`, [
    ['u32', B!],
    ['u32', 0],
    ['u32', base],
    ['u32', U],
    ['u32', C],
    ['f32', 0],
  ]);
  const label = `recScatterRows.${a.clear ? 'clear' : 'scatter'} ${B}x${C} U=${U} base=${base}`;
  const binds = a.clear
    ? [u, undefined, perm, undefined, undefined, undefined, undefined, undefined, dtable]
    : [u, undefined, perm, undefined, undefined, undefined, undefined, drows, dtable];
  return [
    { label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, binds), workgroups: grid(gpu, Math.ceil((B! * C) / REC_SOFTMAX_WG)), owned: [u] },
  ];
}

/** One dispatch: out (B, C) = the rows perm[base .. base + B) of table (U, C), 0 for padding. */
export async function recGatherRows(gpu: Gpu, a: { table: Tensor; perm: Tensor; out: Tensor; base?: number }): Promise<Dispatch[]> {
  const op = 'recGatherRows';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { table, perm, out, base? }');
  const { table, perm, out } = a;
  checkArgs(op, {
    table: { t: table, rank: 2, what: '(U, C)', dtype: 'f32' },
    perm: { t: perm, dtype: 'u32' },
    out: { t: out, rank: 2, what: '(B, C)', dtype: 'f32', out: true },
  });
  const [U, C] = table.shape as [number, number];
  if (out.shape[1] !== C) fail(op, `out must have ${C} columns like table, got shape [${out.shape}]`);
  const B = out.shape[0]!,
    base = a.base ?? 0;
  checkIndex(op, perm, undefined, base, B);
  const pipeline = await pipelines(gpu).get('rec-softmax', { WG: REC_SOFTMAX_WG }, 'gather_rows');
  const u = uniformParams(gpu, `${op}.params`, [
    ['u32', B],
    ['u32', 0],
    ['u32', base],
    ['u32', U],
    ['u32', C],
    ['f32', 0],
  ]);
  const label = `recGatherRows ${B}x${C} U=${U} base=${base}`;
  const _ = undefined;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [u, _, perm, _, _, _, _, _, _, table, out]),
      workgroups: grid(gpu, Math.ceil((B * C) / REC_SOFTMAX_WG)),
      owned: [u],
    },
  ];
}

/** A 16-byte uniform buffer holding the denoising seed (x); write it with writeSeed before a run. */
export function createSeedBuffer(gpu: Gpu, label = 'rec.seed'): GPUBuffer {
  return gpu.device.createBuffer({ label, size: 16, usage: 0x40 | 0x8 }); // UNIFORM | COPY_DST
}

export function writeSeed(gpu: Gpu, buf: GPUBuffer, seed: number): void {
  gpu.device.queue.writeBuffer(buf, 0, Uint32Array.from([seed >>> 0, 0, 0, 0]));
}

export interface RecMultiHotArgs {
  perm: Tensor;
  rowptr: Tensor;
  items: Tensor;
  /** (B, N) written: each row the user's items, normalised to sum 1 over the kept ones. */
  out: Tensor;
  /** createSeedBuffer(): the hash seed of the item dropout. */
  seed: GPUBuffer;
  base?: number;
  /** Fraction of items dropped (denoising), in [0, 1); default 0. */
  drop?: number;
}

/** One dispatch: the batch users' item histories as normalised multi-hot rows (rec:dae's input). */
export async function recMultiHot(gpu: Gpu, a: RecMultiHotArgs): Promise<Dispatch[]> {
  const op = 'recMultiHot';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { perm, rowptr, items, out, seed, base?, drop? }');
  const { perm, rowptr, items, out } = a;
  checkArgs(op, {
    perm: { t: perm, dtype: 'u32' },
    rowptr: { t: rowptr, dtype: 'u32' },
    items: { t: items, dtype: 'u32' },
    out: { t: out, rank: 2, what: '(B, N)', dtype: 'f32', out: true },
  });
  const [B, N] = out.shape as [number, number];
  const base = a.base ?? 0,
    drop = a.drop ?? 0;
  if (!(drop >= 0 && drop < 1)) fail(op, `drop must be in [0, 1), got ${drop}`);
  checkIndex(op, perm, rowptr, base, B);
  if (!a.seed || typeof (a.seed as GPUBuffer).size !== 'number' || a.seed.size < 16)
    fail(op, 'seed must be a 16-byte uniform buffer (createSeedBuffer)');
  const pipeline = await pipelines(gpu).get('rec-softmax', { WG: REC_SOFTMAX_WG }, 'multi_hot');
  const u = uniformParams(gpu, `${op}.params`, [
    ['u32', B],
    ['u32', N],
    ['u32', base],
    ['u32', rowptr.size - 1],
    ['u32', 0],
    ['f32', 0],
    ['u32', Math.floor(drop * 2 ** 32)],
  ]);
  const label = `recMultiHot ${B}x${N} base=${base} drop=${drop}`;
  const _ = undefined;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [u, _, perm, rowptr, items, out, _, _, _, _, _, a.seed]),
      workgroups: grid(gpu, B),
      owned: [u],
    },
  ];
}
