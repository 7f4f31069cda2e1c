// (user, item) pair kernels of the BPR loss and the NCF tower   (shaders/rec-pairs.wgsl)
//   recPairSample:  pitems (2·R·K) = K seeded (positive, negative) pairs per row's user
//   recBpr:         scores (2·R·K) of those pairs → ds (2·R·K), loss (≥ base + R)
//   recBprDense:    the same pairs sampled and read from a dense (R, N) score matrix → dense ds
//   recPairRelu:    out (M, C) = relu(rows[row(m)] + table[item(m)])
//   recPairGmf:     out (M, C) = rows[row(m)] ⊙ table[item(m)]
//   recPairMul:     out (M, C) = x (M, C) ⊙ rows[row(m)]
//   recPairScore:   out (M) = g (M, C)·hg (C) + a (M, J)·hm (J) + bias[item(m)]
//   recPairScore1:  out (R·N) = the score of every (row, item) of a one-layer tower, fused (ranking)
//   recSegmentSum:  out (R, C) (+)= Σ over each row's `per` consecutive pairs of x (⊙ table[item])
// row(m) = m / per and item(m) = pitems[m]; per = 0: dense pairs, row m / N, item m % N.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, fail, finite } from './args.js';

export const REC_PAIRS_WG = 64;

interface Dims {
  R?: number;
  M?: number;
  N?: number;
  C?: number;
  per?: number;
  base?: number;
  U?: number;
  K?: number;
  J?: number;
  flags?: number;
  scale?: number;
}

type Bind = Tensor | GPUBuffer | undefined;
/** Binding slots of the shader: [p, x, y, z, w, bias, pitems, perm, rowptr, items, out, loss, seed]. */
interface Binds {
  x?: Bind;
  y?: Bind;
  z?: Bind;
  w?: Bind;
  bias?: Bind;
  pitems?: Bind;
  perm?: Bind;
  rowptr?: Bind;
  items?: Bind;
  out?: Bind;
  loss?: Bind;
  seed?: Bind;
  vg?: Bind;
  vm?: Bind;
}

async function record(gpu: Gpu, entry: string, d: Dims, b: Binds, groups: number, tag: string): Promise<Dispatch[]> {
  const pipeline = await pipelines(gpu).get('rec-pairs', { WG: REC_PAIRS_WG }, entry);
  const u = uniformParams(gpu, `recPairs.${entry}.params`, [
    ['u32', d.R ?? 0],
    ['u32', d.M ?? 0],
    ['u32', d.N ?? 0],
    ['u32', d.C ?? 0],
    ['u32', d.per ?? 0],
    ['u32', d.base ?? 0],
    ['u32', d.U ?? 0],
    ['u32', d.K ?? 0],
    ['u32', d.J ?? 0],
    ['u32', d.flags ?? 0],
    ['f32', d.scale ?? 0],
    ['u32', 0],
  ]);
  const label = `recPairs.${entry} ${tag}`;
  const binds = [u, b.x, b.y, b.z, b.w, b.bias, b.pitems, b.perm, b.rowptr, b.items, b.out, b.loss, b.seed, b.vg, b.vm];
  return [{ label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, binds), workgroups: grid(gpu, Math.max(1, groups)), owned: [u] }];
}

const groupsOf = (n: number) => Math.ceil(n / REC_PAIRS_WG);

function checkBase(op: string, base: number, perm: Tensor, R: number, rowptr?: Tensor): void {
  if (!Number.isInteger(base) || base < 0) fail(op, `base must be a non-negative integer, got ${base}`);
  if (perm.size < base + R) fail(op, `perm must hold base + R = ${base + R} user ids, got ${perm.size}`);
  if (rowptr && rowptr.size < 2) fail(op, `rowptr must hold U + 1 ≥ 2 offsets, got ${rowptr.size}`);
}

function checkSeed(op: string, seed: GPUBuffer): void {
  if (!seed || typeof (seed as GPUBuffer).size !== 'number' || seed.size < 16) fail(op, 'seed must be a 16-byte uniform buffer (createSeedBuffer)');
}

