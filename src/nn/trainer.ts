// Training policy: chunks of steps inside epochs, the per-step tables (learning rate with warm-up
// and schedule, optimizer hyper-parameters), mask refreshes on the sparsity schedule, readbacks,
// the divergence guard and epoch callbacks. The submission loop itself (one encoder per chunk,
// bounded in-flight submissions, the readback ring, weight snapshots) is the Scheduler. The options
// and results live in train-options.ts, the loop's pieces in train-chunks.ts.
import { shuffledIndices } from '../data/random.js';
import { LOSS_STATS } from '../kernels/loss.js';
import { lrAt, type LrSchedule, type SparsitySchedule } from './schedule.js';
import { deviceDataOf, sampleCount, type AnyDataset, type Network } from './network.js';
import { StepPlan, TABLE_CAP } from './plan.js';
import { Scheduler } from './scheduler.js';
import type { Dispatch } from '../gpu/dispatch.js';
import { deviceLostError } from './faults.js';
import { QatState, qatStepRecords } from './qat.js';
import {
  DivergedError,
  sparsityScheduleOf,
  TrainError,
  validateTrainOptions,
  type TrainCallbacks,
  type TrainOptions,
  type TrainState,
  type TrainSummary,
} from './train-options.js';
import { nextChunk, pruneGroupsOf, ReadbackLog, restoreAfterDivergence, saveAtBoundary, summaryOf, writeChunkTables } from './train-chunks.js';

export { DeviceLostError } from './faults.js';

export { Network, evaluate, uploadDataset, uploadText, deviceDataOf, statsOf, type EvalResult, type AnyDataset } from './network.js';

export {
  DivergedError,
  TrainError,
  layerTargets,
  sparsityScheduleOf,
  tableRow,
  validateTrainOptions,
  type LogEntry,
  type TrainCallbacks,
  type TrainOptions,
  type TrainState,
  type TrainSummary,
} from './train-options.js';

/** The fixed quantities of one run's chunk loop. */
interface LoopShape {
  /** Training samples (windows for a language model). */
  n: number;
  stepsPerEpoch: number;
  totalSteps: number;
  sched: SparsitySchedule | undefined;
  lrs: LrSchedule;
  /** Each pruning group's final target. */
  targets: number[];
  logEvery: number;
}

/**
 * Records and submits the run's chunks of steps until the last step, a divergence or a stop
 * request; `saved.step` is the step of the last checkpoint written.
 */
async function runChunks(
  net: Network,
  o: TrainOptions,
  state: TrainState,
  cb: TrainCallbacks,
  s: LoopShape,
  p: StepPlan,
  sch: Scheduler,
  log: ReadbackLog,
  pick: (t: number, prune: boolean) => readonly Dispatch[],
  saved: { step?: number },
): Promise<void> {
  const gpu = net.gpu;
  const { n, stepsPerEpoch, totalSteps, sched, lrs, targets, logEvery } = s;
  const every = o.checkpointEvery,
    faultAt = cb.fault?.deviceLostAtStep;
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
    if (await saveAtBoundary(cb, sch, log, step, step % stepsPerEpoch === 0, every, totalSteps)) saved.step = step;
    if (cb.shouldStop?.()) break;
  }
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
  const saved: { step?: number } = {};
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
    await runChunks(net, o, state, cb, { n, stepsPerEpoch, totalSteps, sched, lrs, targets, logEvery }, p, sch, log, pick, saved);
    await sch.drain();
    if (log.diverged) throw await restoreAfterDivergence(net, sch, o, state, log.diverged, log.lastGood);
    // the snapped weights and their codebooks (as a weight sharing) after QAT
    const shared = qat ? (await qat.finish(state.step <= qatFirst), await qat.sharing(o.qat!.iterations ?? 30)) : undefined;
    return summaryOf(state.step, startStep, stepsPerEpoch, B * perSample, t0, sch.recordMs, log.history, shared);
  } catch (e) {
    // a failed readback is often the first sign of a lost device: give the loss a moment to arrive
    if (!gpu.lost && !(e instanceof DivergedError)) await Promise.race([gpu.whenLost, new Promise((r) => setTimeout(r, 50))]);
    if (!gpu.lost) throw e;
    state.step = saved.step ?? startStep;
    throw deviceLostError(gpu, Math.max(log.lastGood.step, saved.step ?? -1), saved.step, startStep);
  } finally {
    await sch?.dispose();
    plan?.destroy();
    qat?.destroy();
    data.dispose();
  }
}
