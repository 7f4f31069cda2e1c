// Compressed-model inputs for tests: a model's parameters pruned and shared like the library's
// pipeline leaves them (random values; realistic sizes and index statistics). The builder is the
// library's own (src/io/synthetic-compressed.ts, also used by the inference bench).
import type { CompressInput } from '../src/io/export.js';
import { syntheticCompressed } from '../src/io/synthetic-compressed.js';
import type { ModelSpec } from '../src/nn/model.js';

/** A model's parameters, weights pruned to `sparsity` and shared at `bits` bits (random values, realistic sizes). */
export function prunedShared(spec: ModelSpec, sparsity: number, bits: number, seed = 1): CompressInput {
  return syntheticCompressed(spec, { sparsity, bits, seed, skew: true });
}
