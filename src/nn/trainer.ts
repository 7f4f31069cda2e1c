// Training that lives on the GPU: the scheduler records many steps into one command encoder,
// keeps a bounded number of submissions in flight, and reads loss/accuracy back every `logEvery`
// steps through a pool of MAP_READ buffers without stalling the next submission.
import type { Gpu } from '../gpu/device.js';
import { encodeDispatches } from '../gpu/dispatch.js';
import { createTensor, readBuffer, type Tensor } from '../gpu/tensor.js';
import { packBytes } from '../kernels/step.js';
import { LOSS_STATS } from '../kernels/loss.js';
import { shuffledIndices } from '../data/random.js';
import type { RawDataset } from '../data/dataset.js';
import { isPruningStep, keptCount, lrAt, sparsityAt, validateSchedule, type LrSchedule, type SparsitySchedule } from '../compress/schedule.js';
import { resolvePerLayer, type TargetLayer } from '../compress/targets.js';
import { Arena, type ParamSpec } from './arena.js';
import { initParams, modelParams, resolveModel, type ModelSpec, type ResolvedLayer } from './model.js';
import { StepPlan, TABLE_CAP, type DeviceData } from './plan.js';

export interface TrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  l2: number;
  lrSchedule?: LrSchedule['kind'];
  /** Pruning: target sparsity and schedule; undefined or sparsity 0 = dense. */
  sparsity?: number;
  /**
   * Per-layer targets by layer name ('conv1': 0.34, 'dense1': 0.92, ...), as Deep Compression sets
   * them; layers not named get `sparsity` (or stay dense). Needs pruning 'layer'.
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
}

export interface LogEntry {
  step: number;
  epoch: number;
  loss: number;
  /** Training accuracy over the logged interval (classification). */
  accuracy?: number;
  samplesPerSec: number;
  lr: number;
  sparsity: number;
}

export interface EvalResult {
  loss: number;
  accuracy?: number;
  mse?: number;
  psnr?: number;
  n: number;
}

