// CPU reference for the rec-pairs kernels (src/kernels/rec-pairs.ts, shaders/rec-pairs.wgsl): the
// seeded (positive, negative) sampling — integer hashing, the bit-exact twin of the shader's — the
// BPR loss in float64, and the NCF pair ops. row(m) = m / per, item(m) = pitems[m]; per = 0: dense.
export function hash32(v: number): number {
  let h = v >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const draw = (seed: number, u: number, j: number) => hash32((hash32((seed ^ hash32(u)) >>> 0) ^ j) >>> 0);

/** The k-th (positive, negative) pair of user u whose training items are items[lo .. hi); popularOf (the
 *  log's interaction count): negatives drawn from the log's interactions (∝ popularity), not uniformly. */
export function pairOf(
  seed: number,
  u: number,
  k: number,
  lo: number,
  hi: number,
  items: ArrayLike<number>,
  N: number,
  popularOf?: number,
): [number, number] {
  const pos = items[lo + (draw(seed, u, 2 * k) % (hi - lo))]!;
  let neg = 0;
  for (let t = 0; t < 8; t++) {
    const h = draw(seed, u, ((2 * k + 1) ^ (t << 24)) >>> 0);
    neg = popularOf === undefined ? h % N : items[h % popularOf]!;
    let has = false;
    for (let j = lo; j < hi; j++) if (items[j] === neg) has = true;
    if (!has) break;
  }
  return [pos, neg];
}

export interface UserCsr {
  perm: ArrayLike<number>;
  rowptr: ArrayLike<number>;
  items: ArrayLike<number>;
}

export function recPairSampleCpu(c: UserCsr, seed: number, R: number, K: number, N: number, base = 0, popular = false): Uint32Array {
  const U = c.rowptr.length - 1;
  const out = new Uint32Array(2 * R * K).fill(N);
  for (let r = 0; r < R; r++) {
    const u = c.perm[base + r]!;
    if (u >= U || c.rowptr[u + 1]! <= c.rowptr[u]!) continue;
    for (let k = 0; k < K; k++) {
      const [p, n] = pairOf(seed, u, k, c.rowptr[u]!, c.rowptr[u + 1]!, c.items, N, popular ? c.rowptr[U]! : undefined);
      out[2 * (r * K + k)] = p;
      out[2 * (r * K + k) + 1] = n;
    }
  }
  return out;
}

const softplusNeg = (d: number) => Math.max(-d, 0) + Math.log1p(Math.exp(-Math.abs(d)));
const sigmoidNeg = (d: number) => 1 / (1 + Math.exp(d));

/** BPR over pair scores (positive, negative interleaved): per-row loss and ∂(scale·Σ loss)/∂s. */
export function recBprCpu(s: ArrayLike<number>, pitems: ArrayLike<number>, R: number, K: number, N: number, scale = 1 / R) {
  const ds = new Float64Array(2 * R * K),
    loss = new Float64Array(R);
  for (let r = 0; r < R; r++)
    for (let k = 0; k < K; k++) {
      const m = 2 * (r * K + k);
      if (pitems[m]! >= N || pitems[m + 1]! >= N) continue;
      const d = s[m]! - s[m + 1]!;
      loss[r] += softplusNeg(d) / K;
      ds[m] = (-scale * sigmoidNeg(d)) / K;
      ds[m + 1] = -ds[m]!;
    }
  return { ds, loss };
}

/** BPR over a dense (R, N) score matrix, the pairs sampled as recPairSampleCpu does. */
export function recBprDenseCpu(
  s: ArrayLike<number>,
  R: number,
  N: number,
  c: UserCsr,
  seed: number,
  K: number,
  base = 0,
  scale = 1 / R,
  popular = false,
) {
  const pitems = recPairSampleCpu(c, seed, R, K, N, base, popular);
  const ds = new Float64Array(R * N),
    loss = new Float64Array(R);
  const ps = Float64Array.from(pitems, (i, m) => (i < N ? s[Math.floor(m / (2 * K)) * N + i]! : 0));
  const b = recBprCpu(ps, pitems, R, K, N, scale);
  for (let m = 0; m < pitems.length; m++) if (pitems[m]! < N) ds[Math.floor(m / (2 * K)) * N + pitems[m]!] += b.ds[m]!;
  loss.set(b.loss);
  return { ds, loss };
}

const rowItem = (m: number, per: number, N: number, pitems: ArrayLike<number>): [number, number] =>
  per === 0 ? [Math.floor(m / N), m % N] : [Math.floor(m / per), pitems[m]!];

/** relu(rows[row] + table[item]) ('relu') or rows[row] ⊙ table[item] ('gmf') per pair, (M, C). */
export function recPairTableCpu(
  op: 'relu' | 'gmf',
  rows: ArrayLike<number>,
  table: ArrayLike<number>,
  N: number,
  C: number,
  pitems: ArrayLike<number>,
  M: number,
  per: number,
): Float64Array {
  const out = new Float64Array(M * C);
  for (let m = 0; m < M; m++) {
    const [r, i] = rowItem(m, per, N, pitems);
    for (let c = 0; c < C; c++) {
      const a = rows[r * C + c]!,
        b = i < N ? table[i * C + c]! : 0;
      out[m * C + c] = op === 'relu' ? Math.max(a + b, 0) : i < N ? a * b : 0;
    }
  }
  return out;
}

export function recPairMulCpu(
  x: ArrayLike<number>,
  rows: ArrayLike<number>,
  C: number,
  M: number,
  per: number,
  N: number,
  pitems: ArrayLike<number>,
) {
  const out = new Float64Array(M * C);
  for (let m = 0; m < M; m++) {
    const r = rowItem(m, per, N, pitems)[0];
    for (let c = 0; c < C; c++) out[m * C + c] = x[m * C + c]! * rows[r * C + c]!;
  }
  return out;
}

export function recPairScoreCpu(
  g: ArrayLike<number>,
  hg: ArrayLike<number>,
  a: ArrayLike<number>,
  hm: ArrayLike<number>,
  bias: ArrayLike<number>,
  pitems: ArrayLike<number>,
  M: number,
  per: number,
): Float64Array {
  const C = hg.length,
    J = hm.length,
    N = bias.length;
  const out = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    const i = rowItem(m, per, N, pitems)[1];
    if (i >= N) continue;
    let s = bias[i]!;
    for (let c = 0; c < C; c++) s += g[m * C + c]! * hg[c]!;
    for (let j = 0; j < J; j++) s += a[m * J + j]! * hm[j]!;
    out[m] = s;
  }
  return out;
}

