// Losses with fused backward and GPU-side statistics   (shaders/loss.wgsl)
//   softmaxCrossEntropy: logits (B, C) f32, labels (B) u32 → dlogits (B, C) = (softmax − onehot)/B
//   mse:                 pred (B, ...), target (same shape) → dpred = 2(pred − target)/(B·D), D = numel/B
//   zeroStats:           stats[:] = 0
// Every loss ADDS to `stats` (f32, ≥ 4 entries; layout in LOSS_STATS): [0] Σ per-sample loss, [1] correct
// rows (CE), [2] rows seen, [3] rows whose label is ≥ C (CE: such a row gets loss 0, a zero
// gradient row and counts as wrong; i32 labels < 0 read as huge u32 and land there too). Counts
// are f32, exact up to 2^24 = 16 777 216 rows between resets.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { checkArgs, fail } from './args.js';

/** Workgroup size of every loss entry point. */
export const LOSS_WG = 256;
/** Most workgroups (partial sums) the MSE pass uses. */
export const MSE_MAX_PARTIALS = 256;
/** Index of each statistic in the stats buffer; `size` is the minimum number of entries. */
export const LOSS_STATS = { lossSum: 0, correct: 1, count: 2, invalidLabels: 3, size: 4 } as const;

const DEFINES = { WG: LOSS_WG };

/** Checks that `stats` is an f32 tensor with at least LOSS_STATS.size entries. */
export function checkStats(op: string, stats: Tensor): void {
  checkArgs(op, { stats: { t: stats, dtype: 'f32' } });
  if (stats.size < LOSS_STATS.size) fail(op, `stats must have at least ${LOSS_STATS.size} entries, got shape [${stats.shape}]`);
}

/** A zeroed stats tensor (LOSS_STATS.size f32 entries). */
export function createStats(gpu: Gpu, label = 'loss.stats'): Tensor {
  return createTensor(gpu, [LOSS_STATS.size], undefined, { label });
}

/** Checks the operands of softmaxCrossEntropy and returns (B, C). */
export function softmaxCrossEntropyDims(logits: Tensor, labels: Tensor): { B: number; C: number } {
  const op = 'softmaxCrossEntropy';
  checkArgs(op, { logits: { t: logits, rank: 2, dtype: 'f32', what: '(B, C)' }, labels: { t: labels, rank: 1, what: '(B)' } });
  const [B, C] = logits.shape as [number, number];
  if (labels.dtype !== 'u32' && labels.dtype !== 'i32') fail(op, `labels must have dtype u32 (or i32), got ${labels.dtype}`);
  checkArgs(op, { labels: { t: labels, shape: [B] } });
  return { B, C };
}

/** Dispatch records: dlogits = (softmax(logits) − onehot(labels))/B; stats += (Σ loss, correct, B, invalid). One workgroup. */
export async function softmaxCrossEntropy(gpu: Gpu, logits: Tensor, labels: Tensor, dlogits: Tensor, stats: Tensor): Promise<Dispatch[]> {
  const op = 'softmaxCrossEntropy';
  const { B, C } = softmaxCrossEntropyDims(logits, labels);
  const operands = { logits: { t: logits }, labels: { t: labels } };
  checkArgs(
    op,
    { ...operands, dlogits: { t: dlogits, rank: 2, dtype: 'f32', shape: [B, C], what: '(B, C)' }, stats: { t: stats } },
    { distinct: 'all' },
  );
  checkStats(op, stats);
  const pipeline = await pipelines(gpu).get('loss', DEFINES, 'softmax_ce');
  const params = uniformParams(gpu, 'softmaxCrossEntropy.params', [
    ['u32', B],
    ['u32', C],
    ['u32', 1],
  ]);
  const label = `softmaxCrossEntropy ${B}x${C}`;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [params, logits, labels, undefined, dlogits, stats]),
      workgroups: [1, 1, 1],
      owned: [params],
    },
  ];
}

/** Checks the operands of mse and returns (B, D). */
export function mseDims(pred: Tensor, target: Tensor): { B: number; D: number } {
  const op = 'mse';
  checkArgs(op, { pred: { t: pred, dtype: 'f32' }, target: { t: target, dtype: 'f32', shape: pred?.shape } });
  const B = pred.shape[0]!;
  return { B, D: pred.size / B };
}

/** Number of partial sums (workgroups) the MSE pass uses for n elements: ~64 elements per invocation (fewer, fuller workgroups measured faster on lavapipe). */
export function msePartials(n: number): number {
  return Math.max(1, Math.min(MSE_MAX_PARTIALS, Math.ceil(n / (LOSS_WG * 64))));
}

/**
 * Dispatch records (two: partial sums, then a one-workgroup finalize): dpred = 2(pred − target)/(B·D);
 * stats[0] += Σ (pred − target)²/D, stats[2] += B. The partial-sum scratch buffer is owned by the records.
 */
export async function mse(gpu: Gpu, pred: Tensor, target: Tensor, dpred: Tensor, stats: Tensor): Promise<Dispatch[]> {
  const op = 'mse';
  const { B, D } = mseDims(pred, target);
  checkArgs(
    op,
    { pred: { t: pred }, target: { t: target }, dpred: { t: dpred, dtype: 'f32', shape: pred.shape }, stats: { t: stats } },
    { distinct: 'all' },
  );
  checkStats(op, stats);
  const G = msePartials(B * D);
  const [partialPipe, finalPipe] = await Promise.all([
    pipelines(gpu).get('loss', DEFINES, 'mse_partial'),
    pipelines(gpu).get('loss', DEFINES, 'mse_finalize'),
  ]);
  const params = uniformParams(gpu, 'mse.params', [
    ['u32', B],
    ['u32', D],
    ['u32', G],
  ]);
  const partials = gpu.device.createBuffer({ label: 'mse.partials', size: G * 4, usage: 0x80 }); // STORAGE
  const label = `mse ${B}x${D}`;
  return [
    {
      label: `${label} partial`,
      pipeline: partialPipe,
      bindGroup: bindGroup(gpu, partialPipe, `${label} partial`, [params, pred, undefined, target, dpred, undefined, partials]),
      workgroups: [G, 1, 1],
      owned: [params],
    },
    {
      label: `${label} finalize`,
      pipeline: finalPipe,
      bindGroup: bindGroup(gpu, finalPipe, `${label} finalize`, [params, undefined, undefined, undefined, undefined, stats, partials]),
      workgroups: [1, 1, 1],
      owned: [partials],
    },
  ];
}

/** Dispatch record: stats[:] = 0 (every entry of the tensor). */
export async function zeroStats(gpu: Gpu, stats: Tensor): Promise<Dispatch[]> {
  checkStats('zeroStats', stats);
  const pipeline = await pipelines(gpu).get('loss', DEFINES, 'zero_stats');
  const label = `zeroStats ${stats.size}`;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [undefined, undefined, undefined, undefined, undefined, stats]),
      workgroups: [1, 1, 1],
    },
  ];
}
