// The options of a training run and what it reports: TrainOptions (validated by validateTrainOptions),
// the callbacks, log entries and summary, the errors it throws, and the per-step tables derived from
// the options (the sparsity schedule, each layer's target, the optimizer's table row).
import { lrAt, validateSchedule, type LrSchedule, type SparsitySchedule } from './schedule.js';
import { resolvePerLayer, type TargetLayer } from './targets.js';
import { hyperRow, OPTIMIZERS, type OptimizerKind } from './optimizer.js';
import type { FaultPlan } from './faults.js';
import type { QatOptions } from './qat.js';
import type { WeightSharing } from './codebook.js';

export interface TrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  /** SGD momentum (ignored by AdamW). */
  momentum: number;
  /** SGD: L2 λ on weights. AdamW: see weightDecay. */
  l2: number;
  /** 'sgd' (momentum + L2, default) or 'adamw'. */
  optimizer?: OptimizerKind;
  beta1?: number;
  beta2?: number;
  /** AdamW's decoupled weight decay on weights (not biases or norms); default 0.1. */
  weightDecay?: number;
  /** Clip gradients to this global L2 norm (0 / undefined: no clipping). */
  clip?: number;
  /** Linear learning-rate warm-up steps. */
  warmup?: number;
  lrSchedule?: LrSchedule['kind'];
  /** Pruning: target sparsity and schedule; undefined or sparsity 0 = dense. */
  sparsity?: number;
  /**
   * Per-layer targets by layer name ('dense1': 0.92), alias ('conv1') or kind ('conv', 'dense'), as
   * Deep Compression sets them; layers not named get `sparsity` (or stay dense). Needs pruning 'layer'.
   */
  layerSparsity?: Record<string, number>;
  schedule?: SparsitySchedule['kind'];
  /** 'layer' (each layer pruned to the target) or 'global' (one top-k over all layers). */
  pruning?: 'layer' | 'global';
  pruneBegin?: number;
  /** Step at which the target sparsity is reached (default: 2/3 of training). */
  pruneEnd?: number;
  pruneFrequency?: number;
  initialSparsity?: number;
  seed: number;
  /** Steps between GPU→CPU statistics readbacks. */
  logEvery?: number;
  /** Stop after this many steps in total (default epochs × steps per epoch). */
  maxSteps?: number;
  /** Steps recorded into one command encoder. */
  stepsPerSubmit?: number;
  /** Submissions in flight at most. */
  maxInFlight?: number;
  /** Also call `onCheckpoint` every this many steps (besides each epoch end). */
  checkpointEvery?: number;
  /**
   * Quantisation-aware training (nn/qat.ts): from step qat.begin (default: the end of pruning, or 0)
   * the steps run on codebook-snapped weights and update the latent ones; the run ends snapped.
   */
  qat?: QatOptions;
}

export interface LogEntry {
  step: number;
  epoch: number;
  loss: number;
  /** Training accuracy over the logged interval (classification; next-byte accuracy for text). */
  accuracy?: number;
  /** Language models: the logged interval's loss in bits per byte. */
  bitsPerByte?: number;
  samplesPerSec: number;
  lr: number;
  sparsity: number;
}

export class DivergedError extends Error {
  constructor(
    message: string,
    readonly step: number,
    readonly restoredStep: number,
  ) {
    super(message);
    this.name = 'DivergedError';
  }
}

export class TrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainError';
  }
}

export interface TrainState {
  /** Steps done. */
  step: number;
}

export interface TrainCallbacks {
  onLog?(e: LogEntry): void;
  /** Called after each submission; return true to stop early. */
  shouldStop?(): boolean;
  /** Called at the end of each epoch once its work is done and its losses were finite (e.g. to checkpoint). */
  onEpochEnd?(step: number): Promise<void> | void;
  /** Like onEpochEnd, at each epoch end and every `checkpointEvery` steps: the place to write a checkpoint. */
  onCheckpoint?(step: number): Promise<void> | void;
  /** Fault injection (tests, the demo, SLIMGPU_FAULT): lose the device once `deviceLostAtStep` steps are submitted. */
  fault?: FaultPlan;
}

export interface TrainSummary {
  steps: number;
  epochs: number;
  history: LogEntry[];
  wallSeconds: number;
  /** Samples per second (a language model: tokens per second). */
  samplesPerSec: number;
  /** Share of wall time the CPU spent recording and submitting command buffers. */
  cpuRecordShare: number;
  msPerStep: number;
  /** With TrainOptions.qat: the codebooks and assignments the arena's weights now equal. */
  qat?: WeightSharing;
}

/** The largest target of any layer (the schedule's shape is shared; each layer scales it to its own target). */
function maxTarget(o: TrainOptions): number {
  return Math.max(o.sparsity ?? 0, ...Object.values(o.layerSparsity ?? {}));
}

