// CPU reference for the embedding kernels (same operands as src/kernels/embedding.ts, on arrays).
//   out (N, C)[n] = table[tokens[n]] (zero row for tokens ≥ V) + pos[n mod T]
export function embeddingCpu(tokens: ArrayLike<number>, table: ArrayLike<number>, pos: ArrayLike<number> | undefined, C: number): Float32Array {
  const N = tokens.length,
    V = table.length / C,
    T = pos ? pos.length / C : 0;
  const out = new Float32Array(N * C);
  for (let n = 0; n < N; n++) {
    const t = tokens[n]!;
    for (let c = 0; c < C; c++) {
      const x = t < V ? table[t * C + c]! : 0;
      out[n * C + c] = pos ? Math.fround(x + pos[(n % T) * C + c]!) : x;
    }
  }
  return out;
}

/** dtable (V, C) = Σ_{tokens[n] = v} dout[n] (ascending n); dpos (T, C) = Σ_b dout[b·T + t] (when T > 0). */
export function embeddingBackwardCpu(
  tokens: ArrayLike<number>,
  dout: ArrayLike<number>,
  V: number,
  C: number,
  T = 0,
): { dtable: Float32Array; dpos: Float32Array } {
  const N = tokens.length;
  const dtable = new Float32Array(V * C),
    dpos = new Float32Array(T * C);
  for (let n = 0; n < N; n++) {
    const t = tokens[n]!;
    for (let c = 0; c < C; c++) {
      const g = dout[n * C + c]!;
      if (t < V) dtable[t * C + c] += g;
      if (T > 0) dpos[(n % T) * C + c] += g;
    }
  }
  return { dtable, dpos };
}
