// The recommend page's model, without the DOM: a ratings text → log → leave-last-out split (the CLI's
// protocol, src/data/rec-split.ts), a rec:dae-D / rec:mf-D model trained epoch by epoch on the GPU
// (src/rec/mf.ts) with the validation HR/NDCG@10 after each epoch by full ranking (src/rec/eval.ts),
// the best epoch's tables kept; then the compression of the tables at a pruning % and a number of
// bits (src/rec/compress.ts: magnitude masks, optional masked fine-tuning, k-means on the GPU, the
// .slim.safetensors export decoded again), each followed by the test ranking. The top-10 lists of
// every evaluated user are kept for the dense and for the compressed tables (the user browser).
import type { Gpu } from '../src/gpu/device.js';
import { parseInteractionsCsv, parseMovieLens, type InteractionLog } from '../src/data/interactions.js';
import { filterLog, leaveLastOut, sortItems, type RecSplit } from '../src/data/rec-split.js';
import { evalUsers, GpuRanker, popularityLists, scoreLists, TOP_K, type Metrics, type Target } from '../src/rec/eval.js';
import { MfModel, type RecKind } from '../src/rec/mf.js';
import { exportTables, pruneMasks, shareTables, REC_COMPRESS_DEFAULTS, type TableSize } from '../src/rec/compress.js';

/** A ratings file as text: a CSV with a header naming user and item (rating, timestamp optional), or MovieLens u.data / ratings.dat / ratings.csv. */
export function parseRatings(text: string, name: string): InteractionLog {
  const first = text.split('\n', 8).find((l) => l.trim() !== '') ?? '';
  const movieLens = first.includes('::') || first.split('\t').length === 4 || /^\s*userId\s*,\s*movieId\s*,\s*rating/i.test(first);
  return movieLens ? parseMovieLens(text, name) : parseInteractionsCsv(text, name);
}

export interface TrainSettings {
  kind: RecKind;
  dim: number;
  epochs: number;
  /** Users per step (a multiple of 64). */
  batch: number;
  lr: number;
  seed: number;
}

export interface EpochResult {
  epoch: number;
  loss: number;
  valid: Metrics;
  seconds: number;
}

export interface CompressResult {
  sparsity: number;
  /** 0: no sharing (fp32 values). */
  bits: number;
  fineTuneEpochs: number;
  bytes: number;
  ratio: number;
  tables: TableSize[];
  test: Metrics;
  file: Uint8Array;
}

type CpuTables = { U: Float32Array; V: Float32Array; b: Float32Array };

export class RecSession {
  readonly split: RecSplit;
  readonly testUsers: Uint32Array;
  readonly popularity: { valid: Metrics; test: Metrics };
  /** Per evaluated user (testUsers order): the popularity, dense and compressed top-10 (test target). */
  popLists: Uint32Array;
  denseLists?: Uint32Array;
  compressedLists?: Uint32Array;
  model?: MfModel;
  dense?: { tables: CpuTables; test: Metrics; bytes: number; best: number };
  private testRanker?: GpuRanker;

  constructor(
    readonly gpu: Gpu,
    readonly log: InteractionLog,
    seed = 0,
  ) {
    this.log = sortItems(filterLog(log, {}));
    this.split = leaveLastOut(this.log, seed);
    this.testUsers = evalUsers(this.split);
    const valid = scoreLists(this.split, this.testUsers, popularityLists(this.split, this.testUsers, 'valid'), 'valid');
    this.popLists = popularityLists(this.split, this.testUsers, 'test');
    this.popularity = { valid, test: scoreLists(this.split, this.testUsers, this.popLists, 'test') };
  }

  private async rank(target: Target): Promise<{ lists: Uint32Array; metrics: Metrics }> {
    const m = this.model!;
    const ranker =
      target === 'test' && this.testRanker
        ? this.testRanker
        : await GpuRanker.create(this.gpu, this.split, { U: m.U, V: m.V, b: m.b, kind: m.kind }, this.testUsers, target);
    if (target === 'test') this.testRanker = ranker;
    try {
      const lists = (await ranker.run()).slice();
      return { lists, metrics: scoreLists(this.split, this.testUsers, lists, target) };
    } finally {
      if (target !== 'test') ranker.dispose();
    }
  }

