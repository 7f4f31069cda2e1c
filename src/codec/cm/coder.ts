// Binary arithmetic coder (paq-style, carry-less): the interval [x1, x2] of 32-bit integers is split
// in proportion to P(bit = 1) = p/2^16, p ∈ [1, 65535]; the 1 takes the lower part [x1, xmid].
// Whenever x1 and x2 agree in their top byte, that byte is final and leaves. All products stay
// below 2^48 (exact in doubles), so both sides compute identical splits on every engine.
//
// End of a chunk: the encoder writes the leading bytes of one value v in [x1, x2] whose remaining
// bytes are zero (one byte, or none when v = 0 fits); the decoder reads those trailing zeros
// implicitly — it may take at most 4 implicit bytes past the end, and asking for a fifth is a
// CodecError (a truncated or foreign chunk). It never reads outside its array and never loops.
import { codecFail } from '../errors.js';

const TWO32 = 0x100000000;
/** Implicit zero bytes a valid chunk may need past its end. */
const TAIL = 4;

export class BitEncoder {
  private x1 = 0;
  private x2 = TWO32 - 1;
  private buf = new Uint8Array(1 << 10);
  private n = 0;
  private done = false;

  /** Codes bit `y` (0 or 1) with P(y = 1) = p/65536, p ∈ [1, 65535]. */
  encode(y: number, p: number): void {
    const xmid = this.x1 + Math.floor(((this.x2 - this.x1) * p) / 65536);
    if (y) this.x2 = xmid;
    else this.x1 = xmid + 1;
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      this.put(this.x2 >>> 24);
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
    }
  }

  private put(b: number): void {
    if (this.n === this.buf.length) {
      const g = new Uint8Array(this.buf.length * 2);
      g.set(this.buf);
      this.buf = g;
    }
    this.buf[this.n++] = b;
  }

  /** The chunk's bytes; the encoder is spent afterwards. */
  finish(): Uint8Array {
    if (this.done) codecFail('BitEncoder.finish called twice (use a new encoder per chunk)');
    this.done = true;
    // x1 and x2 differ in their top byte, so the next multiple of 2^24 above x1 is ≤ x2
    if (this.x1 !== 0) this.put(((this.x1 + 0xffffff) >>> 24) & 255);
    return this.buf.slice(0, this.n);
  }

  /** Bytes written so far (finish adds at most one). */
  get length(): number {
    return this.n;
  }
}

export class BitDecoder {
  private x1 = 0;
  private x2 = TWO32 - 1;
  private x = 0;
  private pos = 0;
  private past = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly where = 'CM chunk',
  ) {
    if (!(bytes instanceof Uint8Array)) codecFail(`BitDecoder: bytes must be a Uint8Array, got ${typeof bytes}`);
    for (let i = 0; i < 4; i++) this.x = this.x * 256 + this.next();
  }

  private next(): number {
    if (this.pos < this.bytes.length) return this.bytes[this.pos++]!;
    if (++this.past > TAIL)
      codecFail(`${this.where} is truncated or damaged: the decoder needs bytes past the end of its ${this.bytes.length} bytes`);
    return 0;
  }

  /** Decodes one bit coded with P(1) = p/65536 (the same p the encoder used). */
  decode(p: number): number {
    const xmid = this.x1 + Math.floor(((this.x2 - this.x1) * p) / 65536);
    let y: number;
    if (this.x <= xmid) {
      y = 1;
      this.x2 = xmid;
    } else {
      y = 0;
      this.x1 = xmid + 1;
    }
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
      this.x = (this.x * 256 + this.next()) % TWO32;
    }
    return y;
  }

  /** Bytes of the chunk not consumed yet (a fully decoded valid chunk leaves 0). */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Call after the chunk's last bit: a valid chunk has no bytes left over. */
  end(): void {
    // the encoder's last byte (if any) stands for ≥ 3 of the 4 bytes the decoder reads ahead
    const extra = this.bytes.length - this.pos + Math.max(0, TAIL - 1 - this.past);
    if (extra > 0) codecFail(`${this.where} is damaged: ${extra} of its ${this.bytes.length} bytes are left over after its last bit`);
  }
}
