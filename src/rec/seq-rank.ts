// Ranking with rec:seq through the protocol's own path (eval.ts GpuRanker, unchanged): per chunk
// of R users, copy their context tokens (the last T of [PAD, known items], rec-sequences.ts) into
// the input → the GPT graph's forward WITHOUT its tied head (same parameter names, same arena) →
// gather each user's row at position T − 1 (the final layer norm's output, D wide) → scatter it
// into H (nUsers, D) at the user's id. Then GpuRanker scores S = H·Eᵀ with E the token table's
// first nItems rows (the tied head minus PAD, bias 0), excludes the user's items and takes the
// top 10 (rank-topk) — one more submission, one readback of the top lists.
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, Tensor } from '../gpu/tensor.js';
import { recGatherRows, recScatterRows } from '../kernels/rec-softmax.js';
import type { RecSplit } from '../data/rec-split.js';
import { evalTokens } from '../data/rec-sequences.js';
import { compileForward, type GraphContext } from '../nn/graph.js';
import { resolveModel } from '../nn/model.js';
import type { Network } from '../nn/network.js';
import { GpuRanker, scoreLists, type Metrics, type Target } from './eval.js';

export class SeqRanker {
  private readonly owned: Tensor[] = [];
  private records: Dispatch[] = [];
  private copies: { from: number; bytes: number }[] = [];
  private ranker?: GpuRanker;
  private tokens!: Tensor;
  private x0!: Tensor;

  private constructor(
    readonly net: Network,
    readonly split: RecSplit,
    readonly users: Uint32Array,
    readonly target: Target,
  ) {}

  private alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32', init?: ArrayLike<number>): Tensor {
    const t = createTensor(this.net.gpu, shape, init, { dtype, label });
    this.owned.push(t);
    return t;
  }

  /** A ranker of `users` for `target` with the network's current weights at every run(). */
  static async create(net: Network, split: RecSplit, users: Uint32Array, target: Target, chunk = 128): Promise<SeqRanker> {
    const r = new SeqRanker(net, split, users, target);
    try {
      await r.build(chunk);
    } catch (e) {
      r.dispose();
      throw e;
    }
    return r;
  }

  private async build(R: number): Promise<void> {
    const { net, split, users } = this;
    const gpu = net.gpu;
    const T = net.spec.input[0]!;
    const PAD = split.nItems;
    const nChunks = Math.max(1, Math.ceil(users.length / R));
    const toks = new Uint32Array(nChunks * R * T).fill(PAD);
    toks.set(evalTokens(split, users, this.target, T));
    const ids = new Uint32Array(nChunks * R).fill(split.nUsers);
    ids.set(users);
    this.tokens = this.alloc([toks.length], 'seqrank.tokens', 'u32', toks);
    this.x0 = this.alloc([R, T], 'seqrank.x0', 'u32');
    const tIds = this.alloc([ids.length], 'seqrank.users', 'u32', ids);
    const last = this.alloc(
      [R],
      'seqrank.last',
      'u32',
      Uint32Array.from({ length: R }, (_, b) => b * T + T - 1),
    );
    // the graph without its tied head: its output is ln_f's (R, T, D)
    const spec = { ...net.spec, layers: net.spec.layers.filter((l) => l.kind !== 'tiedHead') };
    const ctx: GraphContext = {
      gpu,
      B: R,
      arena: net.arena,
      alloc: (shape, label, dtype) => this.alloc(shape, label, dtype),
      keep: (ts) => this.owned.push(...ts.filter((t) => !this.owned.includes(t))),
    };
    const f = await compileForward(ctx, resolveModel(spec), this.x0);
    const D = f.output.shape[f.output.shape.length - 1]!;
    const Hc = this.alloc([R, D], 'seqrank.Hc');
    const H = this.alloc([split.nUsers, D], 'seqrank.H');
    this.records = [...f.forward, ...(await recGatherRows(gpu, { table: f.output.reshape([R * T, D]), perm: last, out: Hc }))];
    // one scatter record per chunk (its base differs); forward and gather are shared
    for (let c = 0; c < nChunks; c++) this.scatters.push(await recScatterRows(gpu, { drows: Hc, perm: tIds, dtable: H, base: c * R }));
    this.copies = Array.from({ length: nChunks }, (_, c) => ({ from: c * R * T * 4, bytes: R * T * 4 }));
    const wte = net.arena.tensor('weights', `${net.layers[0]!.name}.weight`);
    const E = new Tensor<'f32'>(gpu, wte.buffer, [split.nItems, D], 'f32', wte.offset, false);
    const zeros = this.alloc([split.nItems], 'seqrank.bias0');
    this.ranker = await GpuRanker.create(gpu, split, { U: H as Tensor<'f32'>, V: E, b: zeros as Tensor<'f32'>, kind: 'mf' }, users, this.target);
  }

  private scatters: Dispatch[][] = [];

  /** The users' top lists (users.length × 10) with the current weights. */
  async run(): Promise<Uint32Array> {
    const gpu = this.net.gpu;
    const enc = gpu.device.createCommandEncoder({ label: 'seqrank' });
    this.scatters.forEach((scatter, c) => {
      const cp = this.copies[c]!;
      enc.copyBufferToBuffer(this.tokens.buffer, this.tokens.offset + cp.from, this.x0.buffer, this.x0.offset, cp.bytes);
      encodeDispatches(enc, this.records, 'seqrank');
      encodeDispatches(enc, scatter, 'seqrank.scatter');
    });
    gpu.device.queue.submit([enc.finish()]);
    return this.ranker!.run();
  }

  /** HR@10 / NDCG@10 of the current weights. */
  async metrics(): Promise<Metrics> {
    return scoreLists(this.split, this.users, await this.run(), this.target);
  }

  dispose(): void {
    destroyDispatches(this.records);
    for (const s of this.scatters) destroyDispatches(s);
    this.records = [];
    this.scatters = [];
    this.ranker?.dispose();
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}

/** Metrics of `net` for `target` over `users` (one ranker, one run). */
export async function rankSeq(net: Network, split: RecSplit, users: Uint32Array, target: Target): Promise<Metrics> {
  const r = await SeqRanker.create(net, split, users, target);
  try {
    return await r.metrics();
  } finally {
    r.dispose();
  }
}
