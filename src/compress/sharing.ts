// Weight sharing (Deep Compression, Han et al. 2016): per prunable layer, 1-D k-means over the
// kept weights (mask ≠ 0) with K = 2^bits centroids; the weights then become codebook values and
// pruned weights stay exactly 0. Centroids are initialised on the CPU (linear — the default, as
// the paper recommends —, density or seeded k-means++), the Lloyd iterations run on the GPU with no
// readback in between (all layers, all iterations in one command encoder), and the codebooks and
// assignments are read back once at the end.
// fineTuneCentroids: a few SGD steps on the codebooks, each centroid's gradient being the sum of
// its members' gradients: the step plan's training records fill the arena's gradients (run with a
// learning rate of 0, so they change no parameter), then the cluster kernels reduce them per
// centroid, update the centroids and write them back into the weights.
// Note: this module sits on top of nn (it drives a Network and its StepPlan).
import { encodeDispatches, destroyDispatches, type Dispatch } from '../gpu/dispatch.js';
import { readBuffer } from '../gpu/tensor.js';
import {
  clusterApply,
  clusterAssign,
  clusterReduce,
  clusterSgd,
  createClusterState,
  kmeansIteration,
  readCodebook,
  CLUSTER,
  type ClusterState,
} from '../kernels/cluster.js';
import { LOSS_STATS } from '../kernels/loss.js';
import { shuffledIndices } from '../data/random.js';
import { initDensity, initKmeansPP, initLinear } from './centroid-init.js';
import type { ResolvedLayer } from '../nn/model.js';
import { StepPlan, TABLE_CAP } from '../nn/plan.js';
import { hyperRow, OPTIMIZERS, type OptimizerKind } from '../nn/optimizer.js';
import { deviceDataOf, sampleCount, type AnyDataset, type Network } from '../nn/network.js';

export { initDensity, initKmeansPP, initLinear } from './centroid-init.js';
export { INIT_METHODS, SHARING_DEFAULTS, defaultBits, type InitMethod, type SharedLayer, type WeightSharing } from '../nn/codebook.js';
import { INIT_METHODS, defaultBits, type InitMethod, type SharedLayer, type WeightSharing } from '../nn/codebook.js';
import { thrower } from '../gpu/errors.js';

export interface ShareOptions {
  /** Bits per layer (K = 2^bits centroids, 1..8), by layer name ('dense1', 'conv2d1', ...) or a function; missing layers get defaultBits. */
  bits?: Record<string, number> | ((layer: ResolvedLayer) => number);
  /** Centroid initialisation (default 'linear'). */
  init?: InitMethod;
  /** Lloyd iterations on the GPU (default 30). */
  iterations?: number;
  /** Seed of the k-means++ initialisation (default 0). */
  seed?: number;
  /** Layers to share (default: every layer with weights). */
  layers?: string[];
}

export class SharingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SharingError';
  }
}

const fail = thrower(SharingError, `slimgpu.shareWeights: `);

// ---- initialisation (CPU) -----------------------------------------------------------------------

