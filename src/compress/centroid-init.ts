// Centroid initialisation of weight sharing (compress/sharing.ts), on the CPU: linear (the default,
// as Deep Compression recommends), density (quantiles) or seeded k-means++.
import { Rng } from '../data/random.js';

/** K centroids evenly spaced over [min, max] of the kept weights (all 0 when none is kept). */
export function initLinear(kept: Float32Array, K: number): Float32Array {
  const out = new Float32Array(K);
  if (kept.length === 0) return out;
  let lo = Infinity,
    hi = -Infinity;
  for (const x of kept) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  for (let k = 0; k < K; k++) out[k] = K === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * k) / (K - 1);
  return out;
}

/** K centroids at the (k + ½)/K quantiles of the kept weights' distribution. */
export function initDensity(kept: Float32Array, K: number): Float32Array {
  const out = new Float32Array(K);
  const m = kept.length;
  if (m === 0) return out;
  const sorted = Float32Array.from(kept).sort();
  for (let k = 0; k < K; k++) out[k] = sorted[Math.min(m - 1, Math.floor(((k + 0.5) * m) / K))]!;
  return out;
}

/** k-means++: the first centroid uniformly, each next one with probability ∝ D² (seeded); sorted. */
export function initKmeansPP(kept: Float32Array, K: number, seed: number): Float32Array {
  const out = new Float32Array(K);
  const m = kept.length;
  if (m === 0) return out;
  const rng = new Rng(seed);
  out[0] = kept[rng.int(m)]!;
  const d2 = new Float64Array(m);
  for (let i = 0; i < m; i++) d2[i] = (kept[i]! - out[0]!) ** 2;
  for (let k = 1; k < K; k++) {
    let total = 0;
    for (let i = 0; i < m; i++) total += d2[i]!;
    let pick = m - 1;
    if (total > 0) {
      let r = rng.uniform() * total;
      for (let i = 0; i < m; i++) {
        r -= d2[i]!;
        if (r < 0 && d2[i]! > 0) {
          pick = i;
          break;
        }
      }
      if (d2[pick] === 0)
        for (let i = m - 1; i >= 0; i--)
          if (d2[i]! > 0) {
            pick = i;
            break;
          }
    } else pick = rng.int(m); // fewer distinct values than K: duplicates
    out[k] = kept[pick]!;
    for (let i = 0; i < m; i++) d2[i] = Math.min(d2[i]!, (kept[i]! - out[k]!) ** 2);
  }
  return out.sort();
}