export interface PairSampleArgs {
  perm: Tensor;
  rowptr: Tensor;
  items: Tensor;
  /** (2·R·K) u32, written. */
  pitems: Tensor;
  seed: GPUBuffer;
  /** Rows (users) of the batch. */
  R: number;
  /** Pairs per row. */
  K: number;
  /** Items. */
  N: number;
  base?: number;
  /** 'uniform' (default) or 'popular': negatives drawn from the log's interactions (∝ popularity). */
  negatives?: Negatives;
}

export type Negatives = 'uniform' | 'popular';

function negativesFlag(op: string, n: Negatives | undefined): number {
  if (n !== undefined && n !== 'uniform' && n !== 'popular') fail(op, `negatives must be 'uniform' or 'popular', got '${n as string}'`);
  return n === 'popular' ? 4 : 0;
}

/** One dispatch: K (positive, negative) pairs per row (see the shader). */
export async function recPairSample(gpu: Gpu, a: PairSampleArgs): Promise<Dispatch[]> {
  const op = 'recPairSample';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { perm, rowptr, items, pitems, seed, R, K, N, base? }');
  checkArgs(op, {
    perm: { t: a.perm, dtype: 'u32' },
    rowptr: { t: a.rowptr, dtype: 'u32' },
    items: { t: a.items, dtype: 'u32' },
    pitems: { t: a.pitems, dtype: 'u32', out: true },
  });
  for (const [n, v] of [
    ['R', a.R],
    ['K', a.K],
    ['N', a.N],
  ] as const)
    if (!Number.isInteger(v) || v < 1) fail(op, `${n} must be a positive integer, got ${v}`);
  const base = a.base ?? 0;
  checkBase(op, base, a.perm, a.R, a.rowptr);
  if (a.pitems.size < 2 * a.R * a.K) fail(op, `pitems must hold 2·R·K = ${2 * a.R * a.K} items, got ${a.pitems.size}`);
  checkSeed(op, a.seed);
  const d = { R: a.R, K: a.K, N: a.N, base, U: a.rowptr.size - 1, flags: negativesFlag(op, a.negatives) };
  const b = { perm: a.perm, rowptr: a.rowptr, items: a.items, pitems: a.pitems, seed: a.seed };
  return record(gpu, 'sample', d, b, groupsOf(a.R * a.K), `${a.R}x${a.K} N=${a.N} base=${base}`);
}

export interface BprArgs {
  /** (2·R·K) pair scores, (positive, negative) interleaved. */
  scores: Tensor;
  pitems: Tensor;
  ds: Tensor;
  loss: Tensor;
  R: number;
  K: number;
  N: number;
  base?: number;
  /** Gradient scale (default 1/R). */
  scale?: number;
}

/** One dispatch: BPR loss and score gradient of the sampled pairs. */
export async function recBpr(gpu: Gpu, a: BprArgs): Promise<Dispatch[]> {
  const op = 'recBpr';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { scores, pitems, ds, loss, R, K, N, base?, scale? }');
  checkArgs(op, {
    scores: { t: a.scores, dtype: 'f32' },
    pitems: { t: a.pitems, dtype: 'u32' },
    ds: { t: a.ds, dtype: 'f32', out: true },
    loss: { t: a.loss, dtype: 'f32', out: true },
  });
  const M = 2 * a.R * a.K,
    base = a.base ?? 0,
    scale = a.scale ?? 1 / a.R;
  finite(op, 'scale', scale);
  if (!Number.isInteger(a.R) || a.R < 1 || !Number.isInteger(a.K) || a.K < 1) fail(op, `R and K must be positive integers, got ${a.R}, ${a.K}`);
  for (const [n, t] of [
    ['scores', a.scores],
    ['pitems', a.pitems],
    ['ds', a.ds],
  ] as const)
    if (t.size < M) fail(op, `${n} must hold 2·R·K = ${M} values, got ${t.size}`);
  if (a.loss.size < base + a.R) fail(op, `loss must hold base + R = ${base + a.R} values, got ${a.loss.size}`);
  const d = { R: a.R, K: a.K, N: a.N, base, scale };
  return record(gpu, 'bpr', d, { x: a.scores, pitems: a.pitems, out: a.ds, loss: a.loss }, groupsOf(a.R), `${a.R}x${a.K} base=${base}`);
}

