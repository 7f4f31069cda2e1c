// CPU reference for matmul and colsum (same signature as src/kernels/matmul.ts, on arrays).
//   a: (M, K) or (K, M) with transposeA; b: (K, N) or (N, K) with transposeB; returns (M, N).
export function matmulCpu(
  a: ArrayLike<number>,
  aShape: readonly [number, number],
  b: ArrayLike<number>,
  bShape: readonly [number, number],
  opts: { transposeA?: boolean; transposeB?: boolean; bias?: ArrayLike<number>; activation?: 'none' | 'relu' } = {},
): Float32Array {
  const [M, K] = opts.transposeA ? [aShape[1], aShape[0]] : aShape;
  const N = opts.transposeB ? bShape[0] : bShape[1];
  const out = new Float32Array(M * N);
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const av = opts.transposeA ? a[k * M + i]! : a[i * K + k]!;
      if (av === 0) continue;
      if (opts.transposeB) for (let j = 0; j < N; j++) acc[j]! += av * b[j * K + k]!;
      else {
        const base = k * N;
        for (let j = 0; j < N; j++) acc[j]! += av * b[base + j]!;
      }
    }
    for (let j = 0; j < N; j++) {
      let v = acc[j]! + (opts.bias ? opts.bias[j]! : 0);
      if (opts.activation === 'relu' && v < 0) v = 0;
      out[i * N + j] = v;
    }
  }
  return out;
}

export function colsumCpu(dy: ArrayLike<number>, M: number, N: number): Float32Array {
  const out = new Float64Array(N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) out[n]! += dy[m * N + n]!;
  return Float32Array.from(out);
}
