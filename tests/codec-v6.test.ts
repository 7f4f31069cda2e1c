// Codec 6 (docs/codec-v5.md "Codec 6"): the v5 layout with version byte 6, the CM refining with four
// APMs. New files are version 6; version 5 is still written on request (the golden files) and both
// decode, each with its own CM — the decoder dispatches on the version byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CmModel, decodeByte, encodeByte, BitDecoder, BitEncoder } from '../src/codec/cm/index.js';
import { compressBytes, decompressBytes, V6_VERSION } from '../src/codec/v5/index.js';

const text = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures/slimz/double-train.txt'))).subarray(0, 16384);

describe('codec 6', () => {
  it('new files are version 6, smaller than version 5, and each version decodes with its own CM', async () => {
    const v6 = await compressBytes(text, null);
    const v5 = await compressBytes(text, null, { version: 5 });
    expect(v6.bytes[3]).toBe(V6_VERSION);
    expect(v5.bytes[3]).toBe(5);
    expect(v6.header.version).toBe(6);
    expect(v6.bytes.length).toBeLessThan(v5.bytes.length);
    expect((await decompressBytes(v6.bytes, null)).text).toEqual(text);
    expect((await decompressBytes(v5.bytes, null)).text).toEqual(text);
    // the version byte is covered by the header's check byte: a v6 file relabelled 5 is refused
    const wrong = v6.bytes.slice();
    wrong[3] = 5;
    await expect(decompressBytes(wrong, null)).rejects.toThrow(/damaged|CRC-32/);
    await expect(compressBytes(text, null, { version: 4 as 5 })).rejects.toThrow(/version must be 5 or 6/);
  });

  it('the CM with refine 6 round-trips across streams and keeps refine 5 unchanged by default', () => {
    expect(() => new CmModel(1, { refine: 7 as 6 })).toThrow(/refine must be 5 or 6/);
    for (const refine of [5, 6] as const) {
      const enc = new BitEncoder();
      const a = new CmModel(2, { memoryLog2: 16, refine });
      for (let i = 0; i < 4000; i++) encodeByte(a, enc, i & 1, text[i]!, null);
      const code = enc.finish();
      const b = new CmModel(2, { memoryLog2: 16, refine });
      const dec = new BitDecoder(code, 'test');
      const out = new Uint8Array(4000);
      for (let i = 0; i < 4000; i++) out[i] = decodeByte(b, dec, i & 1, null);
      expect(out).toEqual(text.subarray(0, 4000));
    }
  });
});
