// Files that arrive as a Node Buffer view (a stream's piece, a section inside a bigger file) decode
// exactly as a plain Uint8Array copy does. Buffer.prototype.slice is a view, not a copy: a parser that
// took `bytes.slice(a, b).buffer` read the whole underlying allocation (a two-part .slimz read by the
// CLI through a file stream failed with "huffman code lengths are over-subscribed").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCompressed } from '../src/io/export.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';

/** `bytes` placed at an odd offset inside a larger Node Buffer filled with junk. */
function bufferViewOf(bytes: Uint8Array): Buffer {
  const big = Buffer.alloc(bytes.length + 1001, 0xa5);
  big.set(bytes, 717);
  return big.subarray(717, 717 + bytes.length);
}

describe('Node Buffer views', () => {
  it('parseSafetensors copies each tensor from the view, not from the whole allocation', () => {
    const bytes = serializeSafetensors({
      a: { dtype: 'F32', shape: [3], data: Float32Array.of(1.5, -2, 3) },
      b: { dtype: 'I32', shape: [2], data: Int32Array.of(7, -9) },
    });
    const t = parseSafetensors(bufferViewOf(bytes)).tensors;
    expect(Array.from(t.a!.data)).toEqual([1.5, -2, 3]);
    expect(Array.from(t.b!.data)).toEqual([7, -9]);
  });

  it('a compressed model decodes the same from a Buffer view as from a copy', () => {
    const file = new Uint8Array(readFileSync(new URL('../models/bytemlp.slim.safetensors', import.meta.url)));
    const want = decodeCompressed(file.slice());
    const got = decodeCompressed(bufferViewOf(file));
    expect([...got.values.keys()]).toEqual([...want.values.keys()]);
    for (const [k, v] of want.values) expect(got.values.get(k)).toEqual(v);
  });
});
