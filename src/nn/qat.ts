// Quantisation-aware training (QAT) with a straight-through estimator: during training the arena
// holds each shared layer's fp32 *latent* weights at every step boundary (so checkpoints, pruning,
// the optimizer and divergence snapshots see them); inside a step the forward and backward passes
// run on the weights snapped to the layer's codebook (K = 2^bits values, pruned weights exactly 0),
// and the gradient with respect to the snapped weights updates the latent ones:
//   QAT step = prepare · gather · [codebook init | refit] · snap · forward · loss · backward ·
//              restore · [top-k masks] · update · advance
// The codebook starts at linear centroids over the kept latent weights plus `iterations` Lloyd
// iterations (all on the GPU: a run enters QAT without a readback), and can be re-fitted every
// `refitEvery` steps by `refitIterations` Lloyd iterations (k-means on the latent kept weights,
// warm-started from the current codebook; deterministic, cluster.wgsl; off by default), or trained
// by gradient (centroidLr; off by default). At the end one snap writes
// the codebook values into the arena for good and sharing() returns codebooks and assignments in
// the form the compressed export takes: the file then decodes to exactly the weights the model
// was evaluated with.
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, Tensor } from '../gpu/tensor.js';
import { CLUSTER, clusterReduce, clusterSgd, createClusterState, kmeansIteration, readCodebook, type ClusterState } from '../kernels/cluster.js';
import { qatInitLinear, qatRestore, qatSnap } from '../kernels/qat.js';
import type { SharedLayer, WeightSharing } from './codebook.js';
import type { Network } from './network.js';
import { thrower } from '../gpu/errors.js';

export interface QatOptions {
  /** Codebook bits per layer name (1..8); only the layers named are quantised. */
  bits: Record<string, number>;
  /** First QAT step (the trainer's default: the end of pruning, or 0 without pruning). */
  begin?: number;
  /**
   * Steps between codebook re-fits (default 0: never). Measured on the 75%-sparse GPT (600 export
   * QAT steps): re-fits every 50 steps cost 0.08 bits/byte — a re-fit moves each centroid to the
   * mean of its latent members, away from the value the rest of the network adapted to.
   */
  refitEvery?: number;
  /** Lloyd iterations when the codebook starts (default 30, as shareWeights). */
  iterations?: number;
  /** Lloyd iterations per re-fit (default 3). */
  refitIterations?: number;
  /**
   * Also train the centroids by gradient (default 0: off): after each backward pass every centroid
   * moves by −centroidLr·Σ(its members' gradients), as in centroid fine-tuning (plain SGD, constant
   * rate). Re-fits overwrite these moves; use it with refitEvery 0.
   */
  centroidLr?: number;
  /**
   * Oscillation dampening λ (default 0: off): each step adds λ·(latent − snapped) to the gradient of
   * every quantised weight (the gradient of λ/2·‖latent − snapped‖²), pulling latent weights towards
   * their codebook values so they stop flipping between neighbouring centroids.
   */
  dampen?: number;
}

export class QatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QatError';
  }
}

