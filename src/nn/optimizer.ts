// The update step as one fused dispatch family over the parameter arena: SGD with momentum and L2
// (sgd_l2), or AdamW with global-norm gradient clipping. Per-step values (learning rate, bias
// corrections, ...) come from the plan's per-step table, one row per step, copied into `hyper` by
// the prepare kernel; hyperRow() builds a row on the CPU.
import type { Gpu } from '../gpu/device.js';
import type { Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';
import { sgdL2 } from '../kernels/sgd_l2.js';
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
  if (kind === 'sgd') return [lr, h.momentum, h.l2];
  throw new Error('optimizer: adamw needs the adamw kernel (not yet on this branch)');
}

/** The update records of `kind` over the whole arena (weight decay on [0, arena.decayEnd) only). */
export async function optimizerRecords(gpu: Gpu, kind: OptimizerKind, arena: Arena, hyper: Tensor, alloc: (shape: number[], label: string) => Tensor): Promise<Dispatch[]> {
  void alloc;
  if (kind === 'sgd') return sgdL2(gpu, { w: arena.parts.weights, g: arena.parts.grads, v: arena.parts.momentum, mask: arena.parts.mask }, hyper, { decayEnd: arena.decayEnd });
  throw new Error('optimizer: adamw needs the adamw kernel (not yet on this branch)');
}