export class DivergedError extends Error {
  constructor(message: string, readonly step: number, readonly restoredStep: number) {
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

export function uploadDataset(gpu: Gpu, ds: RawDataset, normalise: 'standard' | 'unit' = 'standard'): DeviceData & { dispose(): void } {
  const bytes = ds.inputs instanceof Uint8Array;
  const inputs = bytes
    ? createTensor(gpu, [Math.max(1, Math.ceil(ds.inputs.length / 4))], packBytes(ds.inputs as Uint8Array), { dtype: 'u32', label: `${ds.name}.inputs` })
    : createTensor(gpu, [ds.inputs.length], ds.inputs, { label: `${ds.name}.inputs` });
  const owned: Tensor[] = [inputs];
  let labels: Tensor | undefined;
  if (ds.labels) { labels = createTensor(gpu, [ds.n], Uint32Array.from(ds.labels), { dtype: 'u32', label: `${ds.name}.labels` }); owned.push(labels); }
  let targets: Tensor | undefined;
  if (ds.targets && ds.targetDim > 0) { targets = createTensor(gpu, [ds.targets.length], ds.targets, { label: `${ds.name}.targets` }); owned.push(targets); }
  const nz = ds.normalization;
  // standard: (x·scale − mean)/std ; unit: x·scale (pixels in [0, 1], for autoencoders)
  const scale = normalise === 'unit' ? nz.scale : nz.scale / nz.std;
  const shift = normalise === 'unit' ? 0 : -nz.mean / nz.std;
  return {
    inputs, bytes, n: ds.n, D: ds.featureCount, labels, targets, T: ds.targetDim || undefined, scale, shift,
    dispose() { for (const t of owned) t.dispose(); },
  };
}

/** A model on the GPU: resolved layers and the parameter arena. */
export class Network {
  private constructor(readonly gpu: Gpu, readonly spec: ModelSpec, readonly layers: ResolvedLayer[], readonly arena: Arena) {}

  static create(gpu: Gpu, spec: ModelSpec, seed = 0): Network {
    const layers = resolveModel(spec);
    const params: ParamSpec[] = modelParams(layers).map(({ name, shape, prunable }) => ({ name, shape, prunable }));
    const net = new Network(gpu, spec, layers, new Arena(gpu, params));
    net.arena.write('weights', initParams(layers, seed));
    return net;
  }

  get paramCount(): number {
    return this.arena.paramCount;
  }

  /** Applies the mask to the weights (w ← w·mask) on the CPU copy and uploads both. */
  async setParams(values: Map<string, Float32Array>, masks?: Map<string, Float32Array>, momentum?: Map<string, Float32Array>): Promise<void> {
    this.arena.write('weights', values);
    if (masks) this.arena.write('mask', masks);
    if (momentum) this.arena.write('momentum', momentum);
    await this.gpu.device.queue.onSubmittedWorkDone();
  }

  dispose(): void {
    this.arena.destroy();
  }
}

function statsOf(spec: ModelSpec, s: Float32Array, outD: number): EvalResult {
  const n = s[LOSS_STATS.count]!;
  const loss = s[LOSS_STATS.lossSum]! / Math.max(1, n);
  if (spec.task === 'classification') return { loss, accuracy: s[LOSS_STATS.correct]! / Math.max(1, n), n };
  // the mse kernel sums per-sample mean squared errors: loss is the mean squared error per value
  const mse = loss;
  void outD;
  return { loss, mse, psnr: spec.task === 'autoencoder' ? 10 * Math.log10(1 / Math.max(mse, 1e-12)) : undefined, n };
}

/** Forward-only passes over a data set: statistics and predictions. */
export async function evaluate(net: Network, ds: RawDataset, opts: { batch?: number; normalise?: 'standard' | 'unit'; predictions?: boolean } = {}): Promise<EvalResult & { predictions?: Float32Array }> {
  const gpu = net.gpu;
  const data = uploadDataset(gpu, ds, opts.normalise ?? (net.spec.task === 'autoencoder' ? 'unit' : 'standard'));
  const B = Math.min(opts.batch ?? 500, ds.n);
  const full = Math.floor(ds.n / B), rem = ds.n - full * B;
  const plans: { plan: StepPlan; steps: number; first: number }[] = [];
  try {
    const main = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, B, { train: false });
    plans.push({ plan: main, steps: full, first: 0 });
    if (rem > 0) {
      const tail = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, rem, { train: false });
      const perm = Uint32Array.from({ length: ds.n }, (_, i) => (full * B + i) % ds.n);
      tail.setPermutation(perm);
      plans.push({ plan: tail, steps: 1, first: full * B });
    }
    const outD = main.output.size / B;
    const preds = opts.predictions ? gpu.device.createBuffer({ label: 'eval.predictions', size: ds.n * outD * 4, usage: 0x80 | 0x4 | 0x8 }) : undefined;
    const enc = gpu.device.createCommandEncoder({ label: 'evaluate' });
    for (const { plan, steps, first } of plans) {
      plan.setStep(0, 0);
      enc.clearBuffer(plan.stats.buffer);
      for (let s = 0; s < steps; s++) {
        encodeDispatches(enc, plan.evalStep, 'eval');
        if (preds) enc.copyBufferToBuffer(plan.output.buffer, plan.output.offset, preds, (first + s * plan.B) * outD * 4, plan.B * outD * 4);
      }
    }
    gpu.device.queue.submit([enc.finish()]);
    const total = new Float32Array(LOSS_STATS.size);
    for (const { plan } of plans) {
      const s = new Float32Array(await readBuffer(gpu, plan.stats.buffer, 0, LOSS_STATS.size * 4));
      for (let i = 0; i < total.length; i++) total[i]! += s[i]!;
    }
    const res: EvalResult & { predictions?: Float32Array } = statsOf(net.spec, total, outD);
    if (preds) {
      res.predictions = new Float32Array(await readBuffer(gpu, preds, 0, ds.n * outD * 4));
      preds.destroy();
    }
    return res;
  } finally {
    for (const p of plans) p.plan.destroy();
    data.dispose();
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
}

export interface TrainSummary {
  steps: number;
  epochs: number;
  history: LogEntry[];
  wallSeconds: number;
  samplesPerSec: number;
  /** Share of wall time the CPU spent recording and submitting command buffers. */
  cpuRecordShare: number;
  msPerStep: number;
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
    kind: o.schedule ?? 'polynomial', target: maxTarget(o), initial: o.initialSparsity ?? 0,
    beginStep: begin, endStep: end, frequency: o.pruneFrequency ?? Math.max(1, Math.floor((end - begin) / 20)),
  };
  validateSchedule(s);
  return s;
}

