// qat: quantisation-aware training with a straight-through estimator   (shaders/qat.wgsl)
//   w, mask, latent: (n) f32 (views of the same n elements: the arena's weights and mask of one
//   layer, and a scratch of the same size); centroids: (K) f32, 1 ≤ K ≤ 256; assign: (n) u32.
//   qatSnap        latent = w; w = the nearest centroid (ties → lower index; cluster.wgsl's rule)
//                  where mask ≠ 0, exactly 0 elsewhere; assign = its index (CLUSTER.NONE if pruned)
//   qatRestore     w = latent (after the backward pass: the update then moves the latent weights
//                  by the gradient taken at the snapped ones); with `dampen` λ > 0 and `grads`, first
//                  grads += λ·(latent − w): a pull of each latent weight towards its codebook value
//   qatInitLinear  centroids evenly spaced over [min, max] of the kept weights (all 0 if none kept):
//                  the codebook's start on the GPU, so a run can enter QAT without a readback
// The snapped weight is the centroid value itself, so a compressed file written from `assign` and
// `centroids` decodes to exactly the weights the model trained and evaluated with.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, fail, type TensorArg } from './args.js';
import { CLUSTER } from './cluster.js';

export const QAT = { WG: 256 } as const;

const OP = 'qat';

/** An operand bound in element ranges: `dt`, at an aligned offset, with n elements like w when n is given. */
function row(t: Tensor | undefined, dt: 'f32' | 'u32', n?: number): TensorArg {
  return { t, dtype: dt, size: n, what: '(like w)', aligned: true };
}

/** K, checked (as the centroids operand's checkArgs `check`). */
function centroidCount(t: Tensor): number {
  if (t.size > CLUSTER.MAX_K) fail(OP, `centroids must hold K ≤ ${CLUSTER.MAX_K} values (K = 2^bits, bits ≤ 8), got ${t.size}`);
  return t.size;
}

type Slots = { w?: Tensor; mask?: Tensor; latent?: Tensor; cent?: Tensor; asg?: Tensor; grads?: Tensor };

async function record(
  gpu: Gpu,
  entry: string,
  label: string,
  n: number,
  K: number,
  s: Slots,
  workgroups: readonly [number, number, number],
  damp = 0,
): Promise<Dispatch> {
  const pipeline = await pipelines(gpu).get('qat', { WG: QAT.WG }, entry);
  const uni = uniformParams(gpu, 'qat.params', [
    ['u32', n],
    ['u32', K],
    ['u32', 0],
    ['f32', damp],
  ]);
  return {
    label,
    pipeline,
    workgroups,
    owned: [uni],
    bindGroup: bindGroup(gpu, pipeline, label, [uni, s.w, s.mask, s.latent, s.cent, s.asg, s.grads]),
  };
}

export interface QatSnapArgs {
  /** (n) f32: the latent weights, overwritten by their codebook values. */
  w: Tensor;
  /** (n) f32: 0 = pruned. */
  mask: Tensor;
  /** (n) f32: receives the latent weights. */
  latent: Tensor;
  /** (K) f32: the codebook. */
  centroids: Tensor;
  /** (n) u32: receives each kept weight's codebook index (CLUSTER.NONE where pruned). */
  assign: Tensor;
}

/** latent = w; w = centroids[nearest] where mask ≠ 0, else 0; assign = nearest (NONE where pruned). */
export async function qatSnap(gpu: Gpu, a: QatSnapArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'qatSnap needs { w, mask, latent, centroids, assign }');
  const n = a.w?.size;
  checkArgs(
    OP,
    {
      w: row(a.w, 'f32'),
      mask: row(a.mask, 'f32', n),
      latent: row(a.latent, 'f32', n),
      assign: row(a.assign, 'u32', n),
      centroids: { ...row(a.centroids, 'f32'), check: centroidCount },
    },
    { distinct: 'all' },
  );
  const K = a.centroids.size;
  return [
    await record(
      gpu,
      'snap',
      `qat.snap n=${n} K=${K}`,
      n,
      K,
      { w: a.w, mask: a.mask, latent: a.latent, cent: a.centroids, asg: a.assign },
      grid(gpu, Math.ceil(n / QAT.WG)),
    ),
  ];
}

export interface QatRestoreArgs {
  /** (n) f32: written. */
  w: Tensor;
  /** (n) f32: the latent weights saved by qatSnap. */
  latent: Tensor;
  /** (n) f32: the gradient of w, with `dampen` > 0: grads += dampen·(latent − w) before the restore. */
  grads?: Tensor;
  /** Oscillation dampening λ ≥ 0 (default 0: off). */
  dampen?: number;
}

/** w = latent (with dampening: first grads += λ·(latent − w)). */
export async function qatRestore(gpu: Gpu, a: QatRestoreArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'qatRestore needs { w, latent, grads?, dampen? }');
  const n = a.w?.size;
  checkArgs(OP, { w: row(a.w, 'f32'), latent: row(a.latent, 'f32', n) }, { distinct: 'all' });
  const damp = a.dampen ?? 0;
  if (typeof damp !== 'number' || !Number.isFinite(damp) || damp < 0) fail(OP, `dampen must be a finite number ≥ 0, got ${String(a.dampen)}`);
  if (damp > 0) {
    if (!a.grads) fail(OP, 'dampen > 0 needs grads (the gradient of w, (n) f32)');
    checkArgs(OP, { w: { t: a.w }, latent: { t: a.latent }, grads: row(a.grads, 'f32', n) }, { distinct: 'all' });
  }
  const wg = grid(gpu, Math.ceil(n / QAT.WG));
  if (damp === 0) return [await record(gpu, 'restore', `qat.restore n=${n}`, n, 0, { w: a.w, latent: a.latent }, wg)];
  return [await record(gpu, 'restore_damped', `qat.restore n=${n} dampen=${damp}`, n, 0, { w: a.w, latent: a.latent, grads: a.grads }, wg, damp)];
}

export interface QatInitArgs {
  /** (n) f32: the weights (read). */
  w: Tensor;
  mask: Tensor;
  /** (K) f32: written. */
  centroids: Tensor;
}

/** centroids[k] = lo + (hi − lo)·k/(K − 1) over the kept weights' [lo, hi] ((lo + hi)/2 for K = 1; 0 if none kept). */
export async function qatInitLinear(gpu: Gpu, a: QatInitArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'qatInitLinear needs { w, mask, centroids }');
  const n = a.w?.size;
  checkArgs(
    OP,
    { w: row(a.w, 'f32'), mask: row(a.mask, 'f32', n), centroids: { ...row(a.centroids, 'f32'), check: centroidCount } },
    { distinct: 'all' },
  );
  const K = a.centroids.size;
  return [await record(gpu, 'init_linear', `qat.initLinear n=${n} K=${K}`, n, K, { w: a.w, mask: a.mask, cent: a.centroids }, [1, 1, 1])];
}