export function initCentroids(kept: Float32Array, K: number, method: InitMethod, seed = 0): Float32Array {
  if (method === 'linear') return initLinear(kept, K);
  if (method === 'density') return initDensity(kept, K);
  if (method === 'kmeans++') return initKmeansPP(kept, K, seed);
  return fail(`init must be one of ${INIT_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
}

// ---- sharing ------------------------------------------------------------------------------------

function bitsFor(layer: ResolvedLayer, bits: ShareOptions['bits']): number {
  let b: unknown;
  if (typeof bits === 'function') b = bits(layer);
  else if (bits && Object.prototype.hasOwnProperty.call(bits, layer.name)) b = bits[layer.name];
  else b = defaultBits(layer);
  if (!Number.isInteger(b) || (b as number) < 1 || (b as number) > 8)
    fail(`bits for layer '${layer.name}' must be an integer in [1, 8] (K = 2^bits ≤ ${CLUSTER.MAX_K}), got ${String(b)}`);
  return b as number;
}

function sharedLayers(net: Network, opts: ShareOptions): ResolvedLayer[] {
  const all = net.layers.filter((l) => l.weightShape);
  const names = new Set(all.map((l) => l.name));
  if (opts.bits && typeof opts.bits === 'object') {
    for (const k of Object.keys(opts.bits))
      if (!names.has(k)) fail(`bits names layer '${k}', which has no weights (layers: ${[...names].join(', ')})`);
  } else if (opts.bits !== undefined && typeof opts.bits !== 'function')
    fail('bits must be an object { layerName: bits } or a function (layer) => bits');
  if (opts.layers === undefined) return all;
  if (!Array.isArray(opts.layers)) fail('layers must be an array of layer names');
  for (const k of opts.layers) if (!names.has(k)) fail(`layers names '${k}', which has no weights (layers: ${[...names].join(', ')})`);
  return all.filter((l) => opts.layers!.includes(l.name));
}

function keptValues(w: Float32Array, m: Float32Array): Float32Array {
  let k = 0;
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) k++;
  const out = new Float32Array(k);
  k = 0;
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) out[k++] = w[i]!;
  return out;
}

function finish(records: Dispatch[][]): void {
  for (const r of records) destroyDispatches(r);
}

/**
 * k-means weight sharing of every layer with weights (or opts.layers): the network's weights
 * become codebook values (pruned weights stay 0). Returns each layer's codebook and assignments.
 */
export async function shareWeights(net: Network, opts: ShareOptions = {}): Promise<WeightSharing> {
  if (!opts || typeof opts !== 'object') fail('options must be an object');
  const init = opts.init ?? 'linear';
  if (!INIT_METHODS.includes(init)) fail(`init must be one of ${INIT_METHODS.join(', ')}, got ${JSON.stringify(init)}`);
  const iterations = opts.iterations ?? 30;
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 10_000) fail(`iterations must be an integer in [0, 10000], got ${iterations}`);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) fail(`seed must be an integer, got ${seed}`);
  const layers = sharedLayers(net, opts);
  const gpu = net.gpu;
  const arena = net.arena;
  const [w, m] = await Promise.all([arena.read('weights'), arena.read('mask')]);

  const jobs: { layer: ResolvedLayer; param: string; bits: number; state: ClusterState; iter: Dispatch[]; fin: Dispatch[] }[] = [];
  try {
    for (const layer of layers) {
      const param = `${layer.name}.weight`;
      const bits = bitsFor(layer, opts.bits);
      const K = 2 ** bits;
      const wv = w.get(param)!,
        mv = m.get(param)!;
      for (let i = 0; i < wv.length; i++) {
        if (mv[i] !== 0 && !Number.isFinite(wv[i]!))
          fail(`layer '${layer.name}' holds a non-finite weight (${wv[i]}) at ${i}; weight sharing needs finite weights`);
      }
      const centroids = initCentroids(keptValues(wv, mv), K, init, seed);
      const state = createClusterState(gpu, wv.length, K, { centroids, label: `share.${layer.name}` });
      const job = { layer, param, bits, state, iter: [] as Dispatch[], fin: [] as Dispatch[] };
      jobs.push(job);
      const wt = arena.tensor('weights', param),
        mt = arena.tensor('mask', param);
      job.iter = await kmeansIteration(gpu, wt, mt, state);
      job.fin = [
        ...(await clusterAssign(gpu, { w: wt, mask: mt, centroids: state.centroids, assign: state.assign })),
        ...(await clusterApply(gpu, { w: wt, mask: mt, assign: state.assign, centroids: state.centroids })),
      ];
    }
    gpu.assertAlive();
    const enc = gpu.device.createCommandEncoder({ label: `shareWeights ×${iterations}` });
    for (const j of jobs) {
      for (let t = 0; t < iterations; t++) encodeDispatches(enc, j.iter, `kmeans ${j.layer.name} ${t}`);
      encodeDispatches(enc, j.fin, `kmeans ${j.layer.name} apply`);
    }
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    gpu.check();

    const out: WeightSharing = { layers: {}, init, iterations };
    for (const j of jobs) {
      const mv = m.get(j.param)!;
      const cb = await readCodebook(j.state, mv, (i, a) => fail(`internal: layer '${j.layer.name}' weight ${i} got no centroid (${a})`));
      out.layers[j.layer.name] = { layer: j.layer.name, param: j.param, shape: [...j.layer.weightShape!], bits: j.bits, ...cb, params: j.state.n };
    }
    return out;
  } finally {
    finish(jobs.flatMap((j) => [j.iter, j.fin]));
    for (const j of jobs) j.state.dispose();
  }
}

// ---- fine-tuning ----------------------------------------------------------------------------------

export interface FineTuneOptions {
  /** SGD steps (batches). */
  steps: number;
  /** Learning rate of the centroids (their gradient is the sum of their members' gradients). */
  lr: number;
  /** Batch size (default 64). */
  batch?: number;
  /** Shuffle seed (default 0). */
  seed?: number;
  /** Steps recorded into one command encoder (default 16). */
  stepsPerSubmit?: number;
  /**
   * Learning rate of the parameters that stay fp32 — biases, norms and layers that are not shared —
   * trained alongside the centroids with `optimizer` (default 0: frozen). Shared weights are
   * rewritten from their codebook after every step, so this moves only what the file stores as fp32.
   */
  denseLr?: number;
  /** The update of those parameters: 'sgd' (momentum 0.9, no L2) or 'adamw' (β 0.9/0.95, no decay); default 'sgd'. */
  optimizer?: OptimizerKind;
}

export interface FineTuneResult {
  /** The sharing with the updated codebooks (assignments unchanged). */
  sharing: WeightSharing;
  /** Mean training loss over the fine-tuning steps, each measured before its update (NaN for 0 steps). */
  trainLoss: number;
  steps: number;
}

/** Checks fineTuneCentroids' arguments; returns the options with their defaults. */
function fineTuneArgs(net: Network, sharing: WeightSharing, train: AnyDataset, opts: FineTuneOptions) {
  const bad = thrower(SharingError, `slimgpu.fineTuneCentroids: `);
  if (!sharing || typeof sharing !== 'object' || typeof sharing.layers !== 'object') bad('sharing must be the result of shareWeights');
  if (!opts || typeof opts !== 'object') bad('options must be an object { steps, lr, batch?, seed? }');
  const { steps, lr } = opts;
  const B = opts.batch ?? 64;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(steps) || steps < 0) bad(`steps must be a non-negative integer, got ${steps}`);
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) bad(`lr must be a finite number ≥ 0, got ${lr}`);
  if (!Number.isInteger(B) || B < 1) bad(`batch must be a positive integer, got ${B}`);
  if (!Number.isInteger(seed)) bad(`seed must be an integer, got ${seed}`);
  const denseLr = opts.denseLr ?? 0;
  const optimizer = opts.optimizer ?? 'sgd';
  if (typeof denseLr !== 'number' || !Number.isFinite(denseLr) || denseLr < 0) bad(`denseLr must be a finite number ≥ 0, got ${denseLr}`);
  if (!OPTIMIZERS.includes(optimizer)) bad(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${String(optimizer)}`);
  const nTrain = sampleCount(net.spec, train);
  if (nTrain < B) bad(`batch ${B} is larger than the training set (${nTrain} samples)`);
  return { steps, lr, B, seed, denseLr, optimizer, nTrain };
}

