// A range coder (LZMA's carry-propagating scheme) over 2^16-total integer frequency tables.
//   state: low < 2^33 (a carry in bit 32), range in [2^24, 2^32); all integers below 2^53, so plain
//   JavaScript numbers are exact. Symbol s narrows [low, low + range) to its exact share
//   [low + ⌊range·cum[s]/2^16⌋, low + ⌊range·cum[s+1]/2^16⌋) — the products stay below 2^48, so no
//   range is lost to rounding (the usual ⌊range/total⌋·freq wastes up to 2^−8 of it per symbol) —
//   and bytes leave from the top of low as range falls below 2^24. The encoder's first byte is always 0 (LZMA's cache seed) and
//   is not written; the decoder starts from the next four.
import { codecFail } from './errors.js';
import { FREQ_TOTAL, symbolOf } from './frequencies.js';

const TOP = 2 ** 24;
const TWO32 = 2 ** 32;

export class RangeEncoder {
  private low = 0;
  private range = TWO32 - 1;
  private cache = 0;
  private cacheSize = 1;
  private first = true;
  private buf = new Uint8Array(1 << 12);
  private n = 0;

  /** Codes byte `s` under the cumulative table `cum` (from frequencies()). */
  encode(cum: Uint32Array, s: number): void {
    const lo = Math.floor((this.range * cum[s]!) / FREQ_TOTAL);
    const hi = Math.floor((this.range * cum[s + 1]!) / FREQ_TOTAL);
    this.low += lo;
    this.range = hi - lo;
    while (this.range < TOP) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  private put(b: number): void {
    if (this.first) {
      this.first = false; // always 0: the decoder knows it
      return;
    }
    if (this.n === this.buf.length) {
      const g = new Uint8Array(this.buf.length * 2);
      g.set(this.buf);
      this.buf = g;
    }
    this.buf[this.n++] = b;
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= TWO32) {
      const carry = this.low >= TWO32 ? 1 : 0;
      let temp = this.cache;
      do {
        this.put((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / TOP) & 0xff; // bits 24..31
    }
    this.cacheSize++;
    this.low = (this.low % TOP) * 256;
  }

  /** Flushes the state and returns the code bytes; the encoder is spent afterwards. */
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.buf.slice(0, this.n);
  }

  /** Bytes written so far (the last ≤ 5 come with finish()). */
  get length(): number {
    return this.n;
  }
}

export class RangeDecoder {
  private code = 0;
  private range = TWO32 - 1;
  private pos = 0;
  /** Bytes read beyond the end (a valid stream never needs any). */
  private overrun = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly where = 'code stream',
  ) {
    for (let i = 0; i < 4; i++) this.code = this.code * 256 + this.next();
  }

  private next(): number {
    if (this.pos < this.bytes.length) return this.bytes[this.pos++]!;
    this.overrun++;
    return 0;
  }

  /** Decodes one byte under the cumulative table `cum` (the same table the encoder used). */
  decode(cum: Uint32Array): number {
    // the largest s with ⌊range·cum[s]/2^16⌋ ≤ code, i.e. cum[s] ≤ ⌊((code + 1)·2^16 − 1)/range⌋
    const a = (this.code + 1) * FREQ_TOTAL - 1;
    let v = Math.floor(a / this.range);
    if (v * this.range > a)
      v--; // exact floor (a < 2^48)
    else if ((v + 1) * this.range <= a) v++;
    if (v >= FREQ_TOTAL) codecFail(`${this.where} is damaged: the code value left the coded interval`);
    const s = symbolOf(cum, v);
    const lo = Math.floor((this.range * cum[s]!) / FREQ_TOTAL);
    const hi = Math.floor((this.range * cum[s + 1]!) / FREQ_TOTAL);
    this.code -= lo;
    this.range = hi - lo;
    while (this.range < TOP) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
    return s;
  }

  /** Throws unless the stream ended exactly where the encoder's did. */
  end(): void {
    if (this.overrun > 0) codecFail(`${this.where} is damaged or truncated: the decoder read ${this.overrun} byte(s) past its end`);
    if (this.pos !== this.bytes.length)
      codecFail(`${this.where} is damaged: ${this.bytes.length - this.pos} byte(s) left over after the last symbol`);
  }
}
