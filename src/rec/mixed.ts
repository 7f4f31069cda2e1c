// Per-frequency mixed dimensions of a recommender's tables (Ginart et al. 2019, "Mixed dimension
// embeddings", here without the per-bucket projection): the rows are ranked by how often they are
// seen in training (items: their training count; mf's users: their training items), the most
// frequent share of rows keeps all D columns, the next share fewer, …; a row of bucket k keeps its
// first d_k columns and the others are 0. Without a projection every bucket lives in the first
// d_k coordinates of the same D-dimensional space, so the score U[u]·V[i] needs no change, and the
// mask is one more pruning mask: masked fine-tuning adapts the model, k-means shares the kept values,
// and the file stores the row lengths (the `prefix` index of docs/format.md) instead of positions.
//   --mixed-dims 'D0:F0,D1:F1,…,DL': the top F0 of the rows keep D0 columns, the next F1 keep D1, …,
//   the rest keep DL (dims non-increasing, D ≥ D0, DL ≥ 0: 0 prunes the rare rows whole).
export class MixedDimsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MixedDimsError';
  }
}

export interface MixedDims {
  /** Columns per bucket, most frequent first, non-increasing. */
  dims: number[];
  /** Fraction of the rows in each bucket but the last (the last takes the rest). */
  shares: number[];
}

/** Parses `D0:F0,D1:F1,…,DL` against the model's D (named errors for everything else). */
export function parseMixedDims(text: string, D: number): MixedDims {
  const parts = text.split(',').map((p) => p.trim());
  const dims: number[] = [],
    shares: number[] = [];
  const bad = (why: string) =>
    new MixedDimsError(`--mixed-dims '${text}': ${why} (expected D0:F0,D1:F1,…,DL, e.g. ${D}:0.1,${D >> 1}:0.3,${D >> 3})`);
  parts.forEach((p, k) => {
    const last = k === parts.length - 1;
    const m = last ? /^(\d+)$/.exec(p) : /^(\d+):(0?\.\d+|0|1(?:\.0*)?)$/.exec(p);
    if (!m) throw bad(last ? `the last bucket '${p}' must be a column count alone` : `bucket '${p}' is not DIM:FRACTION`);
    const d = Number(m[1]);
    if (d > D) throw bad(`bucket ${k} keeps ${d} columns, the model has ${D}`);
    if (k > 0 && d > dims[k - 1]!) throw bad(`the column counts must not increase (${dims[k - 1]} then ${d})`);
    dims.push(d);
    if (!last) {
      const f = Number(m[2]);
      if (!(f > 0 && f <= 1)) throw bad(`bucket ${k}'s fraction ${m[2]} is not in (0, 1]`);
      shares.push(f);
    }
  });
  if (parts.length < 2) throw bad('at least two buckets are needed');
  const sum = shares.reduce((a, b) => a + b, 0);
  if (sum > 1 + 1e-9) throw bad(`the fractions add up to ${sum.toFixed(3)} > 1`);
  return { dims, shares };
}

export const formatMixedDims = (m: MixedDims) => m.dims.map((d, k) => (k < m.shares.length ? `${d}:${m.shares[k]}` : String(d))).join(',');

/** Each row's column count: rows ranked by count (descending, ties: lower row first) fill the buckets in order. */
export function rowDims(counts: ArrayLike<number>, m: MixedDims): Uint16Array {
  const n = counts.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => counts[b]! - counts[a]! || a - b);
  const out = new Uint16Array(n);
  let at = 0,
    acc = 0;
  m.dims.forEach((d, k) => {
    const end = k < m.shares.length ? Math.min(n, Math.round((acc += m.shares[k]!) * n)) : n;
    for (; at < end; at++) out[order[at]!] = d;
  });
  return out;
}

/** The 0/1 mask of a rows × D table whose row r keeps its first dims[r] columns. */
export function prefixMask(dims: ArrayLike<number>, D: number): Float32Array {
  const m = new Float32Array(dims.length * D);
  for (let r = 0; r < dims.length; r++) m.fill(1, r * D, r * D + dims[r]!);
  return m;
}

/** Training counts per row of U (dae: items; mf: users) and of V (items). */
export function rowCounts(split: { popularity: Uint32Array; trainPtr: ArrayLike<number>; nUsers: number }, kind: 'mf' | 'dae') {
  const users = new Uint32Array(split.nUsers);
  for (let u = 0; u < split.nUsers; u++) users[u] = split.trainPtr[u + 1]! - split.trainPtr[u]!;
  return { U: kind === 'dae' ? split.popularity : users, V: split.popularity };
}