/** Every shared layer is a prunable layer of `net` whose mask keeps exactly its assignments, with 2^bits centroids. */
function checkSharedLayers(net: Network, shared: SharedLayer[], m: Map<string, Float32Array>): void {
  const bad = thrower(SharingError, `slimgpu.fineTuneCentroids: `);
  for (const s of shared) {
    const v = net.arena.views.get(s.param);
    if (!v || !v.prunable) bad(`layer '${s.layer}' (${s.param}) is not a layer of this network`);
    const mv = m.get(s.param)!;
    let kept = 0;
    for (let i = 0; i < mv.length; i++) if (mv[i] !== 0) kept++;
    if (kept !== s.assignments.length)
      bad(`layer '${s.layer}' keeps ${kept} weights but the sharing has ${s.assignments.length} assignments (the mask changed since shareWeights)`);
    if (s.codebook.length !== 2 ** s.bits) bad(`layer '${s.layer}': codebook holds ${s.codebook.length} values, expected 2^${s.bits}`);
  }
}

/**
 * The records of one centroid step per shared layer (members' gradient sums, SGD on the centroids,
 * weights rewritten from the codebook); the cluster states go to `states`, each layer's records to `records`.
 */
async function centroidStepRecords(
  net: Network,
  shared: SharedLayer[],
  m: Map<string, Float32Array>,
  lr: number,
  states: ClusterState[],
  records: Dispatch[][],
): Promise<Dispatch[]> {
  const gpu = net.gpu,
    arena = net.arena;
  const tune: Dispatch[] = [];
  for (const s of shared) {
    const mv = m.get(s.param)!;
    const full = new Uint32Array(mv.length).fill(CLUSTER.NONE);
    let k = 0;
    for (let i = 0; i < mv.length; i++) if (mv[i] !== 0) full[i] = s.assignments[k++]!;
    const st = createClusterState(gpu, mv.length, s.codebook.length, { centroids: s.codebook, label: `finetune.${s.layer}` });
    states.push(st);
    st.assign.write(full);
    const wt = arena.tensor('weights', s.param),
      mt = arena.tensor('mask', s.param),
      gt = arena.tensor('grads', s.param);
    const r = [
      ...(await clusterReduce(gpu, {
        values: gt,
        assign: st.assign,
        partialSums: st.partialSums,
        partialCounts: st.partialCounts,
        sums: st.sums,
        counts: st.counts,
      })),
      ...(await clusterSgd(gpu, { centroids: st.centroids, grads: st.sums, lr })),
      ...(await clusterApply(gpu, { w: wt, mask: mt, assign: st.assign, centroids: st.centroids })),
    ];
    records.push(r);
    tune.push(...r);
  }
  return tune;
}