export interface BprDenseArgs {
  /** (R, N) scores. */
  scores: Tensor;
  perm: Tensor;
  rowptr: Tensor;
  items: Tensor;
  /** (R, N), written: 0 except at the sampled items. */
  ds: Tensor;
  loss: Tensor;
  seed: GPUBuffer;
  K: number;
  base?: number;
  scale?: number;
  negatives?: Negatives;
}

/** One dispatch: BPR over a dense score matrix (rec:mf / rec:dae with --loss bpr). */
export async function recBprDense(gpu: Gpu, a: BprDenseArgs): Promise<Dispatch[]> {
  const op = 'recBprDense';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { scores, perm, rowptr, items, ds, loss, seed, K, base?, scale? }');
  checkArgs(op, {
    scores: { t: a.scores, rank: 2, what: '(R, N)', dtype: 'f32' },
    perm: { t: a.perm, dtype: 'u32' },
    rowptr: { t: a.rowptr, dtype: 'u32' },
    items: { t: a.items, dtype: 'u32' },
    ds: { t: a.ds, dtype: 'f32', shape: a.scores?.shape, what: '(R, N) like scores', out: true },
    loss: { t: a.loss, dtype: 'f32', out: true },
  });
  const [R, N] = a.scores.shape as [number, number];
  const base = a.base ?? 0,
    scale = a.scale ?? 1 / R;
  finite(op, 'scale', scale);
  if (!Number.isInteger(a.K) || a.K < 1) fail(op, `K must be a positive integer, got ${a.K}`);
  checkBase(op, base, a.perm, R, a.rowptr);
  if (a.loss.size < base + R) fail(op, `loss must hold base + R = ${base + R} values, got ${a.loss.size}`);
  checkSeed(op, a.seed);
  const d = { R, N, K: a.K, base, scale, U: a.rowptr.size - 1, flags: negativesFlag(op, a.negatives) };
  const b = { x: a.scores, perm: a.perm, rowptr: a.rowptr, items: a.items, out: a.ds, loss: a.loss, seed: a.seed };
  return record(gpu, 'bpr_dense', d, b, R, `${R}x${N} K=${a.K} base=${base}`);
}

export interface PairArgs {
  /** (rows, C): one row per batch row. */
  rows: Tensor;
  /** (N, C): one row per item (recPairRelu, recPairGmf). */
  table: Tensor;
  /** (M) u32 items of the pairs (ignored but bound with per = 0: any u32 tensor not written elsewhere). */
  pitems: Tensor;
  /** (M, C), written. */
  out: Tensor;
  /** Pairs per row; 0: dense (M = rows·N). */
  per: number;
}

function pairDims(op: string, a: PairArgs, N: number): { M: number; C: number } {
  checkArgs(op, {
    rows: { t: a.rows, rank: 2, dtype: 'f32', what: '(R, C)' },
    pitems: { t: a.pitems, dtype: 'u32' },
    out: { t: a.out, rank: 2, dtype: 'f32', what: '(M, C)', out: true },
  });
  const [R, C] = a.rows.shape as [number, number];
  const M = a.out.shape[0]!;
  if (a.out.shape[1] !== C) fail(op, `out must have ${C} columns like rows, got shape [${a.out.shape}]`);
  if (!Number.isInteger(a.per) || a.per < 0) fail(op, `per must be a non-negative integer, got ${a.per}`);
  if (a.per === 0 && M > R * N) fail(op, `dense pairs (per = 0): out has ${M} rows, more than rows × N = ${R * N}`);
  if (a.per > 0 && (M > R * a.per || a.pitems.size < M)) fail(op, `${M} pairs need rows·per ≥ M (${R}·${a.per}) and pitems ≥ M (${a.pitems.size})`);
  return { M, C };
}

async function pairTable(op: string, entry: string, gpu: Gpu, a: PairArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { rows, table, pitems, out, per }');
  checkArgs(op, { table: { t: a.table, rank: 2, dtype: 'f32', what: '(N, C)' } });
  const N = a.table.shape[0]!;
  const { M, C } = pairDims(op, a, N);
  if (a.table.shape[1] !== C) fail(op, `table must have ${C} columns like rows, got shape [${a.table.shape}]`);
  const b = { x: a.rows, y: a.table, pitems: a.pitems, out: a.out };
  return record(gpu, entry, { M, N, C, per: a.per }, b, groupsOf(M * C), `${M}x${C} N=${N} per=${a.per}`);
}

