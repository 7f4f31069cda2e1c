// A model's parameters in the state the compression pipeline leaves them — every prunable matrix
// pruned at random to `sparsity`, the kept weights shared among 2^bits values of a uniform codebook —
// with made-up values: realistic sizes and index statistics for format tests, and models for speed
// benches where the weights' values do not matter (decode speed, memory). One builder for both.
import type { WeightSharing } from '../compress/sharing.js';
import { Rng } from '../data/random.js';
import { modelParams, resolveModel, type ModelSpec } from '../nn/model.js';
import type { CompressInput } from './export.js';

export interface SyntheticOptions {
  /** Fraction of each prunable matrix pruned (0..1). */
  sparsity: number;
  /** Codebook bits (1..8). */
  bits: number;
  seed?: number;
  /** Spacing of the uniform codebook (default 0.01). */
  step?: number;
  /** Codebook indices skewed towards the low end (u·u), as trained codebooks' counts are; else uniform. */
  skew?: boolean;
  /** Dense parameters: 'random' N(0, 0.05²) (a stream of its own per parameter, seeded by seed + size), or 'identity' (layer-norm gains 1, biases 0: a model that decodes sensibly). */
  dense?: 'random' | 'identity';
}

export function syntheticCompressed(spec: ModelSpec, o: SyntheticOptions): CompressInput {
  const { sparsity, bits, seed = 1, step = 0.01, skew = false, dense = 'random' } = o;
  if (!(sparsity >= 0 && sparsity <= 1)) throw new RangeError(`slimgpu.io: sparsity must be in [0, 1], got ${sparsity}`);
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new RangeError(`slimgpu.io: bits must be an integer in 1..8, got ${bits}`);
  const r = new Rng(seed);
  const values = new Map<string, Float32Array>(),
    masks = new Map<string, Float32Array>();
  const sharing: WeightSharing = { init: 'linear', iterations: 0, layers: {} };
  const K = 2 ** bits;
  const codebook = Float32Array.from({ length: K }, (_, i) => (i - K / 2 + 0.5) * step);
  for (const p of modelParams(resolveModel(spec))) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (!p.prunable) {
      if (dense === 'identity') v.fill(p.name.endsWith('.weight') ? 1 : 0);
      else gaussian(v, seed + n, 0.05);
      values.set(p.name, v);
      continue;
    }
    const mask = new Float32Array(n),
      assignments: number[] = [];
    for (let i = 0; i < n; i++) {
      if (r.uniform() < sparsity) continue;
      mask[i] = 1;
      const u = skew ? r.uniform() * r.uniform() : r.uniform();
      const a = Math.min(K - 1, Math.floor(u * K));
      assignments.push(a);
      v[i] = codebook[a]!;
    }
    values.set(p.name, v);
    masks.set(p.name, mask);
    sharing.layers[p.layer] = {
      layer: p.layer,
      param: p.name,
      shape: p.shape,
      bits,
      codebook,
      assignments: Uint8Array.from(assignments),
      kept: assignments.length,
      params: n,
      counts: new Uint32Array(K),
    };
  }
  return { spec, values, masks, sharing };
}

/** Box–Muller normals from a Mulberry32 stream (u clamped away from 0), the form the format's golden hashes were taken with. */
function gaussian(out: Float32Array, seed: number, scale: number): void {
  const r = new Rng(seed);
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(r.uniform(), 1e-12),
      v = r.uniform();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
