// CPU reference for the layer norm kernels (same operands as src/kernels/layernorm.ts, on arrays;
// float64 inside, as llm.c's train_gpt2.c reference but in double).
export function layerNormCpu(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  N: number,
  C: number,
  eps = 1e-5,
): { y: Float32Array; mean: Float32Array; rstd: Float32Array } {
  const y = new Float32Array(N * C),
    mean = new Float32Array(N),
    rstd = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let s = 0;
    for (let c = 0; c < C; c++) s += x[o + c]!;
    const mu = s / C;
    let q = 0;
    for (let c = 0; c < C; c++) q += (x[o + c]! - mu) ** 2;
    const r = 1 / Math.sqrt(q / C + eps);
    for (let c = 0; c < C; c++) y[o + c] = (x[o + c]! - mu) * r * gamma[c]! + beta[c]!;
    mean[n] = mu;
    rstd[n] = r;
  }
  return { y, mean, rstd };
}

/** dx (N, C), dgamma and dbeta (C) from x, gamma, the forward's mean and rstd, and dy. */
export function layerNormBackwardCpu(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  mean: ArrayLike<number>,
  rstd: ArrayLike<number>,
  dy: ArrayLike<number>,
  N: number,
  C: number,
): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array } {
  const dx = new Float32Array(N * C),
    dg = new Float64Array(C),
    db = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const o = n * C,
      mu = mean[n]!,
      r = rstd[n]!;
    let a = 0,
      b = 0;
    for (let c = 0; c < C; c++) {
      const g = dy[o + c]! * gamma[c]!,
        xh = (x[o + c]! - mu) * r;
      a += g;
      b += g * xh;
      dg[c] += dy[o + c]! * xh;
      db[c] += dy[o + c]!;
    }
    a /= C;
    b /= C;
    for (let c = 0; c < C; c++) {
      const xh = (x[o + c]! - mu) * r;
      dx[o + c] = r * (dy[o + c]! * gamma[c]! - a - xh * b);
    }
  }
  return { dx, dgamma: Float32Array.from(dg), dbeta: Float32Array.from(db) };
}