/**
 * Fine-tunes the shared codebooks: per step, the step plan's forward/loss/backward fill the
 * arena's gradients (its SGD update runs with lr = 0, so no parameter moves: biases and unshared
 * layers stay frozen), then per shared layer each centroid moves by −lr·Σ(its members' gradients)
 * and the layer's weights are rewritten from the codebook. Pruned weights stay 0; the momentum
 * buffer is cleared at the end (the plan's lr-0 update wrote gradients into it).
 */
export async function fineTuneCentroids(net: Network, sharing: WeightSharing, train: AnyDataset, opts: FineTuneOptions): Promise<FineTuneResult> {
  const bad = thrower(SharingError, `slimgpu.fineTuneCentroids: `);
  const { steps, lr, B, seed, denseLr, optimizer, nTrain } = fineTuneArgs(net, sharing, train, opts);
  const perSubmit = Math.max(1, Math.min(opts.stepsPerSubmit ?? 16, TABLE_CAP));
  const gpu = net.gpu;
  const arena = net.arena;
  const m = await arena.read('mask');
  const shared = Object.values(sharing.layers);
  checkSharedLayers(net, shared, m);

  const data = deviceDataOf(gpu, net.spec, train, 'train');
  let plan: StepPlan | undefined;
  const states: ClusterState[] = [];
  const records: Dispatch[][] = [];
  try {
    plan = await StepPlan.build(gpu, net.spec, net.layers, arena, data, B, { prune: [], optimizer });
    // the optimizer's rows: lr 0 freezes everything the centroids do not drive; with denseLr the fp32
    // parameters train from fresh moments (the shared ones are overwritten from the codebooks anyway)
    const hyper = { momentum: 0.9, l2: 0, beta1: 0.9, beta2: 0.95 };
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => hyperRow(optimizer, hyper, from + i, denseLr));
    const clearMoments = (enc: GPUCommandEncoder) => {
      enc.clearBuffer(arena.parts.momentum.buffer);
      if (optimizer === 'adamw') enc.clearBuffer(arena.ensureVariance().buffer);
    };
    const tune = await centroidStepRecords(net, shared, m, lr, states, records);
    const stepsPerEpoch = Math.floor(nTrain / B);
    let step = 0;
    const first = gpu.device.createCommandEncoder({ label: 'finetune.clear' });
    first.clearBuffer(plan.stats.buffer);
    clearMoments(first);
    gpu.device.queue.submit([first.finish()]);
    while (step < steps) {
      const epoch = Math.floor(step / stepsPerEpoch);
      if (step % stepsPerEpoch === 0 || step === 0) {
        plan.setPermutation(shuffledIndices(nTrain, seed, epoch));
        plan.setStep(step, epoch * stepsPerEpoch);
      }
      const end = Math.min(steps, step + perSubmit, (epoch + 1) * stepsPerEpoch);
      plan.setHyperRows(step, rows(step, end - step));
      const enc = gpu.device.createCommandEncoder({ label: `finetune ${step}..${end}` });
      for (let t = step; t < end; t++) {
        encodeDispatches(enc, plan.train, `finetune step ${t}`);
        encodeDispatches(enc, tune, `finetune centroids ${t}`);
      }
      gpu.device.queue.submit([enc.finish()]);
      await gpu.device.queue.onSubmittedWorkDone();
      gpu.check();
      step = end;
    }
    const enc = gpu.device.createCommandEncoder({ label: 'finetune.end' });
    clearMoments(enc);
    gpu.device.queue.submit([enc.finish()]);
    const stats = new Float32Array(await readBuffer(gpu, plan.stats.buffer, 0, LOSS_STATS.size * 4));
    const n = stats[LOSS_STATS.count]!;
    const trainLoss = n > 0 ? stats[LOSS_STATS.lossSum]! / n : NaN;
    const out: WeightSharing = { ...sharing, layers: { ...sharing.layers } };
    for (let i = 0; i < shared.length; i++) {
      const s = shared[i]!;
      const codebook = await states[i]!.centroids.read();
      if (!codebook.every(Number.isFinite)) bad(`layer '${s.layer}': a centroid became non-finite (lr ${lr} too large?)`);
      out.layers[s.layer] = { ...s, codebook };
    }
    return { sharing: out, trainLoss, steps };
  } finally {
    finish(records);
    for (const s of states) s.dispose();
    plan?.destroy();
    data.dispose();
  }
}
