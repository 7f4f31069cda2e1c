// Pull-style reading of a byte stream that arrives in pieces (a file, stdin, a fetch body, or one
// Uint8Array): bytes, exact runs and the rest, without ever holding more than the caller asks for.
import { codecFail } from '../errors.js';

export class ByteSource {
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private ended = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.it =
      Symbol.asyncIterator in src ? (src as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() : (src as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  /** Refills the buffer; false at the end of the input. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      const v = r.value;
      if (!(v instanceof Uint8Array)) codecFail(`the input stream must yield Uint8Array pieces, got ${typeof v}`);
      this.buf = v;
      this.pos = 0;
    }
    return true;
  }

  /** The next byte, or −1 at the end. */
  async byte(): Promise<number> {
    if (this.pos >= this.buf.length && !(await this.fill())) return -1;
    this.consumed++;
    return this.buf[this.pos++]!;
  }

  /** Up to n bytes (fewer only at the end), in a new array. */
  async upTo(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let k = 0;
    while (k < n && (await this.fill())) {
      const m = Math.min(n - k, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + m), k);
      this.pos += m;
      k += m;
    }
    this.consumed += k;
    return k === n ? out : out.slice(0, k);
  }

  /** Exactly n bytes; a CodecError naming `what` when the input ends first. */
  async exact(n: number, what: string): Promise<Uint8Array> {
    const b = await this.upTo(n);
    if (b.length < n) codecFail(`${what} is truncated: it needs ${n} bytes, the file has ${b.length}`);
    return b;
  }

  /** Everything up to the end; a CodecError when it exceeds `max` bytes. */
  async rest(max: number, what: string): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    while (await this.fill()) {
      const piece = this.buf.subarray(this.pos);
      n += piece.length;
      if (n > max) codecFail(`${what} is longer than it can be (more than ${max} bytes): the file is damaged`);
      parts.push(piece.slice());
      this.pos = this.buf.length;
    }
    this.consumed += n;
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** True at the end of the input. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }
}
