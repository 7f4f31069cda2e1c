// A whole run: load data, build (or resume) the model, train, evaluate, checkpoint, report.
// Used by `slimgpu train` / `slimgpu eval` and by tests; Node only (files).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gpu } from '../gpu/device.js';
import { writeFileAtomic } from '../io/files.js';
import { acquireRunLock, type RunLock } from '../io/runlock.js';
import { DeviceLostError, type FaultPlan } from '../nn/faults.js';
import { evaluate, Network, trainNetwork, type LogEntry, type TrainSummary } from '../nn/trainer.js';
import { sampleCount } from '../nn/network.js';
import type { RunReport } from '../compress/report.js';
import { readFileBytes } from '../io/files.js';
import { importStateDict } from '../io/torch.js';
import { RunError, type RunConfig } from './config.js';
import { loadAnyData, specFor, contextOf, type AnySplit } from './data.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { buildReport, fileBytesOf } from './report.js';
import { compressNetwork, qatOptionsOf } from './compress.js';

export { RunError, RUN_DEFAULTS, type RunConfig } from './config.js';
export { DATA_SOURCES, loadAnyData, loadData, contextOf, specFor, type AnySplit } from './data.js';
export { writeCheckpoint, checkpointModel, readCheckpoint, type CheckpointModel } from './checkpoint.js';
export { buildReport, fileBytesOf, formatReport } from './report.js';
export { bitsPerLayer, compressNetwork, qatOptionsOf, qatStagesOf, qatTrainOptions } from './compress.js';

export interface RunHooks {
  onLog?(e: LogEntry, totalSteps: number): void;
  onStart?(info: { totalSteps: number; startStep: number; params: number }): void;
  /** Fault injection (the CLI passes SLIMGPU_FAULT=device-lost@step=N here). */
  fault?: FaultPlan;
}

/** Trains per `cfg` (resuming from `resume` when given) and returns the report. */
export async function runTraining(
  gpu: Gpu,
  given: RunConfig,
  hooks: RunHooks = {},
  resume?: string,
): Promise<{ report: RunReport; net: Network; summary: TrainSummary }> {
  const locks: RunLock[] = [];
  try {
    return await runLocked(gpu, given, hooks, resume, locks);
  } finally {
    for (const l of locks) await l.release();
  }
}

/** The network, step and config of a resumed run: the model and data come from the checkpoint; values given here (e.g. more epochs, another lr) win. */
async function resumeFrom(gpu: Gpu, resume: string, given: RunConfig): Promise<{ net: Network; step: number; cfg: RunConfig }> {
  const r = await readCheckpoint(gpu, resume);
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<RunConfig>;
  for (const k of ['model', 'data'] as const) {
    if (defined[k] !== undefined && defined[k] !== r.cfg[k]) {
      r.net.dispose();
      throw new RunError(`--resume: the checkpoint was trained with ${k} '${r.cfg[k]}', not '${defined[k]}'`);
    }
  }
  return { net: r.net, step: r.step, cfg: { ...r.cfg, ...defined } };
}

/**
 * Opens a run: the network (resumed, or created and optionally initialised from a state_dict), its
 * configuration, the data and the QAT options; takes the run folder's lock. Disposes the network on a failure.
 */
async function openRun(gpu: Gpu, given: RunConfig, resume: string | undefined, locks: RunLock[]) {
  let net: Network;
  let startStep = 0;
  let cfg = given;
  if (resume) ({ net, step: startStep, cfg } = await resumeFrom(gpu, resume, given));
  let data: AnySplit;
  let init: Map<string, Float32Array> | undefined;
  try {
    data = await loadAnyData(cfg.data, {
      dataDir: cfg.dataDir,
      trainSize: cfg.trainSize,
      testSize: cfg.testSize,
      seed: cfg.seed,
      context: contextOf(cfg.model),
    });
    // --init: the state_dict is checked before anything is written (not even the run folder)
    if (cfg.init && !resume)
      init = importStateDict(await readFileBytes(cfg.init, 'init state_dict'), specFor(cfg.model, data.train), {
        names: cfg.initNames,
        name: cfg.init,
      }).values;
    // one writer per run folder: refused while another live process holds it, taken over when stale
    if (cfg.out) locks.push(await acquireRunLock(cfg.out));
  } catch (e) {
    if (resume) net!.dispose();
    throw e;
  }
  if (!resume) net = Network.create(gpu, specFor(cfg.model, data.train), cfg.seed);
  net = net!;
  if (init) {
    try {
      await net.setParams(init);
    } catch (e) {
      net.dispose();
      throw e;
    }
  }
  if (cfg.optimizer === 'adamw') net.arena.ensureVariance();
  let qat;
  try {
    qat = qatOptionsOf(net, cfg);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { net, startStep, cfg, data, qat };
}

async function runLocked(
  gpu: Gpu,
  given: RunConfig,
  hooks: RunHooks,
  resume: string | undefined,
  locks: RunLock[],
): Promise<{ report: RunReport; net: Network; summary: TrainSummary }> {
  const { net, startStep, cfg, data, qat } = await openRun(gpu, given, resume, locks);
  const stepsPerEpoch = Math.floor(sampleCount(net.spec, data.train) / cfg.batch);
  const totalSteps = Math.min(cfg.maxSteps ?? Infinity, cfg.epochs * stepsPerEpoch);
  hooks.onStart?.({ totalSteps, startStep, params: net.paramCount });
  const state = { step: startStep };
  const ckptPath = cfg.out ? join(cfg.out, 'checkpoint.safetensors') : undefined;
  if (cfg.out) await mkdir(cfg.out, { recursive: true });
  let summary: TrainSummary;
  try {
    summary = await trainNetwork(net, data.train, { ...cfg, qat }, state, {
      onLog: (e) => hooks.onLog?.(e, totalSteps),
      onCheckpoint: ckptPath ? (step) => writeCheckpoint(ckptPath, net, step, cfg) : undefined,
      fault: hooks.fault,
    });
  } catch (e) {
    net.dispose();
    if (e instanceof DeviceLostError) {
      const from = e.checkpointStep !== undefined ? ckptPath : resume;
      e.message += from
        ? ` Continue from ${from}: slimgpu train --resume ${from}${cfg.out ? ` --out ${cfg.out}` : ''}`
        : ' No checkpoint to continue from: give --out DIR (and --checkpoint-every N) to keep one.';
    }
    throw e;
  }
  if (ckptPath) await writeCheckpoint(ckptPath, net, state.step, cfg);
  const { bytes, pruned } = await compressNetwork(net, cfg, data.train, data.test, summary.qat);
  const test = await evaluate(net, data.test, { batch: cfg.evalBatch });
  const report = await buildReport(net, cfg, test, summary, gpu.info.description || gpu.info.device, fileBytesOf(bytes), pruned);
  if (cfg.out) {
    await writeFileAtomic(join(cfg.out, 'model.slim.safetensors'), [bytes]);
    await writeFileAtomic(join(cfg.out, 'report.json'), [new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n')]);
  }
  return { report, net, summary };
}
