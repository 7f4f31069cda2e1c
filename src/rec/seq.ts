// rec:seq-L-D-H-T — SASRec (Kang & McAuley 2018) on slimgpu's GPT stack: the `gpt:L-D-H-T` graph
// (nn/presets gptSpec: token + learned position embedding, L pre-norm blocks of causal attention
// and a 4·D GELU MLP, ln_f, the head tied to the token table) with the item catalogue as its
// vocabulary — tokens 0..nItems−1 are items, nItems is PAD (and the start token). It reads each
// user's items in the split's order (src/data/rec-sequences.ts) and predicts the next item at
// every position, full softmax over the catalogue (and PAD, never a target).
// One step = copy the step's B windows of T tokens into the input (copyBufferToBuffer) → the
// graph's forward (nn/graph compileForward) → rec-softmax's softmax_xent over the (B·T, nItems + 1)
// logits, one CSR row per slot holding 0 or 1 target item (padding slots: zero gradient) → the
// graph's backward → AdamW over the arena (nn/optimizer, masks respected, global-norm clip) →
// advance the GPU step counter. `chunk` steps record into one command encoder; the per-slot losses
// are read once per epoch. Ranking: seq-rank.ts.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { recSoftmaxXent } from '../kernels/rec-softmax.js';
import { advanceStep, prepareStep } from '../kernels/step.js';
import { shuffledIndices } from '../data/random.js';
import type { RecSplit } from '../data/rec-split.js';
import { batchedWindows, reshuffledTraining, targetCsr, trainingWindows, type SeqWindows } from '../data/rec-sequences.js';
import { compileBackward, compileForward, type GraphContext } from '../nn/graph.js';
import { gptSpec, type ModelSpec } from '../nn/model.js';
import { Network } from '../nn/network.js';
import { hyperRow, optimizerRecords, tableWidth } from '../nn/optimizer.js';
import { TABLE_CAP } from '../nn/plan.js';

export interface SeqConfig {
  L: number;
  D: number;
  H: number;
  T: number;
}

/** `rec:seq-L-D-H-T` → its sizes; undefined when the name is not a rec:seq model. */
export function parseSeqModel(name: string): SeqConfig | undefined {
  if (!name.startsWith('rec:seq')) return undefined;
  const m = /^rec:seq-(\d+)-(\d+)-(\d+)-(\d+)$/.exec(name);
  const bad = (why: string) => new Error(`slimgpu: recommendation model '${name}': ${why} (write rec:seq-L-D-H-T, e.g. rec:seq-2-64-2-32)`);
  if (!m) throw bad('unknown spelling');
  const [L, D, H, T] = m.slice(1).map(Number) as [number, number, number, number];
  if (L < 1 || L > 16) throw bad(`layers L must be in 1..16, got ${L}`);
  if (D < 1 || D > 1024) throw bad(`width D must be in 1..1024, got ${D}`);
  if (H < 1 || D % H !== 0) throw bad(`heads H must divide D = ${D}, got ${H}`);
  if (T < 1 || T > 512) throw bad(`sequence length T must be in 1..512, got ${T}`);
  return { L, D, H, T };
}

/** The GPT graph with the item vocabulary (nItems + 1 tokens: the items, then PAD). */
export function seqSpec(c: SeqConfig, nItems: number): ModelSpec {
  const spec = gptSpec(c, `rec:seq-${c.L}-${c.D}-${c.H}-${c.T}`);
  const [wte, ...rest] = spec.layers;
  if (wte?.kind !== 'embedding') throw new Error('rec:seq: the GPT graph must start with its token embedding');
  return { ...spec, layers: [{ ...wte, vocab: nItems + 1 }, ...rest] };
}

export interface SeqOptions {
  /** Windows of T items per step. */
  batch?: number;
  lr?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  /** Global gradient-norm clip (0: none). */
  clip?: number;
  seed?: number;
  /** Steps per command encoder. */
  chunk?: number;
  /** Without timestamps: a fresh seeded order of each user's training items every epoch (default true). */
  reshuffle?: boolean;
}

export const SEQ_DEFAULTS = {
  batch: 128,
  lr: 0.002,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.98,
  clip: 1,
  seed: 0,
  chunk: 16,
  reshuffle: true,
} as const;

