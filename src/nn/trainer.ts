// Training policy: chunks of steps inside epochs, the per-step tables (learning rate with warm-up
// and schedule, optimizer hyper-parameters), mask refreshes on the sparsity schedule, readbacks,
// the divergence guard and epoch callbacks. The submission loop itself (one encoder per chunk,
// bounded in-flight submissions, the readback ring, weight snapshots) is the Scheduler.
import { shuffledIndices } from '../data/random.js';
import { LOSS_STATS } from '../kernels/loss.js';
import { isPruningStep, keptCount, lrAt, sparsityAt, validateSchedule, type LrSchedule, type SparsitySchedule } from './schedule.js';
import { resolvePerLayer, type TargetLayer } from './targets.js';
import { deviceDataOf, sampleCount, statsOf, type AnyDataset, type Network } from './network.js';
import { hyperRow, OPTIMIZERS, type OptimizerKind } from './optimizer.js';
import { StepPlan, TABLE_CAP } from './plan.js';
import { Scheduler, type Readback } from './scheduler.js';
import { deviceLostError, type FaultPlan } from './faults.js';
import { QatState, qatStepRecords, type QatOptions } from './qat.js';
import type { WeightSharing } from './codebook.js';

export { DeviceLostError } from './faults.js';

export { Network, evaluate, uploadDataset, uploadText, deviceDataOf, statsOf, type EvalResult, type AnyDataset } from './network.js';

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

/** The pruning groups of a run (one per prunable matrix, or one for global pruning), their final targets and the mean sparsity at step t. */
function pruneGroupsOf(net: Network, o: TrainOptions, sched: SparsitySchedule | undefined) {
  const prunable = net.arena.prunable().map((v) => v.name);
  const global = (o.pruning ?? 'layer') === 'global';
  const groups = !sched ? [] : global ? [{ names: prunable }] : prunable.map((nm) => ({ names: [nm] }));
  // each group's final target; the shared schedule is scaled to it (s_g(t) = the schedule with target s_g)
  const layerOf = (nm: string) => net.layers.find((l) => `${l.name}.weight` === nm)!;
  const targets = !sched
    ? []
    : global
      ? [sched.target]
      : layerTargets(
          o,
          prunable.map((nm) => ({ name: layerOf(nm).name, kind: layerOf(nm).spec.kind })),
        );
  const sizes = prunable.map((nm) => net.arena.views.get(nm)!.length);
  const meanSparsity = (t: number) =>
    !sched
      ? 0
      : global
        ? sparsityAt(sched, t)
        : targets.reduce((s, x, i) => s + sparsityAt({ ...sched, target: x }, t) * sizes[i]!, 0) /
          Math.max(
            1,
            sizes.reduce((a, b) => a + b, 0),
          );
  return { groups, targets, meanSparsity };
}

/**
 * The end of the chunk that starts at `step` (at most `limit`): it stops at the next checkpoint
 * step and an injected fault, and holds at most one mask refresh (pruneAt, −1 for none).
 */
function nextChunk(
  step: number,
  limit: number,
  every: number | undefined,
  faultAt: number | undefined,
  sched: SparsitySchedule | undefined,
): { end: number; pruneAt: number } {
  let end = limit;
  if (every) end = Math.min(end, (Math.floor(step / every) + 1) * every);
  if (faultAt !== undefined && faultAt > step) end = Math.min(end, faultAt);
  let pruneAt = -1;
  if (sched) {
    for (let t = step; t < end; t++) {
      if (!isPruningStep(sched, t)) continue;
      if (pruneAt < 0) pruneAt = t;
      else {
        end = t;
        break;
      }
    }
  }
  return { end, pruneAt };
}

/** Restores the weights of the last readback whose loss was finite (optimizer moments are reset) and returns the DivergedError to throw. */
async function restoreAfterDivergence(
  net: Network,
  sch: Scheduler,
  o: TrainOptions,
  state: TrainState,
  d: { step: number; loss: number },
  lastGood: { step: number; snapshot: number },
): Promise<DivergedError> {
  let restored = 'the initial weights of this run were kept (no finite readback yet)';
  let restoredStep = lastGood.step;
  if (lastGood.snapshot >= 0) {
    const moments = [net.arena.parts.momentum.buffer, ...(net.arena.parts.variance ? [net.arena.parts.variance.buffer] : [])];
    await sch.restore(lastGood.snapshot, net.arena.parts.weights.buffer, moments);
    restored = `weights restored to step ${lastGood.step}`;
  } else restoredStep = -1;
  state.step = lastGood.step;
  return new DivergedError(
    `training stopped: the loss became ${d.loss} by step ${d.step} (lr ${o.lr}); ${restored}. ` +
      ((o.optimizer ?? 'sgd') === 'sgd' ? 'Lower --lr (or raise --l2 / lower --momentum)' : 'Lower --lr (or set --clip 1, a longer --warmup)') +
      '; the last checkpoint on disk is intact.',
    d.step,
    restoredStep,
  );
}

