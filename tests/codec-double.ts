// A deterministic CPU test double for the codec's model interface (tests only; the shipped codec
// drives the GPT preset): an order-1 byte model whose counts are its "weights". train() counts the
// bytes appended since the last call. `skew` perturbs the arithmetic (a stand-in for an adapter whose
// numbers differ): 'forward' changes every logit a little, 'train' changes only what training learns.
import type { CodecModel } from '../src/codec/index.js';

export class CountModel implements CodecModel {
  private text = new Uint8Array(1 << 12);
  private valid = 0;
  private counted = 0;
  private readonly counts = new Float64Array(256 * 256);
  calls = { logits: 0, train: 0 };

  constructor(readonly windows: number, readonly context: number, private readonly skew?: 'forward' | 'train') {}

  async logits(tokens: Uint32Array, row?: number): Promise<Float32Array> {
    if (tokens.length !== this.windows * this.context) throw new Error(`tokens: expected ${this.windows * this.context}, got ${tokens.length}`);
    this.calls.logits++;
    const rows = row === undefined ? Array.from({ length: tokens.length }, (_, r) => r) : Array.from({ length: this.windows }, (_, b) => b * this.context + row);
    const out = new Float32Array(rows.length * 256);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!, ctx = tokens[r]! * 256, pos = r % this.context;
      for (let s = 0; s < 256; s++) {
        // the position term makes rows of equal tokens differ, as a transformer's would
        out[i * 256 + s] = Math.log(this.counts[ctx + s]! + 0.25) + ((s * 7 + pos) % 5) * 0.01 + (this.skew === 'forward' ? 1e-3 * (s % 3) : 0);
      }
    }
    return out;
  }

  appendText(bytes: Uint8Array): void {
    if (this.valid + bytes.length > this.text.length) {
      const g = new Uint8Array(Math.max(2 * this.text.length, this.valid + bytes.length));
      g.set(this.text.subarray(0, this.valid));
      this.text = g;
    }
    this.text.set(bytes, this.valid);
    this.valid += bytes.length;
  }

  async train(steps: number): Promise<void> {
    this.calls.train++;
    const w = this.skew === 'train' ? 1.5 : 1;
    for (let i = Math.max(1, this.counted); i < this.valid; i++) this.counts[this.text[i - 1]! * 256 + this.text[i]!]! += w * Math.min(steps, 1);
    this.counted = this.valid;
  }

  dispose(): void {}
}
