// CPU reference for recSoftmaxXent and recScatterRows (src/kernels/rec-softmax.ts), in float64.
export function recSoftmaxXentCpu(
  s: Float32Array,
  B: number,
  N: number,
  perm: ArrayLike<number>,
  rowptr: ArrayLike<number>,
  items: ArrayLike<number>,
  base = 0,
  scale = 1 / B,
): { ds: Float32Array; loss: Float64Array } {
  const U = rowptr.length - 1;
  const ds = new Float32Array(B * N),
    loss = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const u = perm[base + b]!;
    if (u >= U || rowptr[u + 1]! <= rowptr[u]!) continue;
    const lo = rowptr[u]!,
      hi = rowptr[u + 1]!,
      n = hi - lo;
    let m = -Infinity;
    for (let j = 0; j < N; j++) m = Math.max(m, s[b * N + j]!);
    let z = 0;
    for (let j = 0; j < N; j++) z += Math.exp(s[b * N + j]! - m);
    const d = new Float64Array(N);
    for (let j = 0; j < N; j++) d[j] = (scale * Math.exp(s[b * N + j]! - m)) / z;
    let pos = 0;
    for (let j = lo; j < hi; j++) {
      const i = items[j]!;
      if (i < N) {
        pos += s[b * N + i]!;
        d[i]! -= scale / n;
      }
    }
    ds.set(d, b * N);
    loss[b] = m + Math.log(z) - pos / n;
  }
  return { ds, loss };
}

/** table (U, C) with rows perm[base + b] set to drows[b] (or 0 when drows is undefined). */
export function recScatterRowsCpu(
  table: Float32Array,
  C: number,
  perm: ArrayLike<number>,
  B: number,
  base: number,
  drows?: Float32Array,
): Float32Array {
  const out = Float32Array.from(table);
  const U = table.length / C;
  for (let b = 0; b < B; b++) {
    const u = perm[base + b]!;
    if (u >= U) continue;
    for (let c = 0; c < C; c++) out[u * C + c] = drows ? drows[b * C + c]! : 0;
  }
  return out;
}

/** (B, C) rows perm[base + b] of table (U, C), 0 for padding. */
export function recGatherRowsCpu(table: Float32Array, C: number, perm: ArrayLike<number>, B: number, base: number): Float32Array {
  const U = table.length / C;
  const out = new Float32Array(B * C);
  for (let b = 0; b < B; b++) {
    const u = perm[base + b]!;
    if (u < U) out.set(table.subarray(u * C, (u + 1) * C), b * C);
  }
  return out;
}

function hash32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** recMultiHot's rows: 1/n' at each kept item of the user (dropped when hash < drop·2^32). */
export function recMultiHotCpu(
  B: number,
  N: number,
  perm: ArrayLike<number>,
  rowptr: ArrayLike<number>,
  items: ArrayLike<number>,
  base: number,
  seed: number,
  drop = 0,
): Float32Array {
  const U = rowptr.length - 1,
    thr = Math.floor(drop * 2 ** 32);
  const out = new Float32Array(B * N);
  for (let b = 0; b < B; b++) {
    const u = perm[base + b]!;
    if (u >= U) continue;
    const keep: number[] = [];
    for (let j = rowptr[u]!; j < rowptr[u + 1]!; j++) {
      const i = items[j]!;
      if (i < N && hash32(hash32((seed ^ hash32(u)) >>> 0) ^ i) >= thr) keep.push(i);
    }
    for (const i of keep) out[b * N + i] = 1 / keep.length;
  }
  return out;
}