/** One dispatch: out = relu(rows[row] + table[item]) per pair (NeuMF's first MLP layer). */
export function recPairRelu(gpu: Gpu, a: PairArgs): Promise<Dispatch[]> {
  return pairTable('recPairRelu', 'pair_relu', gpu, a);
}

/** One dispatch: out = rows[row] ⊙ table[item] per pair (NeuMF's GMF branch). */
export function recPairGmf(gpu: Gpu, a: PairArgs): Promise<Dispatch[]> {
  return pairTable('recPairGmf', 'pair_gmf', gpu, a);
}

/** One dispatch: out = x ⊙ rows[row] per pair (the GMF gradient of the item side). */
export async function recPairMul(gpu: Gpu, a: { x: Tensor; rows: Tensor; pitems: Tensor; out: Tensor; per: number; N: number }): Promise<Dispatch[]> {
  const op = 'recPairMul';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { x, rows, pitems, out, per, N }');
  const { M, C } = pairDims(op, { ...a, table: a.rows }, a.N);
  checkArgs(op, { x: { t: a.x, dtype: 'f32', shape: [M, C], what: '(M, C) like out' } });
  const b = { x: a.x, y: a.rows, pitems: a.pitems, out: a.out };
  return record(gpu, 'pair_mul', { M, N: a.N, C, per: a.per }, b, groupsOf(M * C), `${M}x${C} per=${a.per}`);
}

export interface PairScoreArgs {
  /** (M, C): the GMF products. */
  g: Tensor;
  /** (C) GMF weights. */
  hg: Tensor;
  /** (M, J): the MLP's last hidden layer. */
  a: Tensor;
  /** (J) MLP weights. */
  hm: Tensor;
  /** (N) item bias. */
  bias: Tensor;
  pitems: Tensor;
  /** (M) written (0 for a padding pair). */
  out: Tensor;
  per: number;
}

/** One dispatch: the NeuMF score of each pair. */
export async function recPairScore(gpu: Gpu, s: PairScoreArgs): Promise<Dispatch[]> {
  const op = 'recPairScore';
  if (!s || typeof s !== 'object') fail(op, 'args must be an object { g, hg, a, hm, bias, pitems, out, per }');
  checkArgs(op, {
    g: { t: s.g, rank: 2, dtype: 'f32', what: '(M, C)' },
    a: { t: s.a, rank: 2, dtype: 'f32', what: '(M, J)' },
    bias: { t: s.bias, dtype: 'f32' },
    pitems: { t: s.pitems, dtype: 'u32' },
    out: { t: s.out, dtype: 'f32', out: true },
  });
  const [M, C] = s.g.shape as [number, number];
  const J = s.a.shape[1]!,
    N = s.bias.size;
  if (s.a.shape[0] !== M) fail(op, `a must have ${M} rows like g, got shape [${s.a.shape}]`);
  checkArgs(op, { hg: { t: s.hg, dtype: 'f32' }, hm: { t: s.hm, dtype: 'f32' } });
  if (s.hg.size !== C || s.hm.size !== J) fail(op, `hg must hold C = ${C} and hm J = ${J} values, got ${s.hg.size} and ${s.hm.size}`);
  if (s.out.size < M) fail(op, `out must hold M = ${M} values, got ${s.out.size}`);
  if (!Number.isInteger(s.per) || s.per < 0) fail(op, `per must be a non-negative integer, got ${s.per}`);
  if (s.per > 0 && s.pitems.size < M) fail(op, `pitems must hold M = ${M} items, got ${s.pitems.size}`);
  const b = { x: s.g, y: s.hg, z: s.a, w: s.hm, bias: s.bias, pitems: s.pitems, out: s.out };
  return record(gpu, 'pair_score', { M, N, C, J, per: s.per }, b, groupsOf(M), `${M} C=${C} J=${J} N=${N}`);
}

export interface PairScore1Args {
  /** (R, C) users' vectors. */
  ue: Tensor;
  /** (N, C) items' vectors. */
  v: Tensor;
  /** (R, J) = Ue·W1u + c1. */
  p: Tensor;
  /** (N, J) = V·W1v. */
  q: Tensor;
  hg: Tensor;
  hm: Tensor;
  bias: Tensor;
  /** (R, N) scores, written. */
  out: Tensor;
}

