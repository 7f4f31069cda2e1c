// The codec side of the byte model: integer logits (src/reference/bytemlp.ts, shaders/bytemlp.wgsl)
// → the coder's cum tables.
import { frequencies } from '../frequencies.js';

export * from '../../reference/bytemlp.js';

const scaled = new Float64Array(256);

/**
 * The cum table of integer logits in 1/256 nat, by frequencies(): l/256 is exact in a double and
 * frequencies() quantises to steps of 1/256 nat, so the table is a function of the integers alone.
 */
export function cumFromLogits(logits: Int32Array, o: number, cum: Uint32Array): Uint32Array {
  for (let k = 0; k < 256; k++) scaled[k] = logits[o + k]! / 256;
  return frequencies(scaled, 0, cum);
}