export function recSegmentSumCpu(
  x: ArrayLike<number>,
  R: number,
  C: number,
  per: number,
  pitems: ArrayLike<number>,
  table?: { t: ArrayLike<number>; N: number },
  acc?: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(R * C);
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) {
      let s = acc ? acc[r * C + c]! : 0;
      for (let j = 0; j < per; j++) {
        const m = r * per + j;
        let v = x[m * C + c]!;
        if (table) v = pitems[m]! < table.N ? v * table.t[pitems[m]! * C + c]! : 0;
        s += v;
      }
      out[r * C + c] = s;
    }
  return out;
}

/** The fused one-layer score of every (row, item): Σ hg·ue⊙v + Σ hm·relu(p + q) + bias, (R·N). */
export function recPairScore1Cpu(
  ue: ArrayLike<number>,
  v: ArrayLike<number>,
  p: ArrayLike<number>,
  q: ArrayLike<number>,
  hg: ArrayLike<number>,
  hm: ArrayLike<number>,
  bias: ArrayLike<number>,
  R: number,
): Float64Array {
  const C = hg.length,
    J = hm.length,
    N = bias.length;
  const out = new Float64Array(R * N);
  for (let r = 0; r < R; r++)
    for (let i = 0; i < N; i++) {
      let s = bias[i]!;
      for (let c = 0; c < C; c++) s += hg[c]! * ue[r * C + c]! * v[i * C + c]!;
      for (let j = 0; j < J; j++) s += hm[j]! * Math.max(p[r * J + j]! + q[i * J + j]!, 0);
      out[r * N + i] = s;
    }
  return out;
}