/** One dispatch: the dense scores of rec:ncf-D-H (one hidden layer) without materialising the hidden layer. */
export async function recPairScore1(gpu: Gpu, a: PairScore1Args): Promise<Dispatch[]> {
  const op = 'recPairScore1';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { ue, v, p, q, hg, hm, bias, out }');
  checkArgs(op, {
    ue: { t: a.ue, rank: 2, dtype: 'f32', what: '(R, C)' },
    v: { t: a.v, rank: 2, dtype: 'f32', what: '(N, C)' },
    p: { t: a.p, rank: 2, dtype: 'f32', what: '(R, J)' },
    q: { t: a.q, rank: 2, dtype: 'f32', what: '(N, J)' },
    hg: { t: a.hg, dtype: 'f32' },
    hm: { t: a.hm, dtype: 'f32' },
    bias: { t: a.bias, dtype: 'f32' },
    out: { t: a.out, rank: 2, dtype: 'f32', what: '(R, N)', out: true },
  });
  const [R, C] = a.ue.shape as [number, number];
  const [N, J] = a.q.shape as [number, number];
  const same = (x: Tensor, s: number[]) => x.shape[0] === s[0] && x.shape[1] === s[1];
  if (!same(a.v, [N, C]) || !same(a.p, [R, J]) || !same(a.out, [R, N]))
    fail(
      op,
      `shapes disagree: ue [${a.ue.shape}], v [${a.v.shape}], p [${a.p.shape}], q [${a.q.shape}], out [${a.out.shape}] (want v (N, C), p (R, J), out (R, N))`,
    );
  if (a.hg.size !== C || a.hm.size !== J || a.bias.size !== N)
    fail(op, `hg, hm, bias must hold C = ${C}, J = ${J}, N = ${N} values, got ${a.hg.size}, ${a.hm.size}, ${a.bias.size}`);
  const b = { x: a.ue, y: a.v, z: a.p, w: a.q, bias: a.bias, vg: a.hg, vm: a.hm, out: a.out };
  return record(gpu, 'pair_score1', { M: R * N, N, C, J }, b, groupsOf(R * N), `${R}x${N} C=${C} J=${J}`);
}

export interface SegmentSumArgs {
  /** (R·per, C) pair rows. */
  x: Tensor;
  /** (R, C), written or accumulated into. */
  out: Tensor;
  per: number;
  /** (N, C): multiply each pair's row by table[item] first (needs pitems). */
  table?: Tensor;
  pitems: Tensor;
  accumulate?: boolean;
}

/** One dispatch: per row, the sum of its `per` consecutive pairs' rows (optionally ⊙ table[item]). */
export async function recSegmentSum(gpu: Gpu, a: SegmentSumArgs): Promise<Dispatch[]> {
  const op = 'recSegmentSum';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { x, out, per, table?, pitems, accumulate? }');
  checkArgs(op, {
    x: { t: a.x, rank: 2, dtype: 'f32', what: '(R·per, C)' },
    out: { t: a.out, rank: 2, dtype: 'f32', what: '(R, C)', out: true },
    table: { t: a.table, rank: 2, dtype: 'f32', what: '(N, C)', optional: true },
    pitems: { t: a.pitems, dtype: 'u32' },
  });
  const [R, C] = a.out.shape as [number, number];
  if (!Number.isInteger(a.per) || a.per < 1) fail(op, `per must be a positive integer, got ${a.per}`);
  if (a.x.shape[1] !== C || a.x.shape[0]! < R * a.per) fail(op, `x must be (≥ R·per = ${R * a.per}, ${C}), got [${a.x.shape}]`);
  if (a.table && a.table.shape[1] !== C) fail(op, `table must have ${C} columns, got shape [${a.table.shape}]`);
  if (a.table && a.pitems.size < R * a.per) fail(op, `pitems must hold R·per = ${R * a.per} items, got ${a.pitems.size}`);
  const N = a.table ? a.table.shape[0]! : 0;
  const flags = (a.table ? 1 : 0) | (a.accumulate ? 2 : 0);
  const b = { x: a.x, y: a.table ?? a.x, pitems: a.pitems, out: a.out };
  return record(gpu, 'segment_sum', { R, N, C, per: a.per, flags }, b, groupsOf(R * C), `${R}x${C} per=${a.per} flags=${flags}`);
}
