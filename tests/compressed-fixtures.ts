// Compressed-model inputs for tests: a model's parameters pruned and shared like the library's
// pipeline leaves them (random values; realistic sizes and index statistics).
import type { WeightSharing } from '../src/compress/sharing.js';
import type { CompressInput } from '../src/io/export.js';
import { modelParams, resolveModel, type ModelSpec } from '../src/nn/model.js';
import { randn, rng } from './helpers.js';

/** A model's parameters, weights pruned to `sparsity` and shared at `bits` bits (random values, realistic sizes). */
export function prunedShared(spec: ModelSpec, sparsity: number, bits: number, seed = 1): CompressInput {
  const r = rng(seed);
  const values = new Map<string, Float32Array>(),
    masks = new Map<string, Float32Array>();
  const sharing: WeightSharing = { init: 'linear', iterations: 0, layers: {} };
  for (const p of modelParams(resolveModel(spec))) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const v = randn(n, seed + n, 0.05);
    if (!p.prunable) {
      values.set(p.name, v);
      continue;
    }
    const K = 2 ** bits;
    const codebook = Float32Array.from({ length: K }, (_, i) => (i - K / 2 + 0.5) * 0.01);
    const mask = new Float32Array(n),
      assignments: number[] = [];
    for (let i = 0; i < n; i++) {
      if (r() < sparsity) {
        v[i] = 0;
        continue;
      }
      mask[i] = 1;
      const a = Math.min(K - 1, Math.floor(r() * r() * K));
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
      assignments: Uint16Array.from(assignments),
      kept: assignments.length,
      params: n,
      counts: new Uint32Array(K),
    };
  }
  return { spec, values, masks, sharing };
}
