// rec:mf-D — matrix factorisation trained on the GPU with the multinomial (full-softmax) loss (or, with
// loss: 'bpr', BPR over seeded sampled pairs: rec-pairs.bpr_dense, the same dense score matrix):
//   score(u, i) = U[u]·V[i] + b[i];
// rec:dae-D — the same with U a second item table and a user the mean of U over the user's items
//   (a linear denoising autoencoder, Mult-DAE without the nonlinearity: half of each user's items
//   dropped from the input per epoch, all predicted): Ub = A·U with A the normalised multi-hot rows
//   (rec-softmax.multi_hot), and dU = Aᵀ·dUb by matmul — no scatter, every row many updates;  per batch of B distinct users, loss = mean over the batch of
//   logsumexp_i score(u, ·) − mean over u's training items of score(u, i)   (Mult-VAE's likelihood
//   without the encoder; every item is a negative, no sampling).
// Parameters live in one arena [U (nU·D) | V (nI·D) | b (nI)], each segment padded to 64 floats (the
// storage offset alignment), so one AdamW dispatch updates all of them; weight decay (the L2 on the
// embeddings) applies to U and V, not to b. An optional 0/1 mask of the arena's size keeps pruned
// entries at exactly 0 (AdamW zeroes w, m and v there).
// One step = gather U rows (rec-softmax's gather_rows) → S = Ub·Vᵀ + b (matmul) → rec-softmax → db = colsum(dS),
// dV = dSᵀ·Ub, dUb = dS·V (matmul) → scatter dUb into the zero dU (rec-softmax) → AdamW (bias
// corrections from the GPU step counter) → clear dU's batch rows. A whole epoch of steps records
// into one command encoder per `chunk` steps, with no readback; the per-user losses are read once
// per epoch. This trainer sits beside nn/ (not inside its layer switch): a recommender's table is
// updated through a row scatter that nn's graph compiler has no node for.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, Tensor } from '../gpu/tensor.js';
import { adamw, adamwBiasCorrection, createAdamWHyper, writeAdamWHyper } from '../kernels/adamw.js';
import { colsum, matmul } from '../kernels/matmul.js';
import { createSeedBuffer, recGatherRows, recMultiHot, recScatterRows, recSoftmaxXent, writeSeed } from '../kernels/rec-softmax.js';
import { advanceStep } from '../kernels/step.js';
import { recBprDense, type Negatives } from '../kernels/rec-pairs.js';
import { Rng, mix32, shuffledIndices } from '../data/random.js';
import type { RecSplit } from '../data/rec-split.js';

export interface MfOptions {
  dim: number;
  /** Users per step (a multiple of 64). */
  batch?: number;
  lr?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  seed?: number;
  /** Std of the initial embeddings. */
  initStd?: number;
  /** Steps per command encoder. */
  chunk?: number;
  /** The user table's learning rate is lr × this (a user's row gets one gradient per epoch, an item's many). */
  userLrScale?: number;
  /** 'mf': U is a table of users; 'dae': U is a second item table and a user is the mean of U over its items. */
  kind?: RecKind;
  /** rec:dae: fraction of each user's items dropped from the input per epoch (denoising). */
  drop?: number;
  /** 'softmax' (default): the full multinomial likelihood; 'bpr': BPR over `pairs` seeded (positive, negative) pairs per user (src/kernels/rec-pairs.ts). */
  loss?: RecLoss;
  /** --loss bpr: pairs per user per step (default 8). */
  pairs?: number;
  /** --loss bpr: 'uniform' (default) or 'popular' negatives. */
  negatives?: Negatives;
}

export type RecLoss = 'softmax' | 'bpr';

export type RecKind = 'mf' | 'dae';

const pad64 = (n: number) => Math.ceil(n / 64) * 64;

export class MfModel {
  /** Rows of U: users (mf) or items (dae). */
  readonly nU: number;
  /** Users (the steps' rows). */
  readonly users: number;
  readonly kind: RecKind;
  readonly nI: number;
  readonly D: number;
  readonly B: number;
  readonly steps: number;
  readonly w: Tensor;
  readonly U: Tensor<'f32'>;
  readonly V: Tensor<'f32'>;
  readonly b: Tensor<'f32'>;
  /** Offsets (elements) of U, V, b in the arena. */
  readonly offsets: { U: number; V: number; b: number; end: number };
  mask?: Tensor;
  epoch = 0;
  private readonly tensors: Tensor[] = [];
  private records: Dispatch[][] = [];
  private readonly perm: Tensor;
  private readonly loss: Tensor<'f32'>;
  private readonly hyper: Tensor;
  private readonly hyperU: Tensor;
  private readonly opts: Required<MfOptions>;
  private readonly grads: { g: Tensor; m: Tensor; v: Tensor; dU: Tensor; dV: Tensor; db: Tensor };

