// The protocol's metrics: HR@10 and NDCG@10 by full ranking over every item the user has not
// interacted with (training items excluded; for the test item the validation item too).
//   GpuRanker: per chunk of R users, gather U rows (rec:dae: the mean of U over the user's known
//               items, by multi_hot + matmul) → S = Ue·Vᵀ + b (matmul) → rank-topk; every
//               chunk records into one encoder, the (users × k) top lists are read back once.
//   popularityRanking: the baseline, items by training count (ties lower index), on the CPU.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, Tensor } from '../gpu/tensor.js';
import { matmul } from '../kernels/matmul.js';
import { rankTopk } from '../kernels/rank-topk.js';
import { createSeedBuffer, recGatherRows, recMultiHot } from '../kernels/rec-softmax.js';
import type { RecKind } from './mf.js';
import { hitAndNdcg } from '../reference/rank-topk.js';
import { shuffledIndices } from '../data/random.js';
import type { RecSplit } from '../data/rec-split.js';

export const TOP_K = 10;

export interface Metrics {
  hr: number;
  ndcg: number;
  users: number;
}

export type Target = 'valid' | 'test';

/** The evaluated users: every user with a target, or a seeded sample of `most` of them. */
export function evalUsers(split: RecSplit, most?: number, seed = 0): Uint32Array {
  const all: number[] = [];
  for (let u = 0; u < split.nUsers; u++) if (split.test[u]! >= 0) all.push(u);
  if (most === undefined || most >= all.length) return Uint32Array.from(all);
  const p = shuffledIndices(all.length, seed, 0xe7a1);
  return Uint32Array.from(p.subarray(0, most), (i) => all[i]!).sort();
}

/** Per user: the items not to recommend (training, plus validation when the target is test). */
export function exclusionCsr(split: RecSplit, target: Target): { rowptr: Uint32Array; cols: Uint32Array } {
  const extra = target === 'test';
  const rowptr = new Uint32Array(split.nUsers + 1);
  for (let u = 0; u < split.nUsers; u++) {
    rowptr[u + 1] = rowptr[u]! + (split.trainPtr[u + 1]! - split.trainPtr[u]!) + (extra && split.valid[u]! >= 0 ? 1 : 0);
  }
  const cols = new Uint32Array(Math.max(1, rowptr[split.nUsers]!));
  for (let u = 0; u < split.nUsers; u++) {
    let o = rowptr[u]!;
    for (let j = split.trainPtr[u]!; j < split.trainPtr[u + 1]!; j++) cols[o++] = split.trainItems[j]!;
    if (extra && split.valid[u]! >= 0) cols[o++] = split.valid[u]!;
  }
  return { rowptr, cols };
}

/** HR@k / NDCG@k of top lists (users.length × k) against the split's targets. */
export function scoreLists(split: RecSplit, users: ArrayLike<number>, top: Uint32Array, target: Target, k = TOP_K): Metrics {
  const tgt = target === 'test' ? split.test : split.valid;
  let hr = 0,
    ndcg = 0;
  for (let r = 0; r < users.length; r++) {
    const m = hitAndNdcg(top.subarray(r * k, (r + 1) * k), tgt[users[r]!]!);
    hr += m.hit;
    ndcg += m.ndcg;
  }
  return { hr: hr / users.length, ndcg: ndcg / users.length, users: users.length };
}

/** The popularity baseline's top lists (CPU). */
export function popularityLists(split: RecSplit, users: ArrayLike<number>, target: Target, k = TOP_K): Uint32Array {
  const order = Array.from({ length: split.nItems }, (_, i) => i).sort((a, b) => split.popularity[b]! - split.popularity[a]! || a - b);
  const { rowptr, cols } = exclusionCsr(split, target);
  const out = new Uint32Array(users.length * k).fill(0xffffffff);
  for (let r = 0; r < users.length; r++) {
    const u = users[r]!;
    const ex = new Set(cols.subarray(rowptr[u]!, rowptr[u + 1]!));
    let s = 0;
    for (let j = 0; j < order.length && s < k; j++) if (!ex.has(order[j]!)) out[r * k + s++] = order[j]!;
  }
  return out;
}

export interface Tables {
  U: Tensor;
  V: Tensor;
  b: Tensor;
  /** 'dae': a user's row is the mean of U over its known items (train, + validation for the test). */
  kind?: RecKind;
}

/** Evaluates scores U·Vᵀ + b on the GPU for `users`; returns the top lists (users.length × k). */
export class GpuRanker {
  private records: Dispatch[] = [];
  private readonly owned: Tensor[] = [];
  private seed?: GPUBuffer;
  private readonly outIdx: Tensor<'u32'>;
  readonly users: Uint32Array;

  private constructor(
    readonly gpu: Gpu,
    users: Uint32Array,
    readonly chunk: number,
  ) {
    this.users = users;
    this.outIdx = this.own(createTensor(gpu, [Math.ceil(users.length / chunk) * chunk * TOP_K], undefined, { dtype: 'u32', label: 'rank.idx' }));
  }

  private own<T extends Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  static async create(gpu: Gpu, split: RecSplit, t: Tables, users: Uint32Array, target: Target, chunk = 256): Promise<GpuRanker> {
    const r = new GpuRanker(gpu, users, chunk);
    const nChunks = Math.ceil(users.length / chunk);
    const rows = new Uint32Array(nChunks * chunk).fill(split.nUsers);
    rows.set(users);
    const D = t.U.shape[1]!;
    const { rowptr, cols } = exclusionCsr(split, target);
    const tRows = r.own(createTensor(gpu, [rows.length], rows, { dtype: 'u32', label: 'rank.rows' }));
    const tPtr = r.own(createTensor(gpu, [rowptr.length], rowptr, { dtype: 'u32', label: 'rank.rowptr' }));
    const tCols = r.own(createTensor(gpu, [cols.length], cols, { dtype: 'u32', label: 'rank.cols' }));
    const outVal = r.own(createTensor(gpu, [rows.length * TOP_K], undefined, { label: 'rank.val' }));
    const Ue = r.own(createTensor(gpu, [chunk, D], undefined, { label: 'rank.Ue' }));
    const S = r.own(createTensor(gpu, [chunk, split.nItems], undefined, { label: 'rank.S' }));
    const dae = t.kind === 'dae';
    const A = dae ? r.own(createTensor(gpu, [chunk, split.nItems], undefined, { label: 'rank.A' })) : undefined;
    if (dae) r.seed = createSeedBuffer(gpu, 'rank.seed');
    for (let c = 0; c < nChunks; c++) {
      const input = A
        ? [
            ...(await recMultiHot(gpu, { perm: tRows, rowptr: tPtr, items: tCols, out: A, seed: r.seed!, base: c * chunk })),
            ...(await matmul(gpu, A, t.U, Ue)),
          ]
        : await recGatherRows(gpu, { table: t.U, perm: tRows, out: Ue, base: c * chunk });
      r.records.push(
        ...input,
        ...(await matmul(gpu, Ue, t.V, S, { transposeB: true, bias: t.b })),
        ...(await rankTopk(gpu, { scores: S, rows: tRows, rowptr: tPtr, cols: tCols, outIdx: r.outIdx, outVal, k: TOP_K, base: c * chunk })),
      );
    }
    return r;
  }

  /** Runs the whole ranking (current weights) and returns the top lists. */
  async run(): Promise<Uint32Array> {
    const enc = this.gpu.device.createCommandEncoder({ label: 'rank' });
    encodeDispatches(enc, this.records, 'rank');
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
