// Sparsity schedules for gradual magnitude pruning.
//   constant:   s_t = s_f from beginStep on
//   polynomial: s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³ for t0 ≤ t ≤ t0 + n·Δt (Zhu & Gupta 2017)
// Masks are refreshed at t0, t0 + Δt, … up to endStep (and once more at endStep), never after.

export type SparsityScheduleKind = 'constant' | 'polynomial';

export interface SparsitySchedule {
  kind: SparsityScheduleKind;
  /** Final sparsity s_f in [0, 1]. */
  target: number;
  /** Initial sparsity s_i (polynomial). */
  initial?: number;
  beginStep: number;
  endStep: number;
  /** Δt: steps between mask refreshes. */
  frequency: number;
}

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export function validateSchedule(s: SparsitySchedule): void {
  const chk = (name: string, v: number, lo: number, hi: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
      throw new ScheduleError(`sparsity schedule: ${name} must be in [${lo}, ${hi}], got ${v}`);
  };
  if (s.kind !== 'constant' && s.kind !== 'polynomial')
    throw new ScheduleError(`sparsity schedule: kind must be 'constant' or 'polynomial', got '${s.kind}'`);
  chk('target sparsity', s.target, 0, 1);
  chk('initial sparsity', s.initial ?? 0, 0, 1);
  if (!Number.isInteger(s.beginStep) || s.beginStep < 0)
    throw new ScheduleError(`sparsity schedule: beginStep must be a non-negative integer, got ${s.beginStep}`);
  if (!Number.isInteger(s.endStep) || s.endStep < s.beginStep)
    throw new ScheduleError(`sparsity schedule: endStep must be an integer ≥ beginStep (${s.beginStep}), got ${s.endStep}`);
  if (!Number.isInteger(s.frequency) || s.frequency < 1)
    throw new ScheduleError(`sparsity schedule: frequency must be a positive integer, got ${s.frequency}`);
}

/** The target sparsity at step t (before t0: 0 — nothing pruned yet). */
export function sparsityAt(s: SparsitySchedule, t: number): number {
  if (t < s.beginStep) return 0;
  if (s.kind === 'constant') return s.target;
  const si = s.initial ?? 0;
  const span = s.endStep - s.beginStep;
  if (span === 0) return s.target;
  const frac = Math.min(1, (t - s.beginStep) / span);
  return s.target + (si - s.target) * (1 - frac) ** 3;
}

/** Whether the masks are refreshed at step t. */
export function isPruningStep(s: SparsitySchedule, t: number): boolean {
  if (t < s.beginStep || t > s.endStep) return false;
  if (s.kind === 'constant') return t === s.beginStep;
  return (t - s.beginStep) % s.frequency === 0 || t === s.endStep;
}

/** k = round((1 − s)·n): the number of weights kept. */
export function keptCount(n: number, sparsity: number): number {
  return Math.round((1 - sparsity) * n);
}

export type LrScheduleKind = 'constant' | 'step' | 'cosine';

export interface LrSchedule {
  kind: LrScheduleKind;
  lr: number;
  totalSteps: number;
  /** step: multiply by gamma every stepSize steps. */
  stepSize?: number;
  gamma?: number;
  /** cosine: final lr = lr·minFactor. */
  minFactor?: number;
  /** linear warm-up steps. */
  warmup?: number;
}

export function lrAt(s: LrSchedule, t: number): number {
  const warm = s.warmup ?? 0;
  let lr = s.lr;
  if (s.kind === 'step') lr = s.lr * (s.gamma ?? 0.1) ** Math.floor(t / Math.max(1, s.stepSize ?? Math.ceil(s.totalSteps / 3)));
  else if (s.kind === 'cosine') {
    const min = s.lr * (s.minFactor ?? 0);
    const frac = Math.min(1, t / Math.max(1, s.totalSteps));
    lr = min + 0.5 * (s.lr - min) * (1 + Math.cos(Math.PI * frac));
  }
  if (warm > 0 && t < warm) lr *= (t + 1) / warm;
  return lr;
}