  constructor(
    readonly gpu: Gpu,
    readonly split: RecSplit,
    opts: MfOptions,
  ) {
    this.opts = {
      batch: 512,
      lr: 0.005,
      weightDecay: 0,
      beta1: 0.9,
      beta2: 0.999,
      seed: 0,
      initStd: 0.05,
      chunk: 16,
      userLrScale: 1,
      kind: 'mf',
      drop: 0.5,
      loss: 'softmax',
      pairs: 8,
      negatives: 'uniform',
      ...opts,
    };
    const o = this.opts;
    if (!Number.isInteger(o.dim) || o.dim < 1) throw new RangeError(`rec:mf: dim must be a positive integer, got ${o.dim}`);
    if (!Number.isInteger(o.batch) || o.batch < 64 || o.batch % 64 !== 0)
      throw new RangeError(`rec:mf: batch must be a multiple of 64, got ${o.batch}`);
    this.kind = o.kind;
    if (o.kind === 'dae') o.userLrScale = 1;
    this.users = split.nUsers;
    this.nU = o.kind === 'dae' ? split.nItems : split.nUsers;
    this.nI = split.nItems;
    this.D = o.dim;
    this.B = o.batch;
    this.steps = Math.ceil(this.users / this.B);
    const sU = 0,
      sV = pad64(this.nU * this.D),
      sb = sV + pad64(this.nI * this.D),
      end = sb + pad64(this.nI);
    this.offsets = { U: sU, V: sV, b: sb, end };
    const init = new Float32Array(end);
    const rng = new Rng(o.seed);
    for (let i = 0; i < sb; i++) init[i] = o.initStd * rng.normal();
    const t = <T extends Tensor>(x: T) => {
      this.tensors.push(x);
      return x;
    };
    this.w = t(createTensor(gpu, [end], init, { label: 'mf.w' }));
    const view = (x: Tensor, off: number, shape: number[]) => new Tensor<'f32'>(gpu, x.buffer, shape, 'f32', off * 4, false);
    this.U = view(this.w, sU, [this.nU, this.D]);
    this.V = view(this.w, sV, [this.nI, this.D]);
    this.b = view(this.w, sb, [this.nI]);
    const g = t(createTensor(gpu, [end], undefined, { label: 'mf.g' }));
    this.grads = {
      g,
      m: t(createTensor(gpu, [end], undefined, { label: 'mf.m' })),
      v: t(createTensor(gpu, [end], undefined, { label: 'mf.v' })),
      dU: view(g, sU, [this.nU, this.D]),
      dV: view(g, sV, [this.nI, this.D]),
      db: view(g, sb, [this.nI]),
    };
    this.perm = t(createTensor(gpu, [this.steps * this.B], undefined, { dtype: 'u32', label: 'mf.perm' }));
    this.loss = t(createTensor(gpu, [this.steps * this.B], undefined, { label: 'mf.loss' }));
    this.hyper = t(createAdamWHyper(gpu, this.hyperOf(1), 'mf.hyper'));
    this.hyperU = t(createAdamWHyper(gpu, this.hyperOf(1, o.userLrScale), 'mf.hyperU'));
  }

  private hyperOf(step: number, scale = 1) {
    const o = this.opts;
    return { lr: o.lr * scale, beta1: o.beta1, beta2: o.beta2, eps: 1e-8, weightDecay: o.weightDecay, step };
  }

  /** Sets the learning rate for the steps recorded from now on. */
  setLr(lr: number): void {
    this.opts.lr = lr;
    writeAdamWHyper(this.hyper, this.hyperOf(1));
    writeAdamWHyper(this.hyperU, this.hyperOf(1, this.opts.userLrScale));
  }

