// sgdL2: fused SGD + momentum + L2 update over a flat parameter arena   (shaders/sgd-l2.wgsl)
//   w, g, v, mask (optional): n f32 each (any shapes of equal size, e.g. the arena's flat views)
//   hyper: f32 tensor [lr, momentum, l2, clip] (≥ 3 entries; 4 with opts.norm) read on the GPU at
//          every dispatch, so a scheduler can change it per step (copy a table row into it, or a kernel)
//   opts.norm: gradNorm's output (kernels/adamw.ts): g ← g·min(1, clip/(‖g‖ + 1e-6)) when clip > 0
//   g' = g + l2·w (i < decayEnd only), v = momentum·v + g', w = (w − lr·v)·mask; masked weights
//   are written as exactly 0. n and decayEnd are uniforms. Updates w and v in place.
import type { Gpu } from '../gpu/device.js';
import type { Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { checkArgs, fail } from './args.js';
import { checkUpdate, updateRecords } from './fused-update.js';

export const SGD_WG = 256;
/** Entries of the hyper-parameter buffer. */
export const SGD_HYPER = { lr: 0, momentum: 1, l2: 2, clip: 3, size: 4 } as const;

export interface SgdParams {
  /** Weights (updated in place). */
  w: Tensor;
  /** Gradients (read). */
  g: Tensor;
  /** Momentum (updated in place). */
  v: Tensor;
  /** 0/1 mask (read); absent for dense training. */
  mask?: Tensor;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  l2: number;
  /** Max global gradient norm (read only with opts.norm); absent or ≤ 0: no clipping. */
  clip?: number;
}

export interface SgdOptions {
  /** L2 decay applies to elements [0, decayEnd); default n (all). */
  decayEnd?: number;
  /** GRAD_NORM buffer from gradNorm (kernels/adamw.ts): clip by hyper's clip (> 0) against its ‖g‖. */
  norm?: Tensor;
}

/** Checks lr, momentum and l2 (finite, ≥ 0) and returns them as the hyper buffer's contents. */
export function sgdHyperValues(h: SgdHyper, op = 'sgdL2'): Float32Array {
  if (!h || typeof h !== 'object') fail(op, 'hyper-parameters must be an object { lr, momentum, l2 }');
  for (const k of ['lr', 'momentum', 'l2'] as const) {
    const x = h[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) fail(op, `${k} must be a finite number ≥ 0, got ${x}`);
  }
  const out = new Float32Array(SGD_HYPER.size);
  out[SGD_HYPER.lr] = h.lr;
  out[SGD_HYPER.momentum] = h.momentum;
  out[SGD_HYPER.l2] = h.l2;
  const clip = h.clip ?? 0;
  if (typeof clip !== 'number' || !Number.isFinite(clip)) fail(op, `clip must be a finite number (≤ 0: off), got ${clip}`);
  out[SGD_HYPER.clip] = clip;
  return out;
}

/** A hyper-parameter tensor (SGD_HYPER.size f32) holding h. */
export function createSgdHyper(gpu: Gpu, h: SgdHyper, label = 'sgdL2.hyper'): Tensor {
  return createTensor(gpu, [SGD_HYPER.size], sgdHyperValues(h), { label });
}

/** Writes h into a hyper tensor (queue write: takes effect for work submitted after it). */
export function writeSgdHyper(hyper: Tensor, h: SgdHyper): void {
  checkHyper('writeSgdHyper', hyper);
  const vals = sgdHyperValues(h, 'writeSgdHyper');
  hyper.gpu.device.queue.writeBuffer(hyper.buffer, hyper.offset, vals.buffer, 0, Math.min(hyper.size, SGD_HYPER.size) * 4);
}

function checkHyper(op: string, hyper: Tensor): void {
  checkArgs(op, { hyper: { t: hyper, dtype: 'f32' } });
  hyperSize(op, hyper);
}

function hyperSize(op: string, hyper: Tensor): void {
  if (hyper.size < 3) fail(op, `hyper must hold at least 3 entries [lr, momentum, l2], got shape [${hyper.shape}]`);
}

/** Checks the operands and returns n. */
export function sgdL2Check(params: SgdParams, hyper: Tensor | undefined, opts: SgdOptions = {}): number {
  const op = 'sgdL2';
  if (!params || typeof params !== 'object') fail(op, 'params must be an object { w, g, v, mask? }');
  const { w, g, v, mask } = params;
  return checkUpdate(op, { w, g, v, mask }, hyper, opts.norm, opts.decayEnd, () => {
    if (hyper !== undefined) hyperSize(op, hyper);
    const norm = opts.norm;
    if (norm !== undefined) {
      if (norm.size < 2) fail(op, `norm must hold [Σ g², ‖g‖] (gradNorm's output), got shape [${norm.shape}]`);
      if (hyper !== undefined && hyper.size < SGD_HYPER.size)
        fail(op, `hyper must hold ${SGD_HYPER.size} entries [lr, momentum, l2, clip] to clip, got shape [${hyper.shape}]`);
    }
  });
}

/**
 * Dispatch records for one fused update of (w, v) in place; hyper-parameters read from `hyper` on
 * the GPU. One record updates the vec4 body; a second, one-workgroup record the last < 64 elements
 * when n is not a multiple of max(4, minStorageBufferOffsetAlignment/4).
 */
export async function sgdL2(gpu: Gpu, params: SgdParams, hyper: Tensor, opts: SgdOptions = {}): Promise<Dispatch[]> {
  const n = sgdL2Check(params, hyper, opts);
  if (hyper === undefined) fail('sgdL2', 'hyper must be a Tensor [lr, momentum, l2]');
  const decayEnd = opts.decayEnd ?? n;
  const { w, g, v, mask } = params;
  return updateRecords(gpu, { op: 'sgdL2', shader: 'sgd-l2', wg: SGD_WG, n, decayEnd, pad: 0, hyper, rows: [w, g, v, mask], mask, norm: opts.norm });
}
