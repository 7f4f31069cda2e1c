// Full-catalogue ranking of rec:ncf on the GPU: per chunk of R users (R·items pairs, sized so each
// pair tensor stays ≤ 16 MiB; with one hidden layer the score is fused, rec-pairs.pair_score1, and
// nothing per pair is stored), a user is the mean of U over its known items (train, + validation
// for the test) → P = Ue·W1u + c1 → a1 = relu(P[row] + Q[item]) over every (user, item) of the chunk
// (rec-pairs with dense pairs; Q = V·W1v once per run) → the MLP's other layers (matmul + ReLU) →
// G = Ue[row] ⊙ V[item] → scores (R, items) → rank-topk. Every chunk records into one encoder and
// the top lists are read back once, as GpuRanker does for rec:mf / rec:dae.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { matmul } from '../kernels/matmul.js';
import { rankTopk } from '../kernels/rank-topk.js';
import { recPairGmf, recPairRelu, recPairScore, recPairScore1 } from '../kernels/rec-pairs.js';
import { createSeedBuffer, recMultiHot } from '../kernels/rec-softmax.js';
import type { RecSplit } from '../data/rec-split.js';
import { exclusionCsr, scoreLists, TOP_K, type Metrics, type Target } from './eval.js';
import type { NcfModel } from './ncf.js';

/** Users per chunk: the widest pair tensor (items × max(D, H…)) of R users stays ≤ 2^22 floats. */
export function ncfChunkRows(nI: number, widest: number): number {
  return Math.max(1, Math.min(256, Math.floor(2 ** 22 / (nI * widest))));
}

export class NcfRanker {
  private records: Dispatch[] = [];
  private readonly owned: Tensor[] = [];
  private seed?: GPUBuffer;
  private outIdx!: Tensor<'u32'>;

  private constructor(
    readonly gpu: Gpu,
    readonly users: Uint32Array,
  ) {}

  private own<T extends Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  static async create(gpu: Gpu, split: RecSplit, m: NcfModel, users: Uint32Array, target: Target): Promise<NcfRanker> {
    const r = new NcfRanker(gpu, users);
    try {
      await r.record(split, m, target);
    } catch (e) {
      r.dispose();
      throw e;
    }
    return r;
  }

  private async record(split: RecSplit, m: NcfModel, target: Target): Promise<void> {
    const { gpu, users } = this;
    const nI = split.nItems,
      D = m.D,
      t = m.tower,
      L = m.hidden.length;
    const fused = L === 1;
    const R = fused ? ncfChunkRows(nI, 16) : ncfChunkRows(nI, Math.max(D, ...m.hidden));
    const nChunks = Math.ceil(users.length / R);
    const rows = new Uint32Array(nChunks * R).fill(split.nUsers);
    rows.set(users);
    const { rowptr, cols } = exclusionCsr(split, target);
    const u32 = (data: Uint32Array, label: string) => this.own(createTensor(gpu, [data.length], data, { dtype: 'u32', label }));
    const f32 = (shape: number[], label: string) => this.own(createTensor(gpu, shape, undefined, { label }));
    const tRows = u32(rows, 'ncfrank.rows'),
      tPtr = u32(rowptr, 'ncfrank.rowptr'),
      tCols = u32(cols, 'ncfrank.cols'),
      dummy = u32(new Uint32Array(1), 'ncfrank.dummy');
    this.outIdx = this.own(createTensor(gpu, [rows.length * TOP_K], undefined, { dtype: 'u32', label: 'ncfrank.idx' }));
    const outVal = f32([rows.length * TOP_K], 'ncfrank.val');
    const A = f32([R, nI], 'ncfrank.A'),
      Ue = f32([R, D], 'ncfrank.Ue'),
      P = f32([R, m.hidden[0]!], 'ncfrank.P'),
      Q = f32([nI, m.hidden[0]!], 'ncfrank.Q'),
      S = f32([R, nI], 'ncfrank.S');
    const G = fused ? undefined : f32([R * nI, D], 'ncfrank.G');
    const act = fused ? [] : m.hidden.map((h, l) => f32([R * nI, h], `ncfrank.act${l + 1}`));
    this.seed = createSeedBuffer(gpu, 'ncfrank.seed');
    this.records.push(...(await matmul(gpu, m.V, t.W1v, Q)));
    for (let c = 0; c < nChunks; c++) {
      const base = c * R;
      this.records.push(
        ...(await recMultiHot(gpu, { perm: tRows, rowptr: tPtr, items: tCols, out: A, seed: this.seed, base })),
        ...(await matmul(gpu, A, m.U, Ue)),
        ...(await matmul(gpu, Ue, t.W1u, P, { bias: t.c1 })),
      );
      const rank = await rankTopk(gpu, { scores: S, rows: tRows, rowptr: tPtr, cols: tCols, outIdx: this.outIdx, outVal, k: TOP_K, base });
      if (fused) {
        this.records.push(...(await recPairScore1(gpu, { ue: Ue, v: m.V, p: P, q: Q, hg: t.hg, hm: t.hm, bias: m.b, out: S })), ...rank);
        continue;
      }
      this.records.push(...(await recPairRelu(gpu, { rows: P, table: Q, pitems: dummy, out: act[0]!, per: 0 })));
      for (let l = 1; l < L; l++)
        this.records.push(...(await matmul(gpu, act[l - 1]!, t.layers[l - 1]!.W, act[l]!, { bias: t.layers[l - 1]!.c, activation: 'relu' })));
      this.records.push(
        ...(await recPairGmf(gpu, { rows: Ue, table: m.V, pitems: dummy, out: G!, per: 0 })),
        ...(await recPairScore(gpu, { g: G!, hg: t.hg, a: act[L - 1]!, hm: t.hm, bias: m.b, pitems: dummy, out: S, per: 0 })),
        ...rank,
      );
    }
  }

  /** Runs the whole ranking with the model's current weights; returns the top lists (users × k). */
  async run(): Promise<Uint32Array> {
    const enc = this.gpu.device.createCommandEncoder({ label: 'ncfrank' });
    encodeDispatches(enc, this.records, 'ncfrank');
    this.gpu.device.queue.submit([enc.finish()]);
    const all = await this.outIdx.read();
    this.gpu.check();
    return all.subarray(0, this.users.length * TOP_K);
  }

  dispose(): void {
    destroyDispatches(this.records);
    this.records = [];
    for (const t of this.owned) t.dispose();
    this.seed?.destroy();
  }
}

/** Metrics of the model's current weights for `target` over `users` (one GPU ranking). */
export async function rankNcf(gpu: Gpu, m: NcfModel, users: Uint32Array, target: Target): Promise<Metrics> {
  const r = await NcfRanker.create(gpu, m.split, m, users, target);
  try {
    return scoreLists(m.split, users, await r.run(), target);
  } finally {
    r.dispose();
  }
}