  /** Builds the per-step records once (after a mask change, again). */
  async build(): Promise<void> {
    this.disposeRecords();
    const { gpu, B, nI, D } = this;
    const sp = this.split;
    const t = <T extends Tensor>(x: T) => {
      this.tensors.push(x);
      return x;
    };
    const tensorsOnce = this.scratch ?? {
      rowptr: t(createTensor(gpu, [sp.trainPtr.length], sp.trainPtr, { dtype: 'u32', label: 'mf.rowptr' })),
      items: t(
        createTensor(gpu, [Math.max(1, sp.trainItems.length)], sp.trainItems.length ? sp.trainItems : [0], { dtype: 'u32', label: 'mf.items' }),
      ),
      Ub: t(createTensor(gpu, [B, D], undefined, { label: 'mf.Ub' })),
      S: t(createTensor(gpu, [B, nI], undefined, { label: 'mf.S' })),
      dS: t(createTensor(gpu, [B, nI], undefined, { label: 'mf.dS' })),
      dUb: t(createTensor(gpu, [B, D], undefined, { label: 'mf.dUb' })),
      state: t(createTensor(gpu, [4], undefined, { dtype: 'u32', label: 'mf.state' })),
      A: this.kind === 'dae' ? t(createTensor(gpu, [B, nI], undefined, { label: 'mf.A' })) : undefined,
    };
    if (this.kind === 'dae' && !this.seed) this.seed = createSeedBuffer(gpu, 'mf.seed');
    if (this.opts.loss === 'bpr' && !this.pairSeed) this.pairSeed = createSeedBuffer(gpu, 'mf.seed.pairs');
    this.scratch = tensorsOnce;
    const { rowptr, items, Ub, S, dS, dUb, state, A } = tensorsOnce;
    const gr = this.grads;
    // two AdamW dispatches over the arena: the user segment [U, V) at lr·userLrScale, then [V, end)
    const seg = (x: Tensor | undefined, from: number, to: number) =>
      x ? new Tensor<'f32'>(gpu, x.buffer, [to - from], 'f32', from * 4, false) : undefined;
    const { U: oU, V: oV, b: ob, end } = this.offsets;
    const part = (from: number, to: number) => ({
      w: seg(this.w, from, to)!,
      g: seg(gr.g, from, to)!,
      m: seg(gr.m, from, to)!,
      v: seg(gr.v, from, to)!,
      mask: seg(this.mask, from, to),
    });
    const update = [
      ...(await adamwBiasCorrection(gpu, state, this.hyper)),
      ...(await adamwBiasCorrection(gpu, state, this.hyperU)),
      ...(await adamw(gpu, part(oU, oV), this.hyperU)),
      ...(await adamw(gpu, part(oV, end), this.hyper, { decayEnd: ob - oV })),
      ...(await advanceStep(gpu, state)),
    ];
    for (let s = 0; s < this.steps; s++) {
      const base = s * B;
      const input = A
        ? [
            ...(await recMultiHot(gpu, { perm: this.perm, rowptr, items, out: A, seed: this.seed!, base, drop: this.opts.drop })),
            ...(await matmul(gpu, A, this.U, Ub)),
          ]
        : await recGatherRows(gpu, { table: this.U, perm: this.perm, out: Ub, base });
      // mf: the batch's user-row gradients scattered into the zero dU (and cleared after the update);
      // dae: dW = Aᵀ·dUb, dense
      const inputGrad = A
        ? await matmul(gpu, A, dUb, gr.dU, { transposeA: true })
        : await recScatterRows(gpu, { drows: dUb, perm: this.perm, dtable: gr.dU, base });
      const clear = A ? [] : await recScatterRows(gpu, { perm: this.perm, dtable: gr.dU, B, base, clear: true });
      this.records.push([
        ...input,
        ...(await matmul(gpu, Ub, this.V, S, { transposeB: true, bias: this.b })),
        ...(await this.lossRecord(S, dS, rowptr, items, base)),
        ...(await colsum(gpu, dS, gr.db)),
        ...(await matmul(gpu, dS, Ub, gr.dV, { transposeA: true })),
        ...(await matmul(gpu, dS, this.V, dUb)),
        ...inputGrad,
        ...(s === 0 ? update : update.map((d) => ({ ...d, owned: undefined }))),
        ...clear,
      ]);
    }
  }

