// Deep Compression of a recommender's tables (U users × D, V items × D, b items):
//   1. prune: the whole rows of rare items (training count < rareItems) and, per table, the
//      smallest |w| down to the target sparsity (CPU masks); then fine-tune with the masks on the
//      GPU (AdamW keeps pruned entries at exactly 0);
//   2. share: k-means (cluster kernels, linear init, Lloyd iterations on the GPU) per table over the
//      kept entries, 2^bits values; the tables become codebook values;
//   3. export: the `.slim.safetensors` format as it is — MF is a two-layer linear network on a
//      one-hot user: `user` dense (nU → D, weight = U, bias 0) then `item` dense (D → nI,
//      weight = Vᵀ, bias = b) — with relative sparse indices and Huffman-coded codebook indices;
//      the file is decoded again and must give back exactly the evaluated tables.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { Tensor } from '../gpu/tensor.js';
import { clusterApply, clusterAssign, createClusterState, kmeansIteration } from '../kernels/cluster.js';
import { initLinear, type WeightSharing } from '../compress/sharing.js';
import type { ModelSpec } from '../nn/model.js';
import { compressedSizes, decodeCompressed, serializeCompressed } from '../io/format/index.js';
import type { Metrics } from './eval.js';
import type { MfModel, RecKind } from './mf.js';
import { prefixMask, rowDims, type MixedDims } from './mixed.js';

export interface RecCompressPlan {
  /** Fraction of U's entries pruned (by |w|). */
  userSparsity: number;
  /** Fraction of V's entries pruned, rare items' rows included. */
  itemSparsity: number;
  /** Items seen fewer times than this in training lose their whole row. */
  rareItems: number;
  userBits: number;
  itemBits: number;
  fineTuneEpochs: number;
  fineTuneLr: number;
  iterations: number;
  /** Per-frequency mixed dimensions (src/rec/mixed.ts); the sparsities then prune within the kept columns. */
  mixedDims?: MixedDims;
  /** Gradual pruning (the classifiers' polynomial schedule, src/nn/schedule.ts) over the first `rampEpochs` fine-tuning epochs instead of all at once. */
  gradual?: boolean;
  /** Gradual: epochs over which the sparsity rises to its target (default: all but the last fine-tuning epoch). */
  rampEpochs?: number;
  /** Rounds of one masked epoch (at fineTuneLr) then k-means again after the sharing, keeping the round with the best validation NDCG (0: none). */
  shareEpochs?: number;
}

export const REC_COMPRESS_DEFAULTS: RecCompressPlan = {
  userSparsity: 0.5,
  itemSparsity: 0.5,
  rareItems: 0,
  userBits: 4,
  itemBits: 4,
  fineTuneEpochs: 1,
  fineTuneLr: 0.002,
  iterations: 20,
};

export interface TableSize {
  table: string;
  params: number;
  kept: number;
  bits: number;
  bytes: number;
}

export interface StageRow {
  stage: string;
  tables: TableSize[];
  bytes: number;
  ratio: number;
  test: Metrics;
}

/** The tables as a two-layer linear network: `user` (mf: one-hot user → D) or `history` (dae: a user's normalised multi-hot items → D), then `item` (D → item scores). */
export function mfSpec(nU: number, nI: number, D: number, kind: RecKind = 'mf'): ModelSpec {
  return {
    name: `rec:${kind}-${D}`,
    input: [nU],
    layers: [
      { kind: 'dense', units: D, name: inputName(kind) },
      { kind: 'dense', units: nI, name: 'item' },
    ],
    loss: 'softmax-ce',
    task: 'classification',
  };
}

export const inputName = (kind: RecKind) => (kind === 'dae' ? 'history' : 'user');

/** (R, C) row-major → (C, R). */
export function transpose(a: Float32Array, R: number, C: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = a[r * C + c]!;
  return out;
}

