// CPU reference for the cluster kernels (src/kernels/cluster.ts, shaders/cluster.wgsl), on arrays.
// Every operation is done in f32 (Math.fround) in the kernels' order (see clusterReduceCpu), so
// the GPU results can be compared closely (and are usually bit-identical).

export const CLUSTER_NONE_CPU = 0xffffffff;
/** Must equal CLUSTER.CHUNK in src/kernels/cluster.ts. */
export const CLUSTER_CHUNK_CPU = 4096;

const f = Math.fround;

/** Nearest centroid of each kept weight (ties → lower index); NONE where mask = 0. */
export function clusterAssignCpu(w: Float32Array, mask: Float32Array, centroids: Float32Array): Uint32Array {
  const out = new Uint32Array(w.length);
  const K = centroids.length;
  for (let i = 0; i < w.length; i++) {
    if (mask[i] === 0) {
      out[i] = CLUSTER_NONE_CPU;
      continue;
    }
    const x = w[i]!;
    let best = 0;
    let bd = Math.abs(f(x - centroids[0]!));
    for (let c = 1; c < K; c++) {
      const d = Math.abs(f(x - centroids[c]!));
      if (d < bd) {
        bd = d;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Must equal clusterReduceWidth in src/kernels/cluster.ts: reduce_partial's workgroup size for K. */
export function clusterReduceWidthCpu(K: number): number {
  let cap = 32;
  while (cap < K) cap *= 2;
  return Math.max(1, 2048 / cap);
}

/**
 * Per-cluster sums of `values` and member counts (members: assign[i] = c < K), added in the
 * kernel's order: per chunk, per lane t (elements t, t + R, t + 2R, ... of the chunk, R the
 * reduce width), lanes added in order, then chunks added in order.
 */
export function clusterReduceCpu(
  values: Float32Array,
  assign: Uint32Array,
  K: number,
  chunk = CLUSTER_CHUNK_CPU,
): { sums: Float32Array; counts: Uint32Array } {
  const n = values.length;
  const G = Math.max(1, Math.ceil(n / chunk));
  const R = clusterReduceWidthCpu(K);
  const sums = new Float32Array(K);
  const counts = new Uint32Array(K);
  const lane = new Float32Array(R * K);
  for (let g = 0; g < G; g++) {
    lane.fill(0);
    const start = g * chunk,
      end = Math.min(n, start + chunk);
    for (let t = 0; t < R; t++) {
      for (let i = start + t; i < end; i += R) {
        const a = assign[i]!;
        if (a < K) {
          lane[t * K + a] = f(lane[t * K + a]! + values[i]!);
          counts[a]!++;
        }
      }
    }
    for (let c = 0; c < K; c++) {
      let s = 0;
      for (let t = 0; t < R; t++) s = f(s + lane[t * K + c]!);
      sums[c] = f(sums[c]! + s);
    }
  }
  return { sums, counts };
}

/** centroids[c] = sums[c] / counts[c] where counts[c] > 0 (a new array). */
export function clusterUpdateCpu(centroids: Float32Array, sums: Float32Array, counts: Uint32Array): Float32Array {
  const out = centroids.slice();
  for (let c = 0; c < out.length; c++) if (counts[c]! > 0) out[c] = f(sums[c]! / f(counts[c]!));
  return out;
}

/** centroids[c] − lr · grads[c] (a new array). */
export function clusterSgdCpu(centroids: Float32Array, grads: Float32Array, lr: number): Float32Array {
  const out = centroids.slice();
  for (let c = 0; c < out.length; c++) out[c] = f(out[c]! - f(f(lr) * grads[c]!));
  return out;
}

/** w = centroids[assign] where mask ≠ 0 (and assign < K), else 0. */
export function clusterApplyCpu(mask: Float32Array, assign: Uint32Array, centroids: Float32Array): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) {
    const a = assign[i]!;
    if (mask[i] !== 0 && a < centroids.length) out[i] = centroids[a]!;
  }
  return out;
}

/**
 * `iterations` Lloyd iterations from `init`, then a final assignment and the applied weights:
 * what shareWeights records on the GPU for one view.
 */
export function kmeansCpu(
  w: Float32Array,
  mask: Float32Array,
  init: Float32Array,
  iterations: number,
): { centroids: Float32Array; assign: Uint32Array; weights: Float32Array } {
  let c: Float32Array = Float32Array.from(init);
  for (let t = 0; t < iterations; t++) {
    const a = clusterAssignCpu(w, mask, c);
    const { sums, counts } = clusterReduceCpu(w, a, c.length);
    c = clusterUpdateCpu(c, sums, counts);
  }
  const assign = clusterAssignCpu(w, mask, c);
  return { centroids: c, assign, weights: clusterApplyCpu(mask, assign, c) };
}
