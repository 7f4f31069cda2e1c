// The update step as one fused dispatch family over the parameter arena: SGD with momentum and L2
// (sgd-l2), or AdamW (adamw, torch semantics) — both optionally after a global-norm gradient clip
// (gradNorm: a fixed-order Σg² over the arena that the update reads). Per-step values come from the
// plan's per-step table, one row per step, copied into `hyper` by the prepare kernel; hyperRow()
// builds a row on the CPU (learning rate, AdamW's bias corrections for step t + 1, the clip norm).
//   SGD row:   [lr, momentum, l2, clip]
//   AdamW row: [lr, beta1, beta2, eps, weight decay, 1 − beta1^(t+1), 1 − beta2^(t+1), clip]
import type { Gpu } from '../gpu/device.js';
import type { Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';
import { adamw, gradNorm, GRAD_NORM } from '../kernels/adamw.js';
import { sgdL2 } from '../kernels/sgd-l2.js';
import type { Arena } from './arena.js';

export type OptimizerKind = 'sgd' | 'adamw';
export const OPTIMIZERS: readonly OptimizerKind[] = ['sgd', 'adamw'];

/** Values per row of the per-step table. */
export function tableWidth(kind: OptimizerKind): number {
  return kind === 'sgd' ? 4 : 8;
}

export interface OptimizerHyper {
  momentum: number;
  /** SGD: L2 λ on weights; AdamW: decoupled weight decay on weights (not biases or norms). */
  l2: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Global gradient-norm clip (0 or undefined: none). */
  clip?: number;
}

/** The table row of step `step` (0-based) at learning rate `lr`. */
export function hyperRow(kind: OptimizerKind, h: OptimizerHyper, step: number, lr: number): number[] {
  const clip = h.clip ?? 0;
  if (kind === 'sgd') return [lr, h.momentum, h.l2, clip];
  const b1 = h.beta1 ?? 0.9,
    b2 = h.beta2 ?? 0.95;
  return [lr, b1, b2, h.eps ?? 1e-8, h.l2, 1 - b1 ** (step + 1), 1 - b2 ** (step + 1), clip];
}

/**
 * The update records of `kind` over the whole arena (decay on [0, arena.decayEnd) only, masks
 * respected). With `clip`, a gradNorm pass first (the row's clip value switches it on per step).
 */
export async function optimizerRecords(
  gpu: Gpu,
  kind: OptimizerKind,
  arena: Arena,
  hyper: Tensor,
  alloc: (shape: number[], label: string) => Tensor,
  opts: { clip?: boolean } = {},
): Promise<Dispatch[]> {
  const out: Dispatch[] = [];
  let norm: Tensor | undefined;
  if (opts.clip) {
    norm = alloc([GRAD_NORM.size], 'optimizer.gradNorm');
    out.push(...(await gradNorm(gpu, arena.parts.grads, norm, { mask: arena.parts.mask })));
  }
  const { weights: w, grads: g, momentum: m, mask } = arena.parts;
  if (kind === 'sgd') out.push(...(await sgdL2(gpu, { w, g, v: m, mask }, hyper, { decayEnd: arena.decayEnd, norm })));
  else out.push(...(await adamw(gpu, { w, g, m, v: arena.ensureVariance(), mask }, hyper, { decayEnd: arena.decayEnd, norm })));
  return out;
}