/** Each layer's final target sparsity, in `layers` order: layerSparsity (name, alias or kind), else sparsity, else 0. */
export function layerTargets(o: TrainOptions, layers: TargetLayer[]): number[] {
  let per: Map<string, number | undefined>;
  try {
    per = resolvePerLayer({ default: o.sparsity, layers: o.layerSparsity ?? {} }, layers, 'train: sparsity');
  } catch (e) {
    throw new TrainError((e as Error).message);
  }
  return layers.map((l) => per.get(l.name) ?? 0);
}

export function sparsityScheduleOf(o: TrainOptions, totalSteps: number): SparsitySchedule | undefined {
  if (!(maxTarget(o) > 0)) return undefined;
  const begin = o.pruneBegin ?? Math.min(Math.floor(totalSteps * 0.1), totalSteps - 1);
  const end = o.pruneEnd ?? Math.max(begin, Math.floor(totalSteps * 0.66));
  const s: SparsitySchedule = {
    kind: o.schedule ?? 'polynomial',
    target: maxTarget(o),
    initial: o.initialSparsity ?? 0,
    beginStep: begin,
    endStep: end,
    frequency: o.pruneFrequency ?? Math.max(1, Math.floor((end - begin) / 20)),
  };
  validateSchedule(s);
  return s;
}

export function validateTrainOptions(o: TrainOptions): void {
  const bad = (name: string, want: string, v: unknown) => {
    throw new TrainError(`train: ${name} must be ${want}, got ${String(v)}`);
  };
  if (!Number.isInteger(o.epochs) || o.epochs < 1) bad('epochs', 'a positive integer', o.epochs);
  if (!Number.isInteger(o.batch) || o.batch < 1) bad('batch', 'a positive integer', o.batch);
  if (!Number.isFinite(o.lr) || o.lr <= 0) bad('lr', 'a finite number > 0', o.lr);
  if (!Number.isFinite(o.momentum) || o.momentum < 0 || o.momentum >= 1) bad('momentum', 'in [0, 1)', o.momentum);
  if (!Number.isFinite(o.l2) || o.l2 < 0) bad('l2', 'a finite number ≥ 0', o.l2);
  if (o.optimizer !== undefined && !OPTIMIZERS.includes(o.optimizer)) bad('optimizer', `one of ${OPTIMIZERS.join(', ')}`, o.optimizer);
  for (const k of ['beta1', 'beta2'] as const)
    if (o[k] !== undefined && (!Number.isFinite(o[k]) || o[k]! < 0 || o[k]! >= 1)) bad(k, 'in [0, 1)', o[k]);
  if (o.weightDecay !== undefined && (!Number.isFinite(o.weightDecay) || o.weightDecay < 0)) bad('weightDecay', 'a finite number ≥ 0', o.weightDecay);
  if (o.clip !== undefined && (!Number.isFinite(o.clip) || o.clip < 0)) bad('clip', 'a finite number ≥ 0 (0: no clipping)', o.clip);
  if (o.warmup !== undefined && (!Number.isInteger(o.warmup) || o.warmup < 0)) bad('warmup', 'a non-negative integer', o.warmup);
  if (o.sparsity !== undefined && (!Number.isFinite(o.sparsity) || o.sparsity < 0 || o.sparsity > 1)) bad('sparsity', 'in [0, 1]', o.sparsity);
  for (const [k, v] of Object.entries(o.layerSparsity ?? {})) if (!Number.isFinite(v) || v < 0 || v > 1) bad(`layerSparsity.${k}`, 'in [0, 1]', v);
  if (o.layerSparsity && Object.keys(o.layerSparsity).length > 0 && o.pruning === 'global')
    bad('pruning', "'layer' when per-layer sparsity targets are given", o.pruning);
  if (!Number.isInteger(o.seed)) bad('seed', 'an integer', o.seed);
  if (o.maxSteps !== undefined && (!Number.isInteger(o.maxSteps) || o.maxSteps < 1)) bad('maxSteps', 'a positive integer', o.maxSteps);
  if (o.checkpointEvery !== undefined && (!Number.isInteger(o.checkpointEvery) || o.checkpointEvery < 1))
    bad('checkpointEvery', 'a positive integer', o.checkpointEvery);
}

/** The optimizer's per-step table row of step t. */
export function tableRow(o: TrainOptions, lrs: LrSchedule, t: number): number[] {
  const kind = o.optimizer ?? 'sgd';
  return hyperRow(
    kind,
    { momentum: o.momentum, l2: kind === 'adamw' ? (o.weightDecay ?? 0.1) : o.l2, beta1: o.beta1, beta2: o.beta2, clip: o.clip },
    t,
    lrAt(lrs, t),
  );
}
