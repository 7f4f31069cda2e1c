// The step plan: a model compiled once for a batch size into dispatch records.
//   train step = prepare · gather · forward · loss · backward · [top-k masks] · update · advance
//   eval step  = gather · forward · loss (statistics only) · advance
// Every buffer (activations, gradients, statistics, per-step tables) is allocated here, once;
// recording a step is a loop over prebuilt records (no allocation, no CPU readback). The graph
// itself (forward and backward of every node) is compiled by graph.ts; the update by optimizer.ts.
import type { Gpu } from '../gpu/device.js';
import type { Dispatch } from '../gpu/dispatch.js';
import { destroyDispatches } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import * as loss from '../kernels/loss.js';
import { advanceStep, gatherBatch, gatherText, prepareStep } from '../kernels/step.js';
import { topkMask } from '../kernels/topk-mask.js';
import type { Arena } from './arena.js';
import { compileBackward, compileForward, type GraphContext } from './graph.js';
import type { ModelSpec, ResolvedLayer } from './model.js';
import { optimizerRecords, tableWidth, type OptimizerKind } from './optimizer.js';

/** A data set on the GPU (uploaded once). */
export interface DeviceData {
  /** (n, D) samples: bytes packed 4 per u32 when `bytes`, else f32. A text: its bytes, packed. */
  inputs: Tensor;
  bytes: boolean;
  /** Samples (a text: window starts in the permutation). */
  n: number;
  /** Features per sample (a text: the window length T). */
  D: number;
  /** Classification labels u32[n]. */
  labels?: Tensor;
  /** Regression targets f32 (n, T). */
  targets?: Tensor;
  T?: number;
  /** Normalisation applied by the gather kernel: x·scale + shift. */
  scale: number;
  shift: number;
  /** A text: windows of `window` bytes + the next byte, starting at the offsets in the permutation. */
  text?: { window: number; bytes: number };
}

/** Pruning groups: each is one top-k over a list of parameter views with its own k. */
export interface PruneGroup {
  names: string[];
  k: Tensor;
  total: number;
}

export interface PlanOptions {
  prune?: { names: string[] }[];
  /** Build the training records (default true). */
  train?: boolean;
  /** The update: 'sgd' (momentum + L2, default) or 'adamw' (+ global-norm clipping). */
  optimizer?: OptimizerKind;
  /** Gather batches from `data` (default true); false: the caller writes `input` (and labels). */
  gather?: boolean;
  /** Record a global gradient-norm pass so the table's clip value can clip the update. */
  clip?: boolean;
  /**
   * Quantisation-aware training (nn/qat.ts, owned by the caller): `snap` runs before the forward
   * pass, `restore` after the backward pass; the plan then also builds trainQat / trainPruneQat.
   */
  qat?: { snap: Dispatch[]; restore: Dispatch[] };
}

export const TABLE_CAP = 256;

export class StepPlan {
  readonly state: Tensor;
  readonly table: Tensor;
  readonly hyper: Tensor;
  readonly stats: Tensor;
  readonly perm: Tensor;
  /** Values per row of the per-step table (the optimizer's hyper-parameters). */
  readonly width: number;
  /** Records of one training step without / with the mask refresh. */
  train: Dispatch[] = [];
  trainPrune: Dispatch[] = [];
  /** The same with QAT's snap and restore (PlanOptions.qat; empty without it). */
  trainQat: Dispatch[] = [];
  trainPruneQat: Dispatch[] = [];
  /** Records of one evaluation step. */
  evalStep: Dispatch[] = [];
  output!: Tensor;
  input!: Tensor;
  /** Labels of the batch (classification: (B); language: (B·T) next bytes). */
  labels?: Tensor;
  pruneGroups: PruneGroup[] = [];
  private owned: Tensor[] = [];
  private records: Dispatch[][] = [];

  private constructor(
    readonly gpu: Gpu,
    readonly B: number,
    readonly data: DeviceData,
    readonly optimizer: OptimizerKind,
  ) {
    const mk = (shape: number[], dtype: 'f32' | 'u32', label: string, init?: ArrayLike<number>) => {
      const t = createTensor(gpu, shape, init, { dtype, label });
      this.owned.push(t);
      return t;
    };
    this.width = tableWidth(optimizer);
    this.state = mk([4], 'u32', 'plan.state');
    this.table = mk([TABLE_CAP * this.width], 'f32', 'plan.table');
    this.hyper = mk([this.width], 'f32', 'plan.hyper');
    this.stats = mk([loss.LOSS_STATS.size], 'f32', 'plan.stats');
    this.perm = mk(
      [data.n],
      'u32',
      'plan.perm',
      Uint32Array.from({ length: data.n }, (_, i) => i),
    );
  }