/** The masked fine-tuning's learning rate after pruning (--compress), a quarter of the training rate. */
export const SEQ_FINE_TUNE_LR = 0.0005;

export class SeqModel {
  readonly net: Network;
  readonly cfg: SeqConfig;
  readonly nItems: number;
  readonly B: number;
  readonly steps: number;
  windows: SeqWindows;
  epoch = 0;
  private step = 0;
  private readonly o: Required<SeqOptions>;
  private readonly owned: Tensor[] = [];
  private records: Dispatch[][] = [];
  private shared: Dispatch[][] = [];
  private bufs!: {
    tokens: Tensor;
    rowptr: Tensor;
    items: Tensor;
    perm: Tensor;
    loss: Tensor;
    x0: Tensor;
    state: Tensor;
    table: Tensor;
    hyper: Tensor;
  };

  private constructor(
    readonly gpu: Gpu,
    readonly split: RecSplit,
    cfg: SeqConfig,
    opts: SeqOptions,
  ) {
    this.o = { ...SEQ_DEFAULTS, ...opts };
    if (!Number.isInteger(this.o.batch) || this.o.batch < 1) throw new RangeError(`rec:seq: batch must be a positive integer, got ${this.o.batch}`);
    this.cfg = cfg;
    this.nItems = split.nItems;
    this.B = this.o.batch;
    this.windows = trainingWindows(split, cfg.T);
    this.steps = Math.max(1, Math.ceil(this.windows.n / this.B));
    this.net = Network.create(gpu, seqSpec(cfg, split.nItems), this.o.seed);
  }

