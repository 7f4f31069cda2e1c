// Entropy coding of a quantised latent with integer tables: the part of the image codec that must
// decode identically everywhere, so it is integers only (the range coder of src/codec over
// 2^16-total cumulative tables that the model file stores as integers; nothing is derived from
// floats at coding time).
//   Per latent channel c: offset[c] and 256 frequencies. Symbol k in 0..254 stands for the value
//   offset[c] + k − 127; symbol 255 is an escape followed by the value itself, zigzagged, in 3 bytes
//   under the uniform table (|value| < 2^23).
// Order: tile by tile, channel by channel, row-major inside a channel.
import { RangeDecoder, RangeEncoder } from '../codec/rangecoder.js';
import { FREQ_TOTAL } from '../codec/frequencies.js';
import { ImageError } from './raw.js';

export const LATENT_HALF = 127;
export const ESCAPE = 255;
const MAX_ESCAPED = 1 << 23;

/** The integer tables of one quality: per channel an offset and a 257-entry cumulative table. */
export interface LatentTables {
  offset: Int32Array;
  cum: Uint32Array[];
}

const UNIFORM = (() => {
  const c = new Uint32Array(257);
  for (let i = 0; i <= 256; i++) c[i] = i * 256;
  return c;
})();

/** Builds and checks the cumulative tables from stored frequencies (channels × 256, each ≥ 1, rows summing to 2^16). */
export function latentTables(offset: Int32Array, freq: Uint16Array, where: string): LatentTables {
  const m = offset.length;
  if (freq.length !== m * 256) throw new ImageError(`${where}: ${freq.length} frequencies for ${m} channels (expected ${m * 256})`);
  const cum: Uint32Array[] = [];
  for (let c = 0; c < m; c++) {
    const t = new Uint32Array(257);
    for (let s = 0; s < 256; s++) {
      const f = freq[c * 256 + s]!;
      if (f < 1) throw new ImageError(`${where}: channel ${c} gives symbol ${s} frequency 0 (every symbol needs ≥ 1)`);
      t[s + 1] = t[s]! + f;
    }
    if (t[256] !== FREQ_TOTAL) throw new ImageError(`${where}: channel ${c}'s frequencies sum to ${t[256]}, not ${FREQ_TOTAL}`);
    cum.push(t);
  }
  return { offset, cum };
}

/** Codes `q` (channels × plane, channel-major integers) into `enc`. */
export function encodeLatent(enc: RangeEncoder, q: Int32Array, channels: number, tables: LatentTables): void {
  const plane = q.length / channels;
  for (let c = 0; c < channels; c++) {
    const cum = tables.cum[c]!,
      off = tables.offset[c]!;
    for (let i = 0; i < plane; i++) {
      const v = q[c * plane + i]!;
      const s = v - off + LATENT_HALF;
      if (s >= 0 && s < ESCAPE) {
        enc.encode(cum, s);
        continue;
      }
      if (Math.abs(v) >= MAX_ESCAPED) throw new ImageError(`latent value ${v} is out of the codable range ±${MAX_ESCAPED}`);
      enc.encode(cum, ESCAPE);
      const z = v >= 0 ? 2 * v : -2 * v - 1;
      enc.encode(UNIFORM, z >>> 16);
      enc.encode(UNIFORM, (z >>> 8) & 0xff);
      enc.encode(UNIFORM, z & 0xff);
    }
  }
}

/** Decodes channels × plane integers coded by encodeLatent. */
export function decodeLatent(dec: RangeDecoder, channels: number, plane: number, tables: LatentTables): Int32Array {
  const q = new Int32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    const cum = tables.cum[c]!,
      off = tables.offset[c]!;
    for (let i = 0; i < plane; i++) {
      const s = dec.decode(cum);
      if (s !== ESCAPE) {
        q[c * plane + i] = s + off - LATENT_HALF;
        continue;
      }
      const z = (dec.decode(UNIFORM) << 16) | (dec.decode(UNIFORM) << 8) | dec.decode(UNIFORM);
      q[c * plane + i] = z & 1 ? -(z + 1) / 2 : z / 2;
    }
  }
  return q;
}

/** The ideal code length in bits of `q` under the tables (escapes counted as 24 bits + the escape symbol). */
export function latentBits(q: Int32Array, channels: number, tables: LatentTables): number {
  const plane = q.length / channels;
  let bits = 0;
  for (let c = 0; c < channels; c++) {
    const cum = tables.cum[c]!,
      off = tables.offset[c]!;
    for (let i = 0; i < plane; i++) {
      const s = q[c * plane + i]! - off + LATENT_HALF;
      const k = s >= 0 && s < ESCAPE ? s : ESCAPE;
      bits += 16 - Math.log2(cum[k + 1]! - cum[k]!) + (k === ESCAPE ? 24 : 0);
    }
  }
  return bits;
}
