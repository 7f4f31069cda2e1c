// The pieces of one training run's loop (nn/trainer.ts): the pruning groups and their targets, where a
// chunk of steps ends, the chunk's table rows, the readback log with its divergence guard, the
// checkpoint boundary, the restore after a divergence and the run's summary.
import { keptCount, isPruningStep, sparsityAt, type LrSchedule, type SparsitySchedule } from './schedule.js';
import { statsOf, type Network } from './network.js';
import type { StepPlan } from './plan.js';
import type { Scheduler, Readback } from './scheduler.js';
import type { WeightSharing } from './codebook.js';
import {
  DivergedError,
  layerTargets,
  tableRow,
  type LogEntry,
  type TrainCallbacks,
  type TrainOptions,
  type TrainState,
  type TrainSummary,
} from './train-options.js';

/** The pruning groups of a run (one per prunable matrix, or one for global pruning), their final targets and the mean sparsity at step t. */
export function pruneGroupsOf(net: Network, o: TrainOptions, sched: SparsitySchedule | undefined) {
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
export function nextChunk(
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
export async function restoreAfterDivergence(
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
export function writeChunkTables(
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
export async function saveAtBoundary(
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
export function summaryOf(
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
export class ReadbackLog {
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