/** 0/1 mask keeping the `keep` largest |a[i]| among the allowed positions (ties: lower index). */
export function magnitudeMask(a: Float32Array, keep: number, allowed?: (i: number) => boolean): Float32Array {
  const idx: number[] = [];
  for (let i = 0; i < a.length; i++) if (!allowed || allowed(i)) idx.push(i);
  idx.sort((x, y) => Math.abs(a[y]!) - Math.abs(a[x]!) || x - y);
  const m = new Float32Array(a.length);
  for (let j = 0; j < Math.min(keep, idx.length); j++) m[idx[j]!] = 1;
  return m;
}

/** The masks of stage 1 for the model's current tables (`counts`: the rows' training counts, for mixed dimensions; `sparsity`: in place of the plan's, e.g. a gradual step). */
export function pruneMasks(
  U: Float32Array,
  V: Float32Array,
  popularity: Uint32Array,
  D: number,
  plan: RecCompressPlan,
  counts?: { U: ArrayLike<number>; V: ArrayLike<number> },
  sparsity: { U: number; V: number } = { U: plan.userSparsity, V: plan.itemSparsity },
): { U: Float32Array; V: Float32Array } {
  const rare = (i: number) => popularity[Math.floor(i / D)]! >= plan.rareItems;
  if (!plan.mixedDims) {
    const mU = magnitudeMask(U, Math.round((1 - sparsity.U) * U.length));
    const mV = magnitudeMask(V, Math.round((1 - sparsity.V) * V.length), rare);
    return { U: mU, V: mV };
  }
  if (!counts) throw new Error("rec: pruneMasks with mixed dimensions needs the rows' training counts");
  const md = plan.mixedDims;
  const within = (vals: Float32Array, prefix: Float32Array, s: number) => {
    let kept = 0;
    for (const x of prefix) kept += x;
    return s > 0 ? magnitudeMask(vals, Math.round((1 - s) * kept), (i) => prefix[i] !== 0) : prefix;
  };
  const pV = prefixMask(rowDims(counts.V, md), D).map((x, i) => (rare(i) ? x : 0));
  return { U: within(U, prefixMask(rowDims(counts.U, md), D), sparsity.U), V: within(V, pV, sparsity.V) };
}

/** k-means sharing of the masked U and V on the GPU; the model's tables become codebook values. */
export async function shareTables(
  gpu: Gpu,
  m: MfModel,
  bits: { U: number; V: number },
  iterations: number,
  maskCpu: { U: Float32Array; V: Float32Array },
): Promise<void> {
  if (!m.mask) throw new Error('rec: shareTables needs the pruning mask (setMask) first');
  const { U, V } = await m.readTables();
  const jobs: Dispatch[][] = [];
  const states = [];
  for (const [name, vals, mk, off, b] of [
    ['U', U, maskCpu.U, m.offsets.U, bits.U],
    ['V', V, maskCpu.V, m.offsets.V, bits.V],
  ] as const) {
    const kept = vals.filter((_, i) => mk[i] !== 0);
    const K = 2 ** b;
    const state = createClusterState(gpu, vals.length, K, { centroids: initLinear(kept, K), label: `rec.share.${name}` });
    states.push(state);
    const w = new Tensor<'f32'>(gpu, m.w.buffer, [vals.length], 'f32', off * 4, false);
    const mt = new Tensor<'f32'>(gpu, m.mask.buffer, [vals.length], 'f32', off * 4, false);
    const iter = await kmeansIteration(gpu, w, mt, state);
    const fin = [
      ...(await clusterAssign(gpu, { w, mask: mt, centroids: state.centroids, assign: state.assign })),
      ...(await clusterApply(gpu, { w, mask: mt, assign: state.assign, centroids: state.centroids })),
    ];
    jobs.push(...Array.from({ length: iterations }, () => iter), fin);
  }
  try {
    const enc = gpu.device.createCommandEncoder({ label: 'rec.share' });
    for (const j of jobs) encodeDispatches(enc, j, 'rec.share');
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    gpu.check();
  } finally {
    for (const j of new Set(jobs)) destroyDispatches(j);
    for (const s of states) s.dispose();
  }
}

