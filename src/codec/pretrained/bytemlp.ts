// The codec side of the byte model: integer logits (src/reference/bytemlp.ts, shaders/bytemlp.wgsl)
// → the coder's cum tables.
import { frequenciesOfInts } from '../frequencies.js';

export * from '../../reference/bytemlp.js';

/**
 * The cum table of integer logits in 1/256 nat: frequencies() of l/256 (l/256 is exact in a double
 * and frequencies() quantises to steps of 1/256 nat, so the table is a function of the integers
 * alone), computed by frequenciesOfInts, which gives the same table from the integers directly.
 */
export function cumFromLogits(logits: Int32Array, o: number, cum: Uint32Array): Uint32Array {
  return frequenciesOfInts(logits, o, cum);
}
