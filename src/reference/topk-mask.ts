// CPU reference for topkMask (same rule as src/kernels/topk-mask.ts, on arrays).
//   weights: Float32Array; keeps exactly k elements with the largest |w| over the views (default:
//   all), ordered by the u32 bits of |w| (so |NaN| is the largest value); ties at the threshold
//   are kept lowest index first, index = position in the concatenation of the views. The mask has
//   the layout of `weights`; elements outside the views keep the values of opts.mask (default 0).

export interface TopkViewCpu {
  offset: number;
  length: number;
}

/** k = round((1 − sparsity)·n), clamped to [0, n]. */
export function kForCpu(n: number, sparsity: number): number {
  return Math.min(n, Math.max(0, Math.round((1 - sparsity) * n)));
}

/** The u32 bit pattern of |w| for each element of the views, in index order. */
export function topkAbsBits(weights: Float32Array, views?: readonly TopkViewCpu[]): Uint32Array {
  const bits = new Uint32Array(weights.buffer, weights.byteOffset, weights.length);
  const vs = views ?? [{ offset: 0, length: weights.length }];
  let n = 0;
  for (const v of vs) n += v.length;
  const out = new Uint32Array(n);
  let j = 0;
  for (const v of vs) for (let i = 0; i < v.length; i++) out[j++] = bits[v.offset + i]! & 0x7fffffff;
  return out;
}

/** Mask of the k largest |w| with ties kept lowest index first. */
export function topkMaskCpuK(weights: Float32Array, k: number, opts: { views?: readonly TopkViewCpu[]; mask?: Float32Array } = {}): Float32Array {
  const bits = topkAbsBits(weights, opts.views);
  const n = bits.length;
  k = Math.min(Math.max(0, k), n);
  const out = opts.mask ? opts.mask.slice() : new Float32Array(weights.length);
  // threshold T = the k-th largest bit pattern (k ≥ 1); keep all > T and the first (k − #>T) == T
  let t = 0xffffffff;
  let keepEq = 0;
  if (k > 0) {
    const sorted = bits.slice().sort();
    t = sorted[n - k]!;
    let greater = 0;
    for (let i = n - 1; i >= 0 && sorted[i]! > t; i--) greater++;
    keepEq = k - greater;
  }
  const vs = opts.views ?? [{ offset: 0, length: weights.length }];
  let j = 0;
  for (const v of vs) {
    for (let i = 0; i < v.length; i++) {
      const b = bits[j++]!;
      let keep = b > t;
      if (b === t && keepEq > 0) {
        keep = true;
        keepEq--;
      }
      out[v.offset + i] = keep ? 1 : 0;
    }
  }
  return out;
}

/** topkMaskCpuK with k = kForCpu(total view length, sparsity). */
export function topkMaskCpu(
  weights: Float32Array,
  sparsity: number,
  opts: { views?: readonly TopkViewCpu[]; mask?: Float32Array } = {},
): Float32Array {
  let n = 0;
  for (const v of opts.views ?? [{ offset: 0, length: weights.length }]) n += v.length;
  return topkMaskCpuK(weights, kForCpu(n, sparsity), opts);
}
