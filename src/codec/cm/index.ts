// Context-mixing (CM) companion model for the .slimz codec: a deterministic CPU-side lpaq/paq-style
// bit predictor with a binary arithmetic coder, into which an external model's next-byte table (the
// GPT's `cum`) is mixed as extra inputs. encodeByte/decodeByte are the contract with the codec: the
// encoder and decoder call them in the same order, so their models stay identical.
import { codecFail } from '../errors.js';
import { BitDecoder, BitEncoder } from './coder.js';
import { CmModel } from './model.js';

export { BitDecoder, BitEncoder } from './coder.js';
export { CmModel } from './model.js';
export type { CmOptions } from './model.js';

/** COST[p] = −log2(p/65536) bits: the ideal cost of a bit coded with probability p (reports only). */
let COST: Float64Array | null = null;
function costs(): Float64Array {
  if (COST === null) {
    COST = new Float64Array(65537);
    for (let p = 1; p <= 65536; p++) COST[p] = 16 - Math.log2(p);
  }
  return COST;
}

/**
 * Codes `byte` of stream `stream` (cum: the external model's Uint32Array(257) table from
 * frequencies(), or null for CM alone) and updates the model. Returns −log2 p(byte) under the mixed
 * model, in bits (a float for reports; coding uses only integers).
 */
export function encodeByte(m: CmModel, enc: BitEncoder, stream: number, byte: number, cum: Uint32Array | null): number {
  if (!Number.isInteger(byte) || byte < 0 || byte > 255) codecFail(`CM encodeByte: byte must be an integer in [0, 255], got ${byte}`);
  const cost = costs();
  m.begin(stream, cum);
  let bits = 0;
  for (let i = 7; i >= 0; i--) {
    const y = (byte >> i) & 1;
    const p = m.predict();
    enc.encode(y, p);
    bits += cost[y ? p : 65536 - p]!;
    m.update(y);
  }
  return bits;
}

/** The decoder's twin of encodeByte: returns the byte and updates the model identically. */
export function decodeByte(m: CmModel, dec: BitDecoder, stream: number, cum: Uint32Array | null): number {
  m.begin(stream, cum);
  let c = 0;
  for (let i = 0; i < 8; i++) {
    const y = dec.decode(m.predict());
    m.update(y);
    c = (c << 1) | y;
  }
  return c;
}