/** Writes the optimizer's table rows of steps [step, end) and, at a mask refresh, every group's kept count. */
function writeChunkTables(
  p: StepPlan,
  o: TrainOptions,
  lrs: LrSchedule,
  step: number,
  end: number,
  prune?: { sched: SparsitySchedule; targets: number[]; at: number },
): void {
  const rows: number[][] = [];
  for (let t = step; t < end; t++) rows.push(tableRow(o, lrs, t));
  p.setHyperRows(step, rows);
  if (prune) p.setPruneK(p.pruneGroups.map((g, i) => keptCount(g.total, sparsityAt({ ...prune.sched, target: prune.targets[i]! }, prune.at))));
}

/** At an epoch end or a checkpoint step (not the last step): drains, then calls onEpochEnd/onCheckpoint unless the loss diverged; true when it saved. */
async function saveAtBoundary(
  cb: TrainCallbacks,
  sch: Scheduler,
  log: ReadbackLog,
  step: number,
  epochDone: boolean,
  every: number | undefined,
  totalSteps: number,
): Promise<boolean> {
  if (!((cb.onEpochEnd || cb.onCheckpoint) && (epochDone || (every && step % every === 0)) && step < totalSteps)) return false;
  await sch.drain();
  if (log.diverged) return false;
  if (epochDone) await cb.onEpochEnd?.(step);
  await cb.onCheckpoint?.(step);
  return true;
}

/** The run's summary: steps, epochs, history and throughput since t0. */
function summaryOf(
  step: number,
  startStep: number,
  stepsPerEpoch: number,
  perStep: number,
  t0: number,
  recordMs: number,
  history: LogEntry[],
  shared: WeightSharing | undefined,
): TrainSummary {
  const wall = (performance.now() - t0) / 1000;
  const ran = step - startStep;
  return {
    ...(shared ? { qat: shared } : {}),
    steps: step,
    epochs: step / stepsPerEpoch,
    history,
    wallSeconds: wall,
    samplesPerSec: (ran * perStep) / Math.max(wall, 1e-9),
    cpuRecordShare: recordMs / Math.max(1e-9, wall * 1000),
    msPerStep: (wall * 1000) / Math.max(1, ran),
  };
}

/** The loss readbacks of a run: its history, the first non-finite loss, and the last step whose loss was finite (with its weight snapshot). */
class ReadbackLog {
  readonly history: LogEntry[] = [];
  diverged: { step: number; loss: number } | undefined;
  lastGood: { step: number; snapshot: number };

  constructor(
    private net: Network,
    private stepsPerEpoch: number,
    private perStep: number,
    private startStep: number,
    private t0: number,
    private lrAt: (t: number) => number,
    private sparsityAt: (t: number) => number,
    private onLog?: (e: LogEntry) => void,
  ) {
    this.lastGood = { step: startStep, snapshot: -1 };
  }

  readonly onReadback = (r: Readback): void => {
    const s = statsOf(this.net.spec, r.stats);
    if (!Number.isFinite(s.loss)) {
      this.diverged ??= { step: r.step, loss: s.loss };
      return;
    }
    if (!this.diverged && r.step > this.lastGood.step) this.lastGood = { step: r.step, snapshot: r.snapshot };
    const e: LogEntry = {
      step: r.step,
      epoch: r.step / this.stepsPerEpoch,
      loss: s.loss,
      accuracy: s.accuracy,
      bitsPerByte: s.bitsPerByte,
      samplesPerSec: ((r.step - this.startStep) * this.perStep) / Math.max(1e-9, (performance.now() - this.t0) / 1000),
      lr: this.lrAt(r.step - 1),
      sparsity: this.sparsityAt(r.step - 1),
    };
    this.history.push(e);
    this.onLog?.(e);
  };
}

/**
 * Trains `net` on `train` from step `state.step`. Throws DivergedError on a NaN/Inf loss after
 * restoring the weights of the last finite readback.
 */
