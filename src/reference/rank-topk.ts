// CPU reference for rankTopk (src/kernels/rank-topk.ts): per row, the k best items by score
// (descending, ties lower index first) among those not in the user's CSR exclusion list; NaN,
// −inf and excluded items never rank; empty entries are index 0xffffffff, value −FLT_MAX.
const NONE = 0xffffffff;
const NEG = -3.4028234663852886e38;

export function rankTopkCpu(
  scores: Float32Array,
  R: number,
  N: number,
  k: number,
  rows: ArrayLike<number>,
  rowptr: ArrayLike<number>,
  cols: ArrayLike<number>,
  base = 0,
): { idx: Uint32Array; val: Float32Array } {
  const U = rowptr.length - 1;
  const idx = new Uint32Array(R * k).fill(NONE),
    val = new Float32Array(R * k).fill(NEG);
  for (let r = 0; r < R; r++) {
    const u = rows[base + r]!;
    if (u >= U) continue;
    const ex = new Set<number>();
    for (let j = rowptr[u]!; j < rowptr[u + 1]!; j++) ex.add(cols[j]!);
    const cand: number[] = [];
    for (let j = 0; j < N; j++) {
      const v = scores[r * N + j]!;
      if (!ex.has(j) && v > NEG) cand.push(j); // false for NaN and −inf
    }
    cand.sort((a, b) => scores[r * N + b]! - scores[r * N + a]! || a - b);
    for (let s = 0; s < Math.min(k, cand.length); s++) {
      idx[r * k + s] = cand[s]!;
      val[r * k + s] = scores[r * N + cand[s]!]!;
    }
  }
  return { idx, val };
}

/** HR@k and NDCG@k of one user's top list against the held-out item (one relevant item). */
export function hitAndNdcg(top: ArrayLike<number>, target: number): { hit: number; ndcg: number } {
  for (let s = 0; s < top.length; s++) if (top[s] === target) return { hit: 1, ndcg: 1 / Math.log2(s + 2) };
  return { hit: 0, ndcg: 0 };
}