/** Codebook (distinct kept values, ascending) and each kept value's index, in position order. */
export function codebookOf(vals: Float32Array, mask: Float32Array, bits: number, name: string, param: string, shape: number[]) {
  const distinct = [...new Set(Array.from(vals).filter((_, i) => mask[i] !== 0))].sort((a, b) => a - b);
  if (distinct.length > 2 ** bits) throw new Error(`rec: table ${name} holds ${distinct.length} distinct kept values, more than 2^${bits}`);
  const at = new Map(distinct.map((v, i) => [v, i]));
  const assignments = new Uint8Array(vals.length);
  const counts = new Uint32Array(2 ** bits);
  let kept = 0;
  for (let i = 0; i < vals.length; i++)
    if (mask[i] !== 0) {
      const a = at.get(vals[i]!)!;
      assignments[kept++] = a;
      counts[a]!++;
    }
  const codebook = new Float32Array(2 ** bits);
  codebook.set(distinct);
  return { layer: name, param, shape, bits, codebook, assignments: assignments.subarray(0, kept), kept, params: vals.length, counts };
}

export interface ExportedTables {
  bytes: Uint8Array;
  tables: TableSize[];
}

/** Encodes the model's current tables (masked, optionally shared) as a .slim.safetensors file and checks its decode. */
export async function exportTables(
  m: MfModel,
  maskCpu?: { U: Float32Array; V: Float32Array },
  bits?: { U: number; V: number },
): Promise<ExportedTables> {
  const { nU, nI, D } = m;
  const { U, V, b } = await m.readTables();
  const Vt = transpose(V, nI, D);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const mU = maskCpu?.U ?? ones(U.length),
    mVt = maskCpu ? transpose(maskCpu.V, nI, D) : ones(V.length);
  const spec = mfSpec(nU, nI, D, m.kind);
  const inp = inputName(m.kind);
  const values = new Map([
    [`${inp}.weight`, U],
    [`${inp}.bias`, new Float32Array(D)],
    ['item.weight', Vt],
    ['item.bias', b],
  ]);
  const masks = new Map([
    [`${inp}.weight`, mU],
    ['item.weight', mVt],
  ]);
  let sharing: WeightSharing | undefined;
  if (bits) {
    sharing = {
      init: 'linear',
      iterations: 0,
      layers: {
        [inp]: codebookOf(U, mU, bits.U, inp, `${inp}.weight`, [nU, D]),
        item: codebookOf(Vt, mVt, bits.V, 'item', 'item.weight', [D, nI]),
      },
    };
  }
  const bytes = serializeCompressed({ spec, values, masks, sharing }, { prefixIndex: true });
  const dec = decodeCompressed(bytes);
  for (const [k, v] of values) {
    const got = dec.values.get(k)!;
    for (let i = 0; i < v.length; i++) {
      const want = masks.get(k) && masks.get(k)![i] === 0 ? 0 : v[i]!;
      if (got[i] !== want) throw new Error(`rec: the exported file decodes ${k}[${i}] to ${got[i]}, the evaluated table holds ${want}`);
    }
  }
  const sizes = compressedSizes(bytes);
  const per = new Map(sizes.layers.map((l) => [l.layer, l]));
  const u = per.get(inp)!,
    it = per.get('item')!;
  return {
    bytes,
    tables: [
      {
        table: m.kind === 'dae' ? 'U (item inputs)' : 'U (users)',
        params: u.params,
        kept: u.kept,
        bits: u.bits,
        bytes: u.indexBytes + u.valueBytes + u.codebookBytes,
      },
      { table: 'V (items)', params: it.params, kept: it.kept, bits: it.bits, bytes: it.indexBytes + it.valueBytes + it.codebookBytes },
      {
        table: 'b (item bias) + header',
        params: nI,
        kept: nI,
        bits: 32,
        bytes: sizes.fileBytes - (u.indexBytes + u.valueBytes + u.codebookBytes) - (it.indexBytes + it.valueBytes + it.codebookBytes),
      },
    ],
  };
}