  /** The loss dispatch of one step: the full softmax, or BPR over sampled pairs (--loss bpr). */
  private async lossRecord(S: Tensor, dS: Tensor, rowptr: Tensor, items: Tensor, base: number): Promise<Dispatch[]> {
    const a = { scores: S, perm: this.perm, rowptr, items, ds: dS, loss: this.loss, base, scale: 1 / this.B };
    if (!this.pairSeed) return recSoftmaxXent(this.gpu, a);
    return recBprDense(this.gpu, { ...a, seed: this.pairSeed, K: this.opts.pairs ?? 8, negatives: this.opts.negatives });
  }

  private scratch?: { rowptr: Tensor; items: Tensor; Ub: Tensor; S: Tensor; dS: Tensor; dUb: Tensor; state: Tensor; A?: Tensor };
  private seed?: GPUBuffer;
  private pairSeed?: GPUBuffer;

  /** The CSR of training items and the users' rows, for the evaluator. */
  get trainCsr(): { rowptr: Tensor; items: Tensor } {
    if (!this.scratch) throw new Error('rec:mf: build() first');
    return { rowptr: this.scratch.rowptr, items: this.scratch.items };
  }

  /** One epoch (a fresh seeded user order); returns the mean training loss per user. */
  async trainEpoch(): Promise<number> {
    if (this.records.length === 0) await this.build();
    const { gpu, B, users: nU } = this;
    const order = shuffledIndices(nU, this.opts.seed, this.epoch);
    const perm = new Uint32Array(this.steps * B).fill(nU);
    if (this.seed) writeSeed(gpu, this.seed, mix32(this.opts.seed ^ mix32(this.epoch + 1)));
    if (this.pairSeed) writeSeed(gpu, this.pairSeed, mix32(this.opts.seed ^ mix32(this.epoch + 0x9e3779b9)));
    perm.set(order);
    this.perm.write(perm);
    for (let s = 0; s < this.steps; s += this.opts.chunk) {
      const enc = gpu.device.createCommandEncoder({ label: `mf.epoch${this.epoch}` });
      for (let j = s; j < Math.min(this.steps, s + this.opts.chunk); j++) encodeDispatches(enc, this.records[j]!, `mf.step${j}`);
      gpu.device.queue.submit([enc.finish()]);
    }
    const loss = await this.loss.read();
    gpu.check();
    this.epoch++;
    let sum = 0,
      n = 0;
    for (let i = 0; i < nU; i++)
      if (this.split.trainPtr[order[i]! + 1]! > this.split.trainPtr[order[i]!]!) {
        sum += loss[i]!;
        n++;
      }
    return sum / Math.max(1, n);
  }

  /** The tables on the CPU: U (nU·D), V (nI·D), b (nI). */
  async readTables(): Promise<{ U: Float32Array; V: Float32Array; b: Float32Array }> {
    const [U, V, b] = await Promise.all([this.U.read(), this.V.read(), this.b.read()]);
    return { U, V, b };
  }

  /** Overwrites the tables (e.g. with their compressed values). */
  writeTables(t: { U?: Float32Array; V?: Float32Array; b?: Float32Array }): void {
    if (t.U) this.U.write(t.U);
    if (t.V) this.V.write(t.V);
    if (t.b) this.b.write(t.b);
  }

  /** Zeroes AdamW's moments (a fresh optimizer for another compression plan from the same tables). */
  resetOptimizer(): void {
    for (const t of [this.grads.m, this.grads.v]) t.write(new Float32Array(t.size));
  }

  /** Sets (or clears) the arena mask from per-table 0/1 arrays and rebuilds the step records. */
  async setMask(m?: { U: Float32Array; V: Float32Array }): Promise<void> {
    this.mask?.dispose();
    this.mask = m && tableArenaMask(this.gpu, this.offsets, m, 'mf.mask');
    await this.build();
  }

  private disposeRecords(): void {
    for (const r of this.records) destroyDispatches(r);
    this.records = [];
  }

  dispose(): void {
    this.disposeRecords();
    this.mask?.dispose();
    for (const t of this.tensors) t.dispose();
    this.seed?.destroy();
    this.pairSeed?.destroy();
  }
}

/** An arena's 0/1 mask from the U and V tables' masks (every other entry kept), for AdamW's masked update. */
export function tableArenaMask(
  gpu: Gpu,
  offsets: { U: number; V: number; end: number },
  m: { U: Float32Array; V: Float32Array },
  label: string,
): Tensor {
  const full = new Float32Array(offsets.end).fill(1);
  full.set(m.U, offsets.U);
  full.set(m.V, offsets.V);
  return createTensor(gpu, [offsets.end], full, { label });
}