export async function trainNetwork(
  net: Network,
  train: AnyDataset,
  o: TrainOptions,
  state: TrainState,
  cb: TrainCallbacks = {},
): Promise<TrainSummary> {
  validateTrainOptions(o);
  const gpu = net.gpu;
  const B = o.batch;
  const n = sampleCount(net.spec, train);
  const text = net.spec.task === 'language';
  if (n < B) throw new TrainError(`train: batch ${B} is larger than the training set (${n} ${text ? 'windows' : 'samples'})`);
  const perSample = text ? net.spec.input[0]! : 1;
  const stepsPerEpoch = Math.floor(n / B);
  const totalSteps = Math.min(o.maxSteps ?? Infinity, o.epochs * stepsPerEpoch);
  const sched = sparsityScheduleOf(o, totalSteps);
  const lrs: LrSchedule = { kind: o.lrSchedule ?? 'constant', lr: o.lr, totalSteps, warmup: o.warmup };
  const optimizer = o.optimizer ?? 'sgd';
  const data = deviceDataOf(gpu, net.spec, train, 'train');
  const { groups, targets, meanSparsity } = pruneGroupsOf(net, o, sched);
  let plan: StepPlan | undefined;
  let sch: Scheduler | undefined;
  let qat: QatState | undefined;
  let checkpointStep: number | undefined;
  const every = o.checkpointEvery,
    faultAt = cb.fault?.deviceLostAtStep;
  const t0 = performance.now();
  const startStep = state.step;
  const logEvery = Math.max(1, o.logEvery ?? Math.max(1, Math.min(50, Math.floor(stepsPerEpoch / 4))));
  const log = new ReadbackLog(
    net,
    stepsPerEpoch,
    B * perSample,
    startStep,
    t0,
    (t) => lrAt(lrs, t),
    meanSparsity,
    (e) => cb.onLog?.(e),
  );
  try {
    if (o.qat) qat = await QatState.create(net, o.qat);
    plan = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, B, { prune: groups, optimizer, clip: (o.clip ?? 0) > 0, qat });
    const p = plan;
    // QAT from qatBegin on; the codebooks start at the first QAT step of this run (a resume re-fits them)
    const qatBegin = o.qat ? (o.qat.begin ?? (sched ? sched.endStep : 0)) : Infinity;
    const qatFirst = Math.max(qatBegin, state.step);
    const pick = qat ? qatStepRecords(p, qat, qatBegin, qatFirst) : (t: number, prune: boolean) => (prune ? p.trainPrune : p.train);
    sch = new Scheduler(
      gpu,
      {
        stats: { buffer: p.stats.buffer, bytes: LOSS_STATS.size * 4 },
        snapshot: { buffer: net.arena.parts.weights.buffer, bytes: net.arena.size * 4 },
        maxInFlight: o.maxInFlight,
      },
      log.onReadback,
    );
    const perSubmit = Math.max(1, Math.min(o.stepsPerSubmit ?? 8, TABLE_CAP));
    let step = state.step;
    let permEpoch = -1;
    while (step < totalSteps && !log.diverged) {
      const epoch = Math.floor(step / stepsPerEpoch);
      const epochEnd = (epoch + 1) * stepsPerEpoch;
      const { end, pruneAt } = nextChunk(step, Math.min(step + perSubmit, epochEnd, totalSteps), every, faultAt, sched);
      if (permEpoch !== epoch) {
        p.setPermutation(shuffledIndices(n, o.seed, epoch));
        p.setStep(step, epoch * stepsPerEpoch);
        permEpoch = epoch;
      }
      writeChunkTables(p, o, lrs, step, end, pruneAt >= 0 ? { sched: sched!, targets, at: pruneAt } : undefined);
      await sch.submit(
        step,
        end,
        (t) => pick(t, t === pruneAt),
        (t) => (t + 1) % logEvery === 0 || t + 1 === totalSteps,
      );
      if (faultAt === end) {
        gpu.simulateLoss(`fault injected (device-lost@step=${faultAt})`);
        await gpu.whenLost;
      }
      step = end;
      state.step = step;
      if (await saveAtBoundary(cb, sch, log, step, step % stepsPerEpoch === 0, every, totalSteps)) checkpointStep = step;
      if (cb.shouldStop?.()) break;
    }
    await sch.drain();
    if (log.diverged) throw await restoreAfterDivergence(net, sch, o, state, log.diverged, log.lastGood);
    // the snapped weights and their codebooks (as a weight sharing) after QAT
    const shared = qat ? (await qat.finish(state.step <= qatFirst), await qat.sharing(o.qat!.iterations ?? 30)) : undefined;
    return summaryOf(state.step, startStep, stepsPerEpoch, B * perSample, t0, sch.recordMs, log.history, shared);
  } catch (e) {
    // a failed readback is often the first sign of a lost device: give the loss a moment to arrive
    if (!gpu.lost && !(e instanceof DivergedError)) await Promise.race([gpu.whenLost, new Promise((r) => setTimeout(r, 50))]);
    if (!gpu.lost) throw e;
    state.step = checkpointStep ?? startStep;
    throw deviceLostError(gpu, Math.max(log.lastGood.step, checkpointStep ?? -1), checkpointStep, startStep);
  } finally {
    await sch?.dispose();
    plan?.destroy();
    qat?.destroy();
    data.dispose();
  }
}
