// rec:ncf-D-H1-…-HL — NeuMF (He et al. 2017) trained on the GPU with the BPR loss (Rendle et al. 2009):
//   score(u, i) = hgᵀ(u ⊙ v_i) + hmᵀ·MLP([u ‖ v_i]) + b_i,  MLP = L ReLU layers of widths H1 … HL,
// where the user u is the mean of an item table U over the user's items (rec:dae's user: half of the
// items dropped from the input per epoch; a new user needs no training) and v_i is row i of V.
// The first MLP layer is factored: [u ‖ v]·W1 + c1 = (u·W1u + c1) + v·W1v, so P = Ue·W1u (batch)
// and Q = V·W1v (all items) are two small matmuls and a pair only adds two rows (rec-pairs.pair_relu).
// One step: B distinct users, K seeded (positive, negative) pairs each (rec-pairs.sample: a training
// item, and an item the user has not had) → pair scores → BPR (mean over the K pairs, over B users)
// → the backward by matmuls and the rec-pairs reductions → AdamW over one arena
// [U | V | b | W1u | W1v | c1 | (Wl | cl)… | hg | hm] (weight decay on U and V only). An epoch's
// steps record into command encoders of `chunk` steps with no readback; the losses are read once.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, Tensor } from '../gpu/tensor.js';
import { adamw, adamwBiasCorrection, createAdamWHyper, writeAdamWHyper } from '../kernels/adamw.js';
import { advanceStep } from '../kernels/step.js';
import { createSeedBuffer, writeSeed } from '../kernels/rec-softmax.js';
import { Rng, mix32, shuffledIndices } from '../data/random.js';
import type { RecSplit } from '../data/rec-split.js';
import type { Negatives } from '../kernels/rec-pairs.js';
import { tableArenaMask } from './mf.js';
import { ncfStepRecords, type NcfScratch, type Tower } from './ncf-step.js';

export type { Tower } from './ncf-step.js';

export interface NcfOptions {
  dim: number;
  hidden: number[];
  /** Users per step (a multiple of 64). */
  batch?: number;
  /** (positive, negative) pairs per user per step. */
  pairs?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  initStd?: number;
  chunk?: number;
  /** Fraction of a user's items dropped from its input per epoch. */
  drop?: number;
  /** BPR negatives: 'uniform' over the items (default) or 'popular' (∝ training count). */
  negatives?: Negatives;
}

const pad64 = (n: number) => Math.ceil(n / 64) * 64;

/** The options without their undefined fields (so they do not override the defaults). */
const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The pair-sampling seed of an epoch (the dropout's is mix32(seed ^ mix32(epoch + 1)), as rec:dae's). */
export const pairSeedOf = (seed: number, epoch: number): number => mix32(seed ^ mix32(epoch + 0x9e3779b9));

/** Segment names, sizes and 2-D shapes of the arena, in order. */
export function ncfSegments(nI: number, D: number, hidden: number[]): { name: string; shape: number[] }[] {
  const H1 = hidden[0]!,
    HL = hidden[hidden.length - 1]!;
  return [
    { name: 'U', shape: [nI, D] },
    { name: 'V', shape: [nI, D] },
    { name: 'b', shape: [nI] },
    { name: 'W1u', shape: [D, H1] },
    { name: 'W1v', shape: [D, H1] },
    { name: 'c1', shape: [H1] },
    ...hidden.slice(1).flatMap((h, l) => [
      { name: `W${l + 2}`, shape: [hidden[l]!, h] },
      { name: `c${l + 2}`, shape: [h] },
    ]),
    { name: 'hg', shape: [D] },
    { name: 'hm', shape: [HL] },
  ];
}

export class NcfModel {
  readonly kind = 'ncf' as const;
  /** Rows of U (an item table: a user is the mean of U over its items). */
  readonly nU: number;
  readonly users: number;
  readonly nI: number;
  readonly D: number;
  readonly hidden: number[];
  readonly B: number;
  readonly K: number;
  readonly steps: number;
  readonly w: Tensor;
  readonly U: Tensor<'f32'>;
  readonly V: Tensor<'f32'>;
  readonly b: Tensor<'f32'>;
  readonly tower: Tower<Tensor<'f32'>>;
  /** Offsets (elements) of each segment in the arena, and its end. */
  readonly offsets: Record<string, number> & { U: number; V: number; b: number; W1u: number; end: number };
  mask?: Tensor;
  epoch = 0;
  private readonly segs: { name: string; shape: number[] }[];
  private readonly tensors: Tensor[] = [];
  private records: Dispatch[][] = [];
  private readonly perm: Tensor;
  private readonly loss: Tensor<'f32'>;
  private readonly hyper: Tensor;
  private readonly opts: Required<NcfOptions>;
  private readonly grads: { g: Tensor; m: Tensor; v: Tensor };
  private scratch?: NcfScratch;
  private readonly seeds: { drop: GPUBuffer; pairs: GPUBuffer };