  static async create(gpu: Gpu, split: RecSplit, cfg: SeqConfig, opts: SeqOptions = {}): Promise<SeqModel> {
    const m = new SeqModel(gpu, split, cfg, opts);
    try {
      await m.build();
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  private alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32', init?: ArrayLike<number>): Tensor {
    const t = createTensor(this.gpu, shape, init, { dtype, label });
    this.owned.push(t);
    return t;
  }

  /** The training records: shared forward / backward / update, one loss record per step. */
  private async build(): Promise<void> {
    const { gpu, B, net } = this;
    const T = this.cfg.T,
      V = this.nItems + 1,
      slots = this.steps * B * T;
    net.arena.ensureVariance();
    const W = tableWidth('adamw');
    this.bufs = {
      tokens: this.alloc([slots], 'seq.tokens', 'u32'),
      rowptr: this.alloc([slots + 1], 'seq.rowptr', 'u32'),
      items: this.alloc([Math.max(1, this.windows.pairs)], 'seq.items', 'u32'),
      perm: this.alloc(
        [slots],
        'seq.perm',
        'u32',
        Uint32Array.from({ length: slots }, (_, i) => i),
      ),
      loss: this.alloc([slots], 'seq.loss'),
      x0: this.alloc([B, T], 'seq.x0', 'u32'),
      state: this.alloc([4], 'seq.state', 'u32'),
      table: this.alloc([TABLE_CAP * W], 'seq.table'),
      hyper: this.alloc([W], 'seq.hyper'),
    };
    const ctx: GraphContext = {
      gpu,
      B,
      arena: net.arena,
      alloc: (shape, label, dtype) => this.alloc(shape, label, dtype),
      keep: (ts) => this.owned.push(...ts.filter((t) => !this.owned.includes(t))),
    };
    const f = await compileForward(ctx, net.layers, this.bufs.x0);
    const gOut = this.alloc([B * T, V], 'seq.dlogits');
    const backward = await compileBackward(ctx, net.layers, f, gOut);
    const update = await optimizerRecords(gpu, 'adamw', net.arena, this.bufs.hyper, (s, l) => this.alloc(s, l), { clip: this.o.clip > 0 });
    const prep = await prepareStep(gpu, { state: this.bufs.state, table: this.bufs.table, hyper: this.bufs.hyper }, W);
    const adv = await advanceStep(gpu, this.bufs.state);
    this.shared = [prep, f.forward, backward, update, adv];
    const logits = f.output.reshape([B * T, V]);
    const scale = 1 / Math.max(1, this.windows.pairs / this.steps); // the mean over a step's targets
    const { tokens: _t, x0: _x, state: _s, table: _tb, hyper: _h, ...csr } = this.bufs;
    for (let s = 0; s < this.steps; s++) {
      const loss = await recSoftmaxXent(gpu, { scores: logits, ...csr, ds: gOut, base: s * B * T, scale });
      this.records.push([...prep, ...f.forward, ...loss, ...backward, ...update, ...adv]);
      this.shared.push(loss);
    }
  }

  /** Sets the learning rate of the steps recorded from now on. */
  setLr(lr: number): void {
    this.o.lr = lr;
  }

  private writeTable(from: number, n: number): void {
    const W = tableWidth('adamw');
    const buf = new Float32Array(TABLE_CAP * W);
    const h = { momentum: 0, l2: this.o.weightDecay, beta1: this.o.beta1, beta2: this.o.beta2, clip: this.o.clip };
    for (let i = 0; i < n; i++) buf.set(hyperRow('adamw', h, from + i, this.o.lr), ((from + i) % TABLE_CAP) * W);
    this.gpu.device.queue.writeBuffer(this.bufs.table.buffer, 0, buf);
  }

  /** One epoch over every training window (a fresh seeded window order); returns the mean loss per target. */
  async trainEpoch(): Promise<number> {
    const { gpu, B } = this;
    const T = this.cfg.T;
    // an untimed log's order is a random permutation: show other permutations (same window count per user)
    if (!this.split.timed && this.o.reshuffle && this.epoch > 0)
      this.windows = trainingWindows(reshuffledTraining(this.split, this.o.seed, this.epoch), T);
    const order = shuffledIndices(this.windows.n, this.o.seed, this.epoch);
    const { tokens, targets } = batchedWindows(this.windows, order, B, this.nItems);
    const csr = targetCsr(targets);
    this.bufs.tokens.write(tokens);
    this.bufs.rowptr.write(csr.rowptr);
    this.bufs.items.write(csr.items);
    gpu.device.queue.writeBuffer(this.bufs.state.buffer, 0, new Uint32Array([this.step, 0, 0, 0]));
    const chunk = Math.max(1, Math.min(this.o.chunk, TABLE_CAP));
    const bytes = B * T * 4;
    for (let s = 0; s < this.steps; s += chunk) {
      const to = Math.min(this.steps, s + chunk);
      this.writeTable(this.step + s, to - s);
      const enc = gpu.device.createCommandEncoder({ label: `seq.epoch${this.epoch}` });
      for (let j = s; j < to; j++) {
        enc.copyBufferToBuffer(this.bufs.tokens.buffer, this.bufs.tokens.offset + j * bytes, this.bufs.x0.buffer, this.bufs.x0.offset, bytes);
        encodeDispatches(enc, this.records[j]!, `seq.step${j}`);
      }
      gpu.device.queue.submit([enc.finish()]);
    }
    const loss = await this.bufs.loss.read();
    gpu.check();
    this.step += this.steps;
    this.epoch++;
    let sum = 0;
    for (let i = 0; i < loss.length; i++) sum += loss[i]!;
    return sum / Math.max(1, this.windows.pairs);
  }

  /** Every parameter (name → values). */
  async readParams(): Promise<Map<string, Float32Array>> {
    return this.net.arena.read('weights');
  }

  async writeParams(values: Map<string, Float32Array>): Promise<void> {
    await this.net.setParams(values);
  }

  /** Sets the 0/1 masks (pruned weights zeroed; AdamW keeps them at 0). */
  async setMasks(masks: Map<string, Float32Array>): Promise<void> {
    const w = await this.readParams();
    for (const [k, m] of masks) {
      const v = w.get(k)!;
      for (let i = 0; i < v.length; i++) if (m[i] === 0) v[i] = 0;
    }
    await this.net.setParams(w, masks);
  }

  /** Zeroes AdamW's moments. */
  resetOptimizer(): void {
    const a = this.net.arena;
    for (const t of [a.parts.momentum, a.ensureVariance()]) t.write(new Float32Array(t.size));
  }

  dispose(): void {
    for (const r of this.shared) destroyDispatches(r);
    this.shared = [];
    this.records = [];
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
    this.net.dispose();
  }
}
