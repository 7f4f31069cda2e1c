// CPU reference for the qat kernels (src/kernels/qat.ts, shaders/qat.wgsl), on arrays, in f32.
import { clusterAssignCpu, CLUSTER_NONE_CPU } from './cluster.js';

const f = Math.fround;

/** The snap: the codebook value of each kept weight (0 where pruned) and its index (NONE where pruned). */
export function qatSnapCpu(w: Float32Array, mask: Float32Array, centroids: Float32Array): { w: Float32Array; assign: Uint32Array } {
  const assign = clusterAssignCpu(w, mask, centroids);
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = assign[i] === CLUSTER_NONE_CPU ? 0 : centroids[assign[i]!]!;
  return { w: out, assign };
}

/** K centroids evenly spaced over [min, max] of the kept weights, in the kernel's f32 order (all 0 if none kept). */
export function qatInitLinearCpu(w: Float32Array, mask: Float32Array, K: number): Float32Array {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < w.length; i++)
    if (mask[i] !== 0) {
      lo = Math.min(lo, w[i]!);
      hi = Math.max(hi, w[i]!);
    }
  const out = new Float32Array(K);
  if (lo > hi) return out;
  for (let k = 0; k < K; k++) out[k] = K === 1 ? f(f(lo + hi) * 0.5) : f(lo + f(f(f(hi - lo) * k) / (K - 1)));
  return out;
}

/** The damped restore: grads + λ·(latent − snapped) (a new array), in f32 as the kernel. */
export function qatDampCpu(grads: Float32Array, latent: Float32Array, snapped: Float32Array, dampen: number): Float32Array {
  return grads.map((g, i) => f(g + f(f(dampen) * f(latent[i]! - snapped[i]!))));
}