  constructor(
    readonly gpu: Gpu,
    readonly split: RecSplit,
    opts: NcfOptions,
  ) {
    this.opts = {
      dim: 0,
      hidden: [],
      batch: 512,
      pairs: 8,
      lr: 0.005,
      weightDecay: 0,
      seed: 0,
      initStd: 0.05,
      chunk: 16,
      drop: 0.5,
      negatives: 'uniform',
      ...defined(opts),
    };
    const o = this.opts;
    if (!Number.isInteger(o.dim) || o.dim < 1) throw new RangeError(`rec:ncf: dim must be a positive integer, got ${o.dim}`);
    if (!o.hidden.length || o.hidden.some((h) => !Number.isInteger(h) || h < 1))
      throw new RangeError(`rec:ncf: hidden sizes must be positive integers, got [${o.hidden}]`);
    if (!Number.isInteger(o.batch) || o.batch < 64 || o.batch % 64 !== 0)
      throw new RangeError(`rec:ncf: batch must be a multiple of 64, got ${o.batch}`);
    if (!Number.isInteger(o.pairs) || o.pairs < 1 || o.pairs > 256)
      throw new RangeError(`rec:ncf: pairs must be an integer in 1..256, got ${o.pairs}`);
    this.users = split.nUsers;
    this.nU = this.nI = split.nItems;
    this.D = o.dim;
    this.hidden = [...o.hidden];
    this.B = o.batch;
    this.K = o.pairs;
    this.steps = Math.ceil(this.users / this.B);
    this.segs = ncfSegments(this.nI, this.D, this.hidden);
    const offsets: Record<string, number> = {};
    let end = 0;
    for (const s of this.segs) {
      offsets[s.name] = end;
      end += pad64(s.shape.reduce((a, b) => a * b, 1));
    }
    this.offsets = { ...offsets, end } as NcfModel['offsets'];
    const t = <T extends Tensor>(x: T) => {
      this.tensors.push(x);
      return x;
    };
    this.w = t(createTensor(gpu, [end], this.initialValues(), { label: 'ncf.w' }));
    const views = this.viewsOf(this.w);
    this.U = views.U;
    this.V = views.V;
    this.b = views.b;
    this.tower = views.tower;
    this.grads = {
      g: t(createTensor(gpu, [end], undefined, { label: 'ncf.g' })),
      m: t(createTensor(gpu, [end], undefined, { label: 'ncf.m' })),
      v: t(createTensor(gpu, [end], undefined, { label: 'ncf.v' })),
    };
    this.perm = t(createTensor(gpu, [this.steps * this.B], undefined, { dtype: 'u32', label: 'ncf.perm' }));
    this.loss = t(createTensor(gpu, [this.steps * this.B], undefined, { label: 'ncf.loss' }));
    this.hyper = t(createAdamWHyper(gpu, this.hyperOf(), 'ncf.hyper'));
    this.seeds = { drop: createSeedBuffer(gpu, 'ncf.seed.drop'), pairs: createSeedBuffer(gpu, 'ncf.seed.pairs') };
  }

  /** N(0, initStd²) embeddings, He-normal MLP weights, hg = 1 (the GMF branch starts as a dot product), hm N(0, 1/HL), biases 0. */
  private initialValues(): Float32Array {
    const init = new Float32Array(this.offsets.end);
    const rng = new Rng(this.opts.seed);
    for (const s of this.segs) {
      const o = this.offsets[s.name]!,
        n = s.shape.reduce((a, b) => a * b, 1);
      let std = 0;
      if (s.name === 'U' || s.name === 'V') std = this.opts.initStd;
      else if (/^W/.test(s.name)) std = Math.sqrt(2 / (s.name === 'W1u' || s.name === 'W1v' ? 2 * this.D : s.shape[0]!));
      else if (s.name === 'hm') std = 1 / Math.sqrt(s.shape[0]!);
      for (let i = 0; i < n; i++) init[o + i] = s.name === 'hg' ? 1 : std * rng.normal();
    }
    return init;
  }

  /** Views of U, V, b and the tower in an arena-sized tensor (the weights or the gradient). */
  viewsOf(x: Tensor): { U: Tensor<'f32'>; V: Tensor<'f32'>; b: Tensor<'f32'>; tower: Tower<Tensor<'f32'>> } {
    const v = (name: string, shape?: number[]) =>
      new Tensor<'f32'>(this.gpu, x.buffer, shape ?? this.segs.find((s) => s.name === name)!.shape, 'f32', this.offsets[name]! * 4, false);
    return {
      U: v('U'),
      V: v('V'),
      b: v('b'),
      tower: {
        W1u: v('W1u'),
        W1v: v('W1v'),
        c1: v('c1'),
        layers: this.hidden.slice(1).map((_, l) => ({ W: v(`W${l + 2}`), c: v(`c${l + 2}`) })),
        hg: v('hg'),
        hm: v('hm'),
      },
    };
  }

  private hyperOf() {
    const o = this.opts;
    return { lr: o.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay, step: 1 };
  }

  setLr(lr: number): void {
    this.opts.lr = lr;
    writeAdamWHyper(this.hyper, this.hyperOf());
  }

