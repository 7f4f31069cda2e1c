// The batched key/value-cached decoder (src/nn/decode.ts) that both sides of the prequential codec
// run: B streams, a prefill of P tokens then one token per stream per step. Its logits match the full
// causal forward (GptModel.logits) up to rounding; bit for bit, a stream's logits depend only on its
// own tokens, and a prefill leaves the same caches as feeding the same tokens step by step.
import { describe, expect, it } from 'vitest';
import { GptModel } from '../src/nn/lm.js';
import { KvDecoder } from '../src/nn/decode.js';
import { expectClose, rng, testGpu } from './helpers.js';

const PRESET = 'gpt:2-16-2-12'; // T = 12: prefill 6 (context/2), 6 steps

describe('KvDecoder (batched, prefill + steps)', () => {
  it('equals the full forward up to rounding; a stream depends only on its own tokens, bit for bit', async () => {
    const gpu = await testGpu();
    const B = 3,
      T = 12,
      P = 6;
    const lm = await GptModel.create(gpu, PRESET, { seed: 5, windows: B, capacity: 64 });
    const kv = await KvDecoder.create(lm.net, { batch: B, prefill: P });
    try {
      const r = rng(9);
      const tokens = Uint32Array.from({ length: B * T }, () => Math.floor(r() * 256));
      const full = await lm.logits(tokens);
      const run = async (tok: Uint32Array, prefill: boolean): Promise<Float32Array[]> => {
        const outs: Float32Array[] = [];
        kv.reset();
        if (prefill) kv.prefill(Uint32Array.from({ length: B * P }, (_, i) => tok[Math.floor(i / P) * T + (i % P)]!));
        for (let t = prefill ? P : 0; t < T; t++) {
          const o = await kv.step(Uint32Array.from({ length: B }, (_, b) => tok[b * T + t]!));
          outs[t] = o!;
        }
        return outs;
      };
      const a = await run(tokens, true);
      for (let t = P; t < T; t++) {
        for (let b = 0; b < B; b++) {
          expectClose(
            a[t]!.subarray(b * 256, (b + 1) * 256),
            full.subarray((b * T + t) * 256, (b * T + t + 1) * 256),
            { atol: 1e-4, rtol: 1e-4 },
            `stream ${b} t=${t}`,
          );
        }
      }
      // step by step from position 0 leaves the same caches as the prefill: the same bits after it
      const s = await run(tokens, false);
      for (let t = 0; t < P; t++)
        for (let b = 0; b < B; b++) {
          expectClose(
            s[t]!.subarray(b * 256, (b + 1) * 256),
            full.subarray((b * T + t) * 256, (b * T + t + 1) * 256),
            { atol: 1e-4, rtol: 1e-4 },
            `step stream ${b} t=${t}`,
          );
        }
      for (let t = P; t < T; t++) expect(Array.from(s[t]!)).toEqual(Array.from(a[t]!));
      // other tokens in streams 0 and 2 change nothing of stream 1, bit for bit
      const other = tokens.slice();
      for (const b of [0, 2]) for (let t = 0; t < T; t++) other[b * T + t] = (tokens[b * T + t]! + 1 + t) % 256;
      const c = await run(other, true);
      for (let t = P; t < T; t++) {
        expect(Array.from(c[t]!.subarray(256, 512))).toEqual(Array.from(a[t]!.subarray(256, 512)));
        expect(Array.from(c[t]!.subarray(0, 256))).not.toEqual(Array.from(a[t]!.subarray(0, 256)));
      }
      // bad input
      kv.reset();
      await expect(kv.step(new Uint32Array(2))).rejects.toThrow(/tokens must be a Uint32Array of 3·1 = 3 values, got 2/);
      expect(() => kv.prefill(new Uint32Array(B * P).fill(256))).toThrow(/token 0 is 256, not a value below 256/);
      await expect(KvDecoder.create(lm.net, { batch: 2, prefill: 12 })).rejects.toThrow(/prefill must be an integer in \[0, 11\]/);
      kv.reset();
      for (let t = 0; t < T; t++) await kv.step(new Uint32Array(B), false);
      await expect(kv.step(new Uint32Array(B))).rejects.toThrow(/caches are full \(12 tokens/);
    } finally {
      kv.dispose();
      lm.dispose();
    }
  });
});