/** Checks QAT options against the network's layers (errors name the option). */
export function validateQat(net: Network, q: QatOptions): void {
  const bad = thrower(QatError, `train: qat.`);
  if (!q || typeof q !== 'object' || !q.bits || typeof q.bits !== 'object') bad('bits must be an object { layerName: bits }');
  const names = net.layers.filter((l) => l.weightShape).map((l) => l.name);
  const entries = Object.entries(q.bits);
  if (entries.length === 0) bad(`bits must name at least one layer with weights (${names.join(', ')})`);
  for (const [k, b] of entries) {
    if (!names.includes(k)) bad(`bits names layer '${k}', which has no weights (layers: ${names.join(', ')})`);
    if (!Number.isInteger(b) || b < 1 || b > 8)
      bad(`bits of layer '${k}' must be an integer in [1, 8] (K = 2^bits ≤ ${CLUSTER.MAX_K}), got ${String(b)}`);
  }
  const int = (k: 'begin' | 'refitEvery' | 'iterations' | 'refitIterations', max = 1e9) => {
    const v = q[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) bad(`${k} must be an integer in [0, ${max}], got ${String(v)}`);
  };
  int('begin');
  int('refitEvery');
  int('iterations', 10_000);
  int('refitIterations', 10_000);
  if (q.dampen !== undefined && (typeof q.dampen !== 'number' || !Number.isFinite(q.dampen) || q.dampen < 0))
    bad(`dampen must be a finite number ≥ 0, got ${String(q.dampen)}`);
  if (q.centroidLr !== undefined && (typeof q.centroidLr !== 'number' || !Number.isFinite(q.centroidLr) || q.centroidLr < 0))
    bad(`centroidLr must be a finite number ≥ 0, got ${String(q.centroidLr)}`);
}

interface Job {
  layer: string;
  param: string;
  shape: number[];
  bits: number;
  state: ClusterState;
}

/** The GPU side of QAT for one network: latent scratch, codebooks and the records a step adds. */
export class QatState {
  /** Codebook start (linear + Lloyd), re-fit, snap (before the forward pass), restore (after the backward pass). */
  init: Dispatch[] = [];
  refit: Dispatch[] = [];
  snap: Dispatch[] = [];
  restore: Dispatch[] = [];
  readonly refitEvery: number;
  private latent?: Tensor;
  private jobs: Job[] = [];
  private owned: Dispatch[][] = [];

  private constructor(
    readonly net: Network,
    q: QatOptions,
  ) {
    this.refitEvery = q.refitEvery ?? 0;
  }

  static async create(net: Network, q: QatOptions): Promise<QatState> {
    validateQat(net, q);
    const s = new QatState(net, q);
    try {
      await s.build(q);
    } catch (e) {
      s.destroy();
      throw e;
    }
    return s;
  }

  private async build(q: QatOptions): Promise<void> {
    const { gpu, arena } = this.net;
    const latent = createTensor(gpu, [Math.max(1, arena.decayEnd)], undefined, { label: 'qat.latent' });
    this.latent = latent;
    const iters = q.iterations ?? 30,
      refits = q.refitIterations ?? 3;
    for (const layer of this.net.layers) {
      const bits = layer.weightShape ? q.bits[layer.name] : undefined;
      if (bits === undefined) continue;
      const param = `${layer.name}.weight`;
      const v = arena.view(param);
      const state = createClusterState(gpu, v.length, 2 ** bits, { label: `qat.${layer.name}` });
      this.jobs.push({ layer: layer.name, param, shape: [...v.shape], bits, state });
      const w = arena.tensor('weights', param),
        mask = arena.tensor('mask', param);
      const lat = new Tensor(gpu, latent.buffer, v.shape, 'f32', v.offset * 4, false);
      const lloyd = await kmeansIteration(gpu, w, mask, state);
      this.init.push(...(await qatInitLinear(gpu, { w, mask, centroids: state.centroids })));
      for (let t = 0; t < iters; t++) this.init.push(...lloyd);
      for (let t = 0; t < refits; t++) this.refit.push(...lloyd);
      // the Lloyd records are shared by init and refit: keep one copy to destroy
      this.owned.push(lloyd);
      this.snap.push(...(await qatSnap(gpu, { w, mask, latent: lat, centroids: state.centroids, assign: state.assign })));
      if ((q.centroidLr ?? 0) > 0) {
        // the gradient of a centroid: the sum of its members' gradients (taken at the snapped weights)
        const st = state;
        this.restore.push(
          ...(await clusterReduce(gpu, {
            values: arena.tensor('grads', param),
            assign: st.assign,
            partialSums: st.partialSums,
            partialCounts: st.partialCounts,
            sums: st.sums,
            counts: st.counts,
          })),
          ...(await clusterSgd(gpu, { centroids: st.centroids, grads: st.sums, lr: q.centroidLr! })),
        );
      }
      this.restore.push(...(await qatRestore(gpu, { w, latent: lat, grads: arena.tensor('grads', param), dampen: q.dampen ?? 0 })));
    }
  }