  /** Builds the per-step records once (after a mask change, again). */
  async build(): Promise<void> {
    this.disposeRecords();
    const { gpu } = this;
    const o = this.offsets;
    const seg = (x: Tensor | undefined, from: number, to: number) =>
      x ? new Tensor<'f32'>(gpu, x.buffer, [to - from], 'f32', from * 4, false) : undefined;
    const part = (from: number, to: number) => ({
      w: seg(this.w, from, to)!,
      g: seg(this.grads.g, from, to)!,
      m: seg(this.grads.m, from, to)!,
      v: seg(this.grads.v, from, to)!,
      mask: seg(this.mask, from, to),
    });
    const state = this.scratch?.state ?? createTensor(gpu, [4], undefined, { dtype: 'u32', label: 'ncf.state' });
    const update = [
      ...(await adamwBiasCorrection(gpu, state, this.hyper)),
      ...(await adamw(gpu, part(0, o.end), this.hyper, { decayEnd: o.b })),
      ...(await advanceStep(gpu, state)),
    ];
    const built = await ncfStepRecords(
      this,
      { perm: this.perm, loss: this.loss, seeds: this.seeds, grad: this.grads.g, state, drop: this.opts.drop, negatives: this.opts.negatives },
      this.scratch,
    );
    this.scratch = built.scratch;
    this.records = built.steps.map((s, i) => [...s, ...(i === 0 ? update : update.map((d) => ({ ...d, owned: undefined })))]);
  }

  /** The CSR of training items, for the evaluator. */
  get trainCsr(): { rowptr: Tensor; items: Tensor } {
    if (!this.scratch) throw new Error('rec:ncf: build() first');
    return { rowptr: this.scratch.rowptr, items: this.scratch.items };
  }

  /** One epoch (a fresh seeded user order, fresh pairs and dropout); returns the mean BPR loss per user. */
  async trainEpoch(): Promise<number> {
    if (this.records.length === 0) await this.build();
    const { gpu, B, users } = this;
    const order = shuffledIndices(users, this.opts.seed, this.epoch);
    const perm = new Uint32Array(this.steps * B).fill(users);
    perm.set(order);
    this.perm.write(perm);
    writeSeed(gpu, this.seeds.drop, mix32(this.opts.seed ^ mix32(this.epoch + 1)));
    writeSeed(gpu, this.seeds.pairs, pairSeedOf(this.opts.seed, this.epoch));
    for (let s = 0; s < this.steps; s += this.opts.chunk) {
      const enc = gpu.device.createCommandEncoder({ label: `ncf.epoch${this.epoch}` });
      for (let j = s; j < Math.min(this.steps, s + this.opts.chunk); j++) encodeDispatches(enc, this.records[j]!, `ncf.step${j}`);
      gpu.device.queue.submit([enc.finish()]);
    }
    const loss = await this.loss.read();
    gpu.check();
    this.epoch++;
    let sum = 0,
      n = 0;
    for (let i = 0; i < users; i++)
      if (this.split.trainPtr[order[i]! + 1]! > this.split.trainPtr[order[i]!]!) {
        sum += loss[i]!;
        n++;
      }
    return sum / Math.max(1, n);
  }

  /** The parameters on the CPU: U, V, b and the tower ([W1u … hm] as stored, `rest`). */
  async readTables(): Promise<{ U: Float32Array; V: Float32Array; b: Float32Array; rest: Float32Array }> {
    const all = (await this.w.read()) as Float32Array;
    const o = this.offsets;
    return {
      U: all.slice(o.U, o.U + this.nU * this.D),
      V: all.slice(o.V, o.V + this.nI * this.D),
      b: all.slice(o.b, o.b + this.nI),
      rest: all.slice(o.W1u, o.end),
    };
  }

  writeTables(t: { U?: Float32Array; V?: Float32Array; b?: Float32Array; rest?: Float32Array }): void {
    if (t.U) this.U.write(t.U);
    if (t.V) this.V.write(t.V);
    if (t.b) this.b.write(t.b);
    if (t.rest) new Tensor<'f32'>(this.gpu, this.w.buffer, [t.rest.length], 'f32', this.offsets.W1u * 4, false).write(t.rest);
  }

  /** The arena's gradient after the last step (tests: with lr 0 a step leaves the weights as they were). */
  async readGradient(): Promise<Float32Array> {
    return (await this.grads.g.read()) as Float32Array;
  }

  resetOptimizer(): void {
    for (const t of [this.grads.m, this.grads.v]) t.write(new Float32Array(t.size));
  }

  /** Sets (or clears) the arena mask from U's and V's 0/1 arrays (the tower is not pruned) and rebuilds. */
  async setMask(m?: { U: Float32Array; V: Float32Array }): Promise<void> {
    this.mask?.dispose();
    this.mask = m && tableArenaMask(this.gpu, this.offsets, m, 'ncf.mask');
    await this.build();
  }

  private disposeRecords(): void {
    for (const r of this.records) destroyDispatches(r);
    this.records = [];
  }

  dispose(): void {
    this.disposeRecords();
    this.mask?.dispose();
    for (const t of this.scratch?.owned ?? []) t.dispose();
    for (const t of this.tensors) t.dispose();
    this.seeds.drop.destroy();
    this.seeds.pairs.destroy();
  }
}
