// frequenciesOfInts (the pretrained model's integer logits → the coder's table) against frequencies()
// of the same logits divided by 256, the definition that codec 5's files were written with.
import { describe, expect, it } from 'vitest';
import { frequencies, frequenciesOfInts } from '../src/codec/frequencies.js';

function rows(): Int32Array[] {
  let s = 99;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const out: Int32Array[] = [];
  for (const spread of [0, 1, 40, 256, 1500, 6144, 6145, 20000, 2 ** 24]) {
    for (let k = 0; k < 20; k++) out.push(Int32Array.from({ length: 256 }, () => Math.round(r() * spread)));
  }
  const ties = new Int32Array(256).fill(-77);
  ties[3] = ties[200] = 5; // two maxima: the remainder goes to the first
  const extremes = Int32Array.from({ length: 256 }, (_, i) => (i % 2 ? 2 ** 30 : -(2 ** 30)));
  out.push(ties, extremes, new Int32Array(256));
  return out;
}

describe('frequenciesOfInts', () => {
  it('gives the table of frequencies(l / 256) for every row', () => {
    const a = new Uint32Array(257),
      b = new Uint32Array(257);
    const buf = new Int32Array(256 + 5);
    for (const row of rows()) {
      buf.set(row, 5);
      frequenciesOfInts(buf, 5, a);
      frequencies(
        Array.from(row, (x) => x / 256),
        0,
        b,
      );
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });
});