  /** Names of the quantised layers. */
  get layers(): string[] {
    return this.jobs.map((j) => j.layer);
  }

  /** The current codebook of every quantised layer, by layer name (a readback: not for the step loop). */
  async codebooks(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const j of this.jobs) out.set(j.layer, await j.state.centroids.read());
    return out;
  }

  /** Starts the codebooks (if `init`) and snaps the arena's weights to them for good (no restore). */
  async finish(init: boolean): Promise<void> {
    const { gpu } = this.net;
    gpu.assertAlive();
    const enc = gpu.device.createCommandEncoder({ label: 'qat.finish' });
    if (init) encodeDispatches(enc, this.init, 'qat.init');
    encodeDispatches(enc, this.snap, 'qat.snap');
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    gpu.check();
  }

  /**
   * The codebooks and the assignments of the last snap, as shareWeights returns them (kept weights
   * in position order; kept = mask ≠ 0). Call after finish(): the arena then holds exactly these values.
   */
  async sharing(iterations = 0): Promise<WeightSharing> {
    const mask = await this.net.arena.read('mask');
    const out: WeightSharing = { layers: {}, init: 'linear', iterations };
    for (const j of this.jobs) {
      const mv = mask.get(j.param)!;
      const cb = await readCodebook(j.state, mv, (i, a) => {
        throw new QatError(`qat: internal: layer '${j.layer}' weight ${i} has no codebook index (${a}); was finish() called?`);
      });
      if (!cb.codebook.every(Number.isFinite)) throw new QatError(`qat: layer '${j.layer}': the codebook holds a non-finite value`);
      const s: SharedLayer = { layer: j.layer, param: j.param, shape: j.shape, bits: j.bits, ...cb, params: j.state.n };
      out.layers[j.layer] = s;
    }
    return out;
  }

  destroy(): void {
    for (const r of [this.snap, this.restore, ...this.owned]) destroyDispatches(r);
    // init and refit hold the shared Lloyd records (destroyed above) plus the init_linear records
    destroyDispatches(this.init.filter((d) => d.label.startsWith('qat.')));
    this.init = [];
    this.refit = [];
    this.snap = [];
    this.restore = [];
    this.owned = [];
    for (const j of this.jobs) j.state.dispose();
    this.jobs = [];
    this.latent?.dispose();
    this.latent = undefined;
  }
}

/** The step records of a plan, with and without QAT (StepPlan's fields). */
interface StepRecords {
  train: Dispatch[];
  trainPrune: Dispatch[];
  trainQat: Dispatch[];
  trainPruneQat: Dispatch[];
}

/**
 * Which records step t runs: before `begin` the plan's plain steps; from `begin` on its QAT steps,
 * the first of this run (`first`) preceded by the codebook start, every refitEvery-th after
 * `begin` by a re-fit. The few combined lists are built once.
 */
export function qatStepRecords(plan: StepRecords, q: QatState, begin: number, first: number): (t: number, prune: boolean) => readonly Dispatch[] {
  const cache = new Map<string, Dispatch[]>();
  return (t, prune) => {
    if (t < begin) return prune ? plan.trainPrune : plan.train;
    const base = prune ? plan.trainPruneQat : plan.trainQat;
    const pre = t === first ? 'init' : q.refitEvery > 0 && (t - begin) % q.refitEvery === 0 ? 'refit' : '';
    if (!pre) return base;
    const key = `${pre}${prune ? '+prune' : ''}`;
    let r = cache.get(key);
    if (!r) cache.set(key, (r = [...(pre === 'init' ? q.init : q.refit), ...base]));
    return r;
  };
}