  /** Trains from scratch; `onEpoch` sees each epoch (return false to stop early). The best validation epoch's tables are kept. */
  async train(s: TrainSettings, onEpoch: (r: EpochResult) => boolean | void): Promise<void> {
    this.disposeModel();
    const m = new MfModel(this.gpu, this.split, { dim: s.dim, batch: s.batch, lr: s.lr, seed: s.seed, kind: s.kind });
    this.model = m;
    await m.build();
    const ranker = await GpuRanker.create(this.gpu, this.split, { U: m.U, V: m.V, b: m.b, kind: m.kind }, this.testUsers, 'valid');
    let best: { e: number; ndcg: number; tables?: CpuTables } = { e: 0, ndcg: -1 };
    try {
      for (let e = 1; e <= s.epochs; e++) {
        const t0 = performance.now();
        const loss = await m.trainEpoch();
        const seconds = (performance.now() - t0) / 1000;
        const valid = scoreLists(this.split, this.testUsers, await ranker.run(), 'valid');
        if (valid.ndcg > best.ndcg) best = { e, ndcg: valid.ndcg, tables: await m.readTables() };
        if (onEpoch({ epoch: e, loss, valid, seconds }) === false) break;
      }
    } finally {
      ranker.dispose();
    }
    if (!best.tables) throw new Error('recommend page: no epoch was trained');
    m.writeTables(best.tables);
    const { lists, metrics } = await this.rank('test');
    this.denseLists = lists;
    this.compressedLists = undefined;
    this.dense = { tables: best.tables, test: metrics, bytes: 4 * (m.nU * m.D + m.nI * m.D + m.nI), best: best.e };
  }

  /** Compresses the dense tables (from scratch each call): prune `sparsity` of U and V, fine-tune, share at `bits` (0: no sharing), export, rank. */
  async compress(sparsity: number, bits: number, fineTuneEpochs: number): Promise<CompressResult> {
    const m = this.model,
      d = this.dense;
    if (!m || !d) throw new Error('recommend page: train a model first');
    m.writeTables(d.tables);
    m.resetOptimizer();
    const plan = { ...REC_COMPRESS_DEFAULTS, userSparsity: sparsity, itemSparsity: sparsity };
    const masks = pruneMasks(d.tables.U, d.tables.V, this.split.popularity, m.D, plan);
    m.writeTables({ U: d.tables.U.map((x, i) => x * masks.U[i]!), V: d.tables.V.map((x, i) => x * masks.V[i]!) });
    await m.setMask(masks);
    m.setLr(plan.fineTuneLr);
    for (let e = 0; e < fineTuneEpochs; e++) await m.trainEpoch();
    const b = bits > 0 ? { U: bits, V: bits } : undefined;
    if (b) await shareTables(this.gpu, m, b, plan.iterations, masks);
    const exported = await exportTables(m, masks, b);
    const { lists, metrics } = await this.rank('test');
    this.compressedLists = lists;
    return {
      sparsity,
      bits,
      fineTuneEpochs,
      bytes: exported.bytes.length,
      ratio: d.bytes / exported.bytes.length,
      tables: exported.tables,
      test: metrics,
      file: exported.bytes,
    };
  }

  /** Row of `user` in testUsers (−1: not evaluated). */
  row(user: number): number {
    let lo = 0,
      hi = this.testUsers.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1,
        v = this.testUsers[mid]!;
      if (v === user) return mid;
      if (v < user) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** A user's history (training items, then the validation item) and held-out test item, as names. */
  history(user: number): { train: string[]; valid?: string; test?: string } {
    const s = this.split,
      names = this.log.items;
    const train = Array.from(s.trainItems.subarray(s.trainPtr[user]!, s.trainPtr[user + 1]!), (i) => names[i]!);
    return {
      train,
      valid: s.valid[user]! >= 0 ? names[s.valid[user]!] : undefined,
      test: s.test[user]! >= 0 ? names[s.test[user]!] : undefined,
    };
  }

  /** The top-10 names of one list set for `user`. */
  top(lists: Uint32Array | undefined, user: number): string[] {
    const r = this.row(user);
    if (!lists || r < 0) return [];
    return Array.from(lists.subarray(r * TOP_K, (r + 1) * TOP_K), (i) => this.log.items[i] ?? '?');
  }

  private disposeModel(): void {
    this.testRanker?.dispose();
    this.testRanker = undefined;
    this.model?.dispose();
    this.model = undefined;
    this.dense = undefined;
  }

  dispose(): void {
    this.disposeModel();
  }
}