export function validateTrainOptions(o: TrainOptions): void {
  const bad = (name: string, want: string, v: unknown) => { throw new TrainError(`train: ${name} must be ${want}, got ${String(v)}`); };
  if (!Number.isInteger(o.epochs) || o.epochs < 1) bad('epochs', 'a positive integer', o.epochs);
  if (!Number.isInteger(o.batch) || o.batch < 1) bad('batch', 'a positive integer', o.batch);
  if (!Number.isFinite(o.lr) || o.lr <= 0) bad('lr', 'a finite number > 0', o.lr);
  if (!Number.isFinite(o.momentum) || o.momentum < 0 || o.momentum >= 1) bad('momentum', 'in [0, 1)', o.momentum);
  if (!Number.isFinite(o.l2) || o.l2 < 0) bad('l2', 'a finite number ≥ 0', o.l2);
  if (o.sparsity !== undefined && (!Number.isFinite(o.sparsity) || o.sparsity < 0 || o.sparsity > 1)) bad('sparsity', 'in [0, 1]', o.sparsity);
  for (const [k, v] of Object.entries(o.layerSparsity ?? {})) if (!Number.isFinite(v) || v < 0 || v > 1) bad(`layerSparsity.${k}`, 'in [0, 1]', v);
  if (o.layerSparsity && Object.keys(o.layerSparsity).length > 0 && o.pruning === 'global') bad('pruning', "'layer' when per-layer sparsity targets are given", o.pruning);
  if (!Number.isInteger(o.seed)) bad('seed', 'an integer', o.seed);
  if (o.maxSteps !== undefined && (!Number.isInteger(o.maxSteps) || o.maxSteps < 1)) bad('maxSteps', 'a positive integer', o.maxSteps);
}

/**
 * Trains `net` on `train` from step `state.step`. Throws DivergedError on a NaN/Inf loss after
 * restoring the weights of the last finite readback.
 */
