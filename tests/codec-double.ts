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
  calls = { prefill: 0, step: 0, train: 0 };

  constructor(
    readonly windows: number,
    readonly context: number,
    private readonly skew?: 'forward' | 'train',
  ) {
    this.H = context >> 1;
  }

  /** The next position in the "cache" (the position term of the logits). */
  private t = 0;
  private H: number;

  async prefill(tokens: Uint32Array): Promise<void> {
    if (tokens.length !== this.windows * this.H) throw new Error(`prefill tokens: expected ${this.windows * this.H}, got ${tokens.length}`);
    this.calls.prefill++;
    this.t = this.H;
  }

  async step(tokens: Uint32Array): Promise<Float32Array> {
    if (tokens.length !== this.windows) throw new Error(`step tokens: expected ${this.windows}, got ${tokens.length}`);
    if (this.t >= this.context) throw new Error('step: the cache is full');
    this.calls.step++;
    const out = new Float32Array(this.windows * 256);
    for (let b = 0; b < this.windows; b++) {
      const ctx = tokens[b]! * 256;
      for (let s = 0; s < 256; s++) {
        // the position term makes rows of equal tokens differ, as a transformer's would
        out[b * 256 + s] = Math.log(this.counts[ctx + s]! + 0.25) + ((s * 7 + this.t) % 5) * 0.01 + (this.skew === 'forward' ? 1e-3 * (s % 3) : 0);
      }
    }
    this.t++;
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
