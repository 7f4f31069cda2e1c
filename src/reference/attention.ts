// CPU reference for causal multi-head self-attention (same conventions as src/kernels/attention.ts).
//   qkv (N, 3C), N = B·T rows (row = b·T + t): q = cols [0, C), k = [C, 2C), v = [2C, 3C);
//   head h uses cols h·hs .. (h+1)·hs of each (hs = C/H); scale 1/sqrt(hs); position t sees 0..t.
//   out (N, C); probs (B, H, T, T) (zero above the diagonal); lse (B, H, T) = log Σ_j exp(s_ij)
//   over the scaled scores s. Sums in f64.

export interface AttentionShapeCpu {
  B: number;
  T: number;
  C: number;
  H: number;
}

/** Forward: out (N, C), the probabilities (B, H, T, T) and the per-row logsumexp (B, H, T). */
export function attentionCpu(qkv: ArrayLike<number>, s: AttentionShapeCpu): { out: Float32Array; probs: Float32Array; lse: Float32Array } {
  const { B, T, C, H } = s;
  const hs = C / H,
    C3 = 3 * C,
    scale = 1 / Math.sqrt(hs);
  const out = new Float32Array(B * T * C);
  const probs = new Float32Array(B * H * T * T);
  const lse = new Float32Array(B * H * T);
  const sc = new Float64Array(T);
  const o = new Float64Array(hs);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++) {
        const qi = (b * T + i) * C3 + h * hs;
        let m = -Infinity;
        for (let j = 0; j <= i; j++) {
          const kj = (b * T + j) * C3 + C + h * hs;
          let d = 0;
          for (let e = 0; e < hs; e++) d += qkv[qi + e]! * qkv[kj + e]!;
          sc[j] = d * scale;
          if (sc[j]! > m) m = sc[j]!;
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          sc[j] = Math.exp(sc[j]! - m);
          sum += sc[j]!;
        }
        lse[(b * H + h) * T + i] = m + Math.log(sum);
        const prow = ((b * H + h) * T + i) * T;
        const oi = (b * T + i) * C + h * hs;
        o.fill(0);
        for (let j = 0; j <= i; j++) {
          const p = sc[j]! / sum;
          probs[prow + j] = p;
          const vj = (b * T + j) * C3 + 2 * C + h * hs;
          for (let e = 0; e < hs; e++) o[e]! += p * qkv[vj + e]!;
        }
        for (let e = 0; e < hs; e++) out[oi + e] = o[e]!;
      }
  return { out, probs, lse };
}

/** Backward: dqkv (N, 3C) from dout (N, C), given the forward's input. */
export function attentionBackwardCpu(qkv: ArrayLike<number>, dout: ArrayLike<number>, s: AttentionShapeCpu): Float32Array {
  const { B, T, C, H } = s;
  const hs = C / H,
    C3 = 3 * C,
    scale = 1 / Math.sqrt(hs);
  const { probs } = attentionCpu(qkv, s);
  const dqkv = new Float64Array(B * T * C3);
  const dp = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++) {
        const prow = ((b * H + h) * T + i) * T;
        const oi = (b * T + i) * C + h * hs;
        const qi = (b * T + i) * C3 + h * hs;
        let delta = 0;
        for (let j = 0; j <= i; j++) {
          const vj = (b * T + j) * C3 + 2 * C + h * hs;
          let d = 0;
          for (let e = 0; e < hs; e++) {
            d += dout[oi + e]! * qkv[vj + e]!;
            dqkv[vj + e]! += probs[prow + j]! * dout[oi + e]!; // dV
          }
          dp[j] = d;
          delta += probs[prow + j]! * d;
        }
        for (let j = 0; j <= i; j++) {
          const ds = probs[prow + j]! * (dp[j]! - delta) * scale;
          const kj = (b * T + j) * C3 + C + h * hs;
          for (let e = 0; e < hs; e++) {
            dqkv[qi + e]! += ds * qkv[kj + e]!; // dQ
            dqkv[kj + e]! += ds * qkv[qi + e]!; // dK
          }
        }
      }
  return Float32Array.from(dqkv);
}

/**
 * One decoding step (n = 1) or a prefill of n tokens per batch row: query row b·n + i attends to
 * keys/values 0..pos+i of batch row b of the caches (which must already hold them).
 *   q (B·n, C) (or the q columns of qkv (B·n, 3C) with qStride 3C), kCache, vCache (B, Tmax, C)
 *   → out (B·n, C).
 */
export function attentionDecodeCpu(
  q: ArrayLike<number>,
  kCache: ArrayLike<number>,
  vCache: ArrayLike<number>,
  s: { B: number; C: number; H: number; Tmax: number; pos: number; n?: number; qStride?: number },
): Float32Array {
  const { B, C, H, Tmax, pos } = s;
  const n = s.n ?? 1,
    hs = C / H,
    qs = s.qStride ?? C,
    scale = 1 / Math.sqrt(hs);
  const out = new Float32Array(B * n * C);
  const sc = new Float64Array(pos + n);
  for (let r = 0; r < B * n; r++)
    for (let h = 0; h < H; h++) {
      const b = Math.floor(r / n),
        last = Math.min(pos + (r % n), Tmax - 1);
      let m = -Infinity;
      for (let j = 0; j <= last; j++) {
        let d = 0;
        for (let e = 0; e < hs; e++) d += q[r * qs + h * hs + e]! * kCache[(b * Tmax + j) * C + h * hs + e]!;
        sc[j] = d * scale;
        m = Math.max(m, sc[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) {
        sc[j] = Math.exp(sc[j]! - m);
        sum += sc[j]!;
      }
      for (let e = 0; e < hs; e++) {
        let o = 0;
        for (let j = 0; j <= last; j++) o += sc[j]! * vCache[(b * Tmax + j) * C + h * hs + e]!;
        out[r * C + h * hs + e] = o / sum;
      }
    }
  return out;
}