export async function trainNetwork(net: Network, train: RawDataset, o: TrainOptions, state: TrainState, cb: TrainCallbacks = {}): Promise<TrainSummary> {
  validateTrainOptions(o);
  const gpu = net.gpu;
  const B = o.batch;
  if (train.n < B) throw new TrainError(`train: batch ${B} is larger than the training set (${train.n} samples)`);
  const stepsPerEpoch = Math.floor(train.n / B);
  const totalSteps = Math.min(o.maxSteps ?? Infinity, o.epochs * stepsPerEpoch);
  const sched = sparsityScheduleOf(o, totalSteps);
  const lrs: LrSchedule = { kind: o.lrSchedule ?? 'constant', lr: o.lr, totalSteps };
  const data = uploadDataset(gpu, train, net.spec.task === 'autoencoder' ? 'unit' : 'standard');
  const prunable = net.arena.prunable().map((v) => v.name);
  const global = (o.pruning ?? 'layer') === 'global';
  const groups = !sched ? [] : global ? [{ names: prunable }] : prunable.map((n) => ({ names: [n] }));
  // each group's final target; the shared schedule is scaled to it (s_g(t) = schedule with target s_g)
  const layerOf = (n: string) => net.layers.find((l) => `${l.name}.weight` === n)!;
  const targets = !sched ? [] : global ? [sched.target] : layerTargets(o, prunable.map((n) => ({ name: layerOf(n).name, kind: layerOf(n).spec.kind })));
  const sizes = prunable.map((n) => net.arena.views.get(n)!.length);
  const meanSparsity = (t: number) => !sched ? 0 : global ? sparsityAt(sched, t)
    : targets.reduce((s, x, i) => s + sparsityAt({ ...sched, target: x }, t) * sizes[i]!, 0) / Math.max(1, sizes.reduce((a, b) => a + b, 0));
  const plan = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, B, { prune: groups });
  const logEvery = Math.max(1, o.logEvery ?? Math.max(1, Math.min(50, Math.floor(stepsPerEpoch / 4))));
  const perSubmit = Math.max(1, Math.min(o.stepsPerSubmit ?? 8, TABLE_CAP));
  const maxInFlight = Math.max(1, o.maxInFlight ?? 2);
  const arenaBytes = net.arena.size * 4;
  const snapshots = Array.from({ length: 3 }, (_, i) => gpu.device.createBuffer({ label: `snapshot${i}`, size: arenaBytes, usage: 0x4 | 0x8 }));
  const statPool: GPUBuffer[] = [];
  const history: LogEntry[] = [];
  const inFlight: Promise<unknown>[] = [];
  // statistics readbacks not yet processed (each removes itself when done)
  const pending = new Set<Promise<void>>();
  let diverged: { step: number; loss: number } | undefined;
  let lastGood = { step: state.step, snapshot: -1 };
  let snapIdx = 0;
  let recordMs = 0;
  const t0 = performance.now();
  const startStep = state.step;

  const takeStaging = () => statPool.pop() ?? gpu.device.createBuffer({ label: 'stats.readback', size: LOSS_STATS.size * 4, usage: 0x1 | 0x8 });
  const onStats = (buf: GPUBuffer, step: number, snap: number) => buf.mapAsync(0x1).then(() => {
    const s = new Float32Array(buf.getMappedRange().slice(0));
    buf.unmap();
    statPool.push(buf);
    const now = performance.now();
    const r = statsOf(net.spec, s, 0);
    if (!Number.isFinite(r.loss)) {
      diverged ??= { step, loss: r.loss };
      return;
    }
    if (!diverged && step > lastGood.step) lastGood = { step, snapshot: snap };
    const e: LogEntry = {
      step, epoch: step / stepsPerEpoch, loss: r.loss, accuracy: r.accuracy,
      samplesPerSec: ((step - startStep) * B) / Math.max(1e-9, (now - t0) / 1000),
      lr: lrAt(lrs, step - 1), sparsity: meanSparsity(step - 1),
    };
    history.push(e);
    cb.onLog?.(e);
  });

  try {
    let step = state.step;
    let permEpoch = -1;
    while (step < totalSteps && !diverged) {
      const epoch = Math.floor(step / stepsPerEpoch);
      const epochEnd = (epoch + 1) * stepsPerEpoch;
      // a chunk: up to perSubmit steps, inside one epoch, at most one mask refresh
      let end = Math.min(step + perSubmit, epochEnd, totalSteps);
      let pruneAt = -1;
      if (sched) {
        for (let t = step; t < end; t++) {
          if (isPruningStep(sched, t)) {
            if (pruneAt < 0) pruneAt = t;
            else { end = t; break; }
          }
        }
      }
      const tRec = performance.now();
      if (permEpoch !== epoch) {
        plan.setPermutation(shuffledIndices(train.n, o.seed, epoch));
        plan.setStep(step, epoch * stepsPerEpoch);
        permEpoch = epoch;
      }
      const rows: [number, number, number][] = [];
      for (let t = step; t < end; t++) rows.push([lrAt(lrs, t), o.momentum, o.l2]);
      plan.setHyperRows(step, rows);
      if (pruneAt >= 0) {
        plan.setPruneK(plan.pruneGroups.map((g, i) => keptCount(g.total, sparsityAt({ ...sched!, target: targets[i]! }, pruneAt))));
      }
      const enc = gpu.device.createCommandEncoder({ label: `train ${step}..${end}` });
      const reads: [GPUBuffer, number, number][] = [];
      for (let t = step; t < end; t++) {
        encodeDispatches(enc, t === pruneAt ? plan.trainPrune : plan.train, `step ${t}`);
        if ((t + 1) % logEvery === 0 || t + 1 === totalSteps) {
          const buf = takeStaging();
          enc.copyBufferToBuffer(plan.stats.buffer, 0, buf, 0, LOSS_STATS.size * 4);
          enc.clearBuffer(plan.stats.buffer);
          const snap = snapIdx++ % snapshots.length;
          enc.copyBufferToBuffer(net.arena.parts.weights.buffer, 0, snapshots[snap]!, 0, arenaBytes);
          reads.push([buf, t + 1, snap]);
        }
      }
      gpu.device.queue.submit([enc.finish()]);
      recordMs += performance.now() - tRec;
      for (const [buf, s, snap] of reads) {
        const p: Promise<void> = onStats(buf, s, snap).finally(() => pending.delete(p));
        pending.add(p);
      }
      inFlight.push(gpu.device.queue.onSubmittedWorkDone());
      if (inFlight.length > maxInFlight) await inFlight.shift();
      gpu.check();
      step = end;
      state.step = step;
      if (cb.onEpochEnd && step % stepsPerEpoch === 0 && step < totalSteps) {
        await Promise.all(inFlight.splice(0));
        await Promise.all([...pending]);
        if (!diverged) await cb.onEpochEnd(step);
      }
      if (cb.shouldStop?.()) break;
    }
    await Promise.all(inFlight);
    await Promise.all([...pending]);
    gpu.check();
    if (diverged) {
      // restore the weights of the last readback whose loss was finite (momentum is reset)
      const d = diverged as { step: number; loss: number };
      let restored = 'the initial weights of this run were kept (no finite readback yet)';
      let restoredStep = lastGood.step;
      if (lastGood.snapshot >= 0) {
        const enc = gpu.device.createCommandEncoder({ label: 'restore' });
        enc.copyBufferToBuffer(snapshots[lastGood.snapshot]!, 0, net.arena.parts.weights.buffer, 0, arenaBytes);
        enc.clearBuffer(net.arena.parts.momentum.buffer);
        gpu.device.queue.submit([enc.finish()]);
        await gpu.device.queue.onSubmittedWorkDone();
        restored = `weights restored to step ${lastGood.step}`;
      } else restoredStep = -1;
      state.step = lastGood.step;
      throw new DivergedError(
        `training stopped: the loss became ${d.loss} by step ${d.step} (lr ${o.lr}); ${restored}. ` +
          'Lower --lr (or raise --l2 / lower --momentum); the last checkpoint on disk is intact.',
        d.step, restoredStep);
    }
    const wall = (performance.now() - t0) / 1000;
    const ran = state.step - startStep;
    return {
      steps: state.step, epochs: state.step / stepsPerEpoch, history, wallSeconds: wall,
      samplesPerSec: (ran * B) / Math.max(wall, 1e-9),
      cpuRecordShare: recordMs / Math.max(1e-9, wall * 1000),
      msPerStep: (wall * 1000) / Math.max(1, ran),
    };
  } finally {
    await Promise.allSettled([...pending]);
    plan.destroy();
    data.dispose();
    for (const s of snapshots) s.destroy();
    for (const b of statPool) b.destroy();
  }
}