  private alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = createTensor(this.gpu, shape, undefined, { dtype, label });
    this.owned.push(t);
    return t;
  }

  /**
   * Compiles `layers` (weights in `arena`) for batch size B on `data`.
   * `prune`: the pruning groups (views + k buffer) for the mask refresh; empty for dense training.
   */
  static async build(
    gpu: Gpu,
    spec: ModelSpec,
    layers: ResolvedLayer[],
    arena: Arena,
    data: DeviceData,
    B: number,
    opts: PlanOptions = {},
  ): Promise<StepPlan> {
    const plan = new StepPlan(gpu, B, data, opts.optimizer ?? 'sgd');
    try {
      await plan.compile(spec, layers, arena, opts);
    } catch (e) {
      plan.destroy();
      throw e;
    }
    return plan;
  }

  private async gather(spec: ModelSpec, gatherOn: boolean): Promise<{ gather: Dispatch[]; labels?: Tensor; target?: Tensor }> {
    const { gpu, B, data } = this;
    const D = data.D;
    const gather: Dispatch[] = [];
    if (spec.task === 'language') {
      if (!data.text || data.text.window !== spec.input[0])
        throw new Error(`plan: model '${spec.name}' needs text windows of ${spec.input[0]} bytes`);
      const T = data.text.window;
      this.input = this.alloc([B, T], 'batch.tokens', 'u32');
      const labels = this.alloc([B * T], 'batch.targets', 'u32');
      if (gatherOn)
        gather.push(
          ...(await gatherText(gpu, { state: this.state, perm: this.perm, n: data.n, text: data.inputs, T, tokens: this.input, targets: labels })),
        );
      return { gather, labels };
    }
    if (D !== spec.input.reduce((a, b) => a * b, 1))
      throw new Error(`plan: data has ${D} features per sample, model '${spec.name}' expects [${spec.input}]`);
    const x0 = this.alloc([B, ...spec.input], 'batch.x');
    this.input = x0;
    // the batch gather's operands (classification adds the labels)
    const gatherArgs = () => ({
      state: this.state,
      perm: this.perm,
      data: data.inputs,
      bytes: data.bytes,
      n: data.n,
      D,
      out: x0.reshape([B * D]),
      scale: data.scale,
      shift: data.shift,
    });
    if (spec.task === 'classification') {
      if (!data.labels) throw new Error(`plan: model '${spec.name}' needs labels`);
      const labels = this.alloc([B], 'batch.labels', 'u32');
      if (gatherOn) gather.push(...(await gatherBatch(gpu, { ...gatherArgs(), labels: data.labels, outLabels: labels })));
      return { gather, labels };
    }
    if (gatherOn) gather.push(...(await gatherBatch(gpu, gatherArgs())));
    if (spec.task === 'autoencoder') return { gather, target: x0 };
    if (!data.targets || !data.T) throw new Error(`plan: model '${spec.name}' needs regression targets`);
    const target = this.alloc([B, data.T], 'batch.target');
    if (gatherOn)
      gather.push(
        ...(await gatherBatch(gpu, {
          state: this.state,
          perm: this.perm,
          data: data.targets,
          bytes: false,
          n: data.n,
          D: data.T,
          out: target.reshape([B * data.T]),
          scale: 1,
          shift: 0,
        })),
      );
    return { gather, target };
  }

  private async compile(spec: ModelSpec, layers: ResolvedLayer[], arena: Arena, opts: PlanOptions): Promise<void> {
    const { gpu, B } = this;
    const train = opts.train ?? true;
    const { gather, labels, target } = await this.gather(spec, opts.gather ?? true);
    this.labels = labels;
    const ctx: GraphContext = {
      gpu,
      B,
      arena,
      alloc: (shape, label, dtype) => this.alloc(shape, label, dtype),
      keep: (ts) => {
        for (const t of ts) if (!this.owned.includes(t)) this.owned.push(t);
      },
    };
    const f = await compileForward(ctx, layers, this.input);
    const out = f.output;
    this.output = out;

    // loss: fused forward + backward; statistics accumulate on the GPU (a language model: one row per token)
    const rows = spec.task === 'language' ? B * spec.input[0]! : B;
    const gOut = this.alloc(out.shape as number[], 'loss.grad');
    const o2 = out.reshape([rows, out.size / rows]),
      g2 = gOut.reshape([rows, out.size / rows]);
    const lossRecords =
      spec.loss === 'softmax-ce'
        ? await loss.softmaxCrossEntropy(gpu, o2, labels!, g2, this.stats)
        : await loss.mse(gpu, o2, target!.reshape([rows, out.size / rows]), g2, this.stats);

    // every step (eval too) advances the GPU step counter, so the next step gathers the next batch
    const adv = await advanceStep(gpu, this.state);
    this.evalStep = [...gather, ...f.forward, ...lossRecords, ...adv];
    this.records.push(this.evalStep);
    if (!train) return;

    const backward = await compileBackward(ctx, layers, f, gOut);

    // mask refresh: one top-k per pruning group, k read from the group's buffer
    const prune: Dispatch[] = [];
    let scratch: Tensor[] | undefined;
    for (const g of opts.prune ?? []) {
      const views = g.names.map((nm) => arena.view(nm));
      const total = views.reduce((s, v) => s + v.length, 0);
      const k = this.alloc([1], `prune.k[${g.names.join(',')}]`, 'u32');
      const r = await topkMask(gpu, {
        weights: arena.parts.weights,
        mask: arena.parts.mask,
        views: views.map((v) => ({ offset: v.offset, length: v.length })),
        k,
        scratch,
      });
      if (!scratch) {
        scratch = r.scratch;
        this.owned.push(...r.scratch);
      }
      prune.push(...r.dispatches);
      this.pruneGroups.push({ names: g.names, k, total });
    }

    const update = await optimizerRecords(gpu, this.optimizer, arena, this.hyper, (shape, label) => this.alloc(shape, label), { clip: opts.clip });
    const prep = await prepareStep(gpu, { state: this.state, table: this.table, hyper: this.hyper }, this.width);
    this.train = [...prep, ...gather, ...f.forward, ...lossRecords, ...backward, ...update, ...adv];
    this.trainPrune = [...prep, ...gather, ...f.forward, ...lossRecords, ...backward, ...prune, ...update, ...adv];
    this.records.push(prep, backward, prune, update);
    if (opts.qat) {
      const { snap, restore } = opts.qat;
      this.trainQat = [...prep, ...gather, ...snap, ...f.forward, ...lossRecords, ...backward, ...restore, ...update, ...adv];
      this.trainPruneQat = [...prep, ...gather, ...snap, ...f.forward, ...lossRecords, ...backward, ...restore, ...prune, ...update, ...adv];
    }
  }

  /** Sets the GPU step counter and the step at which `perm` starts (text windows from `perm`). */
  setStep(step: number, permStart: number): void {
    this.gpu.device.queue.writeBuffer(this.state.buffer, 0, new Uint32Array([step, permStart, 0, 0]));
  }

  /**
   * Text only: the next steps draw window starts by a seeded hash of (step, window) in [0, count)
   * instead of the permutation (windows from a prefix of the text whose length the caller sets).
   */
  setHashedWindows(step: number, count: number, seed: number): void {
    if (!this.data.text) throw new Error('plan: hashed windows need text data');
    if (!Number.isInteger(count) || count < 1 || count > this.data.n)
      throw new Error(`plan: hashed window count must be in [1, ${this.data.n}], got ${count}`);
    this.gpu.device.queue.writeBuffer(this.state.buffer, 0, new Uint32Array([step, 0, count, seed >>> 0]));
  }

  setPermutation(perm: Uint32Array): void {
    if (perm.length !== this.data.n) throw new Error(`plan: permutation must hold ${this.data.n} indices, got ${perm.length}`);
    this.gpu.device.queue.writeBuffer(this.perm.buffer, 0, perm.buffer, perm.byteOffset, perm.byteLength);
  }

  /** Writes table rows (the optimizer's values, ≤ width each) for steps [from, from + rows.length). */
  setHyperRows(from: number, rows: readonly (readonly number[])[]): void {
    if (rows.length > TABLE_CAP) throw new Error(`plan: at most ${TABLE_CAP} table rows at once`);
    const W = this.width;
    const buf = new Float32Array(TABLE_CAP * W);
    // rows may wrap around the ring: write the whole ring once
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.length > W) throw new Error(`plan: a table row holds at most ${W} values, got ${row.length}`);
      buf.set(row, ((from + i) % TABLE_CAP) * W);
    }
    this.gpu.device.queue.writeBuffer(this.table.buffer, 0, buf);
  }

  setPruneK(values: number[]): void {
    values.forEach((k, i) => this.gpu.device.queue.writeBuffer(this.pruneGroups[i]!.k.buffer, 0, new Uint32Array([k])));
  }

  destroy(): void {
    for (const r of this.records) destroyDispatches(r);
    this.records = [];
    for (const t of this.owned) t.dispose();
    this.owned = [];
  }
}
