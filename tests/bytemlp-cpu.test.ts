// The fast CPU forward passes (WebAssembly SIMD; plain JS with paired doubles; both over sparse columns) against the row-major definition of the
// integer model: the same logits to the bit, on awkward shapes and on the shipped model.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ByteMlpCpu, byteMlpLogitsDense, randomByteMlp, type ByteMlpModel } from '../src/reference/bytemlp.js';
import { decodeByteMlp } from '../src/codec/pretrained/file.js';
import { SHIPPED_MODELS } from '../src/codec/pretrained/registry.js';

function compare(m: ByteMlpModel, contexts: number, seed: number): void {
  const cpu = new ByteMlpCpu(m),
    js = new ByteMlpCpu(m, { wasm: false });
  expect(cpu.path).toBe('wasm-simd'); // Node has WebAssembly SIMD: the fast path is the one tested
  expect(js.path).toBe('js');
  const fast = new Int32Array(256 + 3),
    slow = new Int32Array(256 + 1),
    dense = new Int32Array(256);
  const ctx = new Uint8Array(m.ctx + 2);
  let s = seed;
  for (let t = 0; t < contexts; t++) {
    for (let p = 0; p < ctx.length; p++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      ctx[p] = t % 5 === 0 ? 0 : (s >>> 16) & 255;
    }
    cpu.logits(ctx, 2, fast, 3);
    js.logits(ctx, 2, slow, 1);
    byteMlpLogitsDense(m, cpu.tables, ctx, 2, dense, 0);
    expect(Array.from(fast.subarray(3))).toEqual(Array.from(dense));
    expect(Array.from(slow.subarray(1))).toEqual(Array.from(dense));
  }
}

describe('bytemlp CPU forward pass', () => {
  it('matches the row-major definition on awkward shapes (odd hidden, negative r1, saturating activations)', () => {
    compare(randomByteMlp(1, 16, 16, 192), 40, 7);
    compare(randomByteMlp(2, 3, 5, 7), 60, 8);
    compare(randomByteMlp(3, 8, 32, 33, { emb: 5, l1: 4, l2: 9, l3: 9 }), 40, 9); // r1 = 5
    compare(randomByteMlp(4, 1, 1, 1, { emb: 1, l1: 1, l2: 1, l3: 12 }), 40, 10); // r1 < 0: a left shift
    compare(randomByteMlp(5, 4, 64, 256, { emb: 3, l1: 3, l2: 2, l3: 9 }), 20, 11); // wide, saturating
  });

  it('matches it on the shipped models', () => {
    for (const { file } of SHIPPED_MODELS) compare(decodeByteMlp(new Uint8Array(readFileSync(`models/${file}`)), file), 60, 12);
  });

  it('refuses levels outside int8 and contexts that break the accumulator bound', () => {
    const m = randomByteMlp(6, 2, 2, 4);
    m.w3[5] = 128;
    expect(() => new ByteMlpCpu(m)).toThrow(/W3 holds level 128 outside \[-127, 127\]/);
    expect(() => new ByteMlpCpu(m, { wasm: false })).toThrow(/outside \[-127, 127\]/);
    expect(() => new ByteMlpCpu(randomByteMlp(7, 65, 16, 4))).toThrow(/accumulator bound/);
  });
});
