// Rewriting a compressed model file in another format version (e.g. v3 → v2 for an older reader,
// or v2 → v3 for the compact header): the stored sections are decoded and encoded again, so the
// kept positions, codebook indices and codebooks are exactly those of the input (pure, no GPU).
import type { WeightSharing } from '../../compress/sharing.js';
import { decodeSparse, type DecodeOptions } from './decode.js';
import { serializeCompressed, type CompressInput, type EncodeOptions } from './encode.js';
import { numel } from './layout.js';

/** The encoder's input that reproduces a file's contents. */
export function compressInputOfFile(bytes: Uint8Array, opts: DecodeOptions = {}): CompressInput {
  const d = decodeSparse(bytes, opts);
  const values = new Map<string, Float32Array>(),
    masks = new Map<string, Float32Array>();
  const sharing: WeightSharing = { init: 'linear', iterations: 0, layers: {} };
  for (const p of d.params) {
    if (!p.positions) {
      values.set(p.entry.name, p.values!);
      continue;
    }
    const n = numel(p.entry.shape);
    const v = new Float32Array(n),
      m = new Float32Array(n);
    p.positions.forEach((pos, j) => {
      v[pos] = p.codes ? p.codebook![p.codes[j]!]! : p.values![j]!;
      m[pos] = 1;
    });
    values.set(p.entry.name, v);
    masks.set(p.entry.name, m);
    if (p.codes && p.entry.kind === 'sparse') {
      const layer = p.entry.name.slice(0, -'.weight'.length);
      sharing.layers[layer] = {
        layer,
        param: p.entry.name,
        shape: p.entry.shape,
        bits: p.entry.bits,
        codebook: p.codebook!,
        assignments: p.codes as unknown as Uint8Array, // read by index only; codes may exceed 8 bits
        kept: p.codes.length,
        params: n,
        counts: new Uint32Array(p.codebook!.length),
      };
    }
  }
  return { spec: d.spec, values, masks, sharing };
}

/** The same model written as `opts.formatVersion` (default 3), with the same entropy-coding choice. */
export function convertCompressed(bytes: Uint8Array, opts: EncodeOptions & DecodeOptions = {}): Uint8Array {
  return serializeCompressed(compressInputOfFile(bytes, opts), opts);
}
