// Lists of names (users, items, column names, rating texts) through the range coder: each name is
// the length of the prefix it shares with the previous name (sorted lists share a lot) and the
// rest of its UTF-8 bytes, ended by a 0 byte, each byte under adaptive counts of its order-1 and
// order-2 contexts (integer weights 1 + 2·c1 + 16·c2). One NameCoder codes every list of a file.
import type { RangeDecoder, RangeEncoder } from '../codec/rangecoder.js';
import { IntCoder, quantiseCum } from './log-model.js';

const enc8 = new TextEncoder();
const dec8 = new TextDecoder('utf-8', { fatal: true });

export class NameCoder {
  private readonly c1 = new Uint16Array(256 * 256);
  private readonly c2 = new Uint16Array(65536 * 256);
  private readonly w = new Float64Array(256);
  private readonly cum = new Uint32Array(257);
  private readonly prefix = new IntCoder(1);
  private readonly count = new IntCoder(1);

  private table(p1: number, p2: number): Uint32Array {
    const o1 = p1 * 256,
      o2 = ((p2 << 8) | p1) * 256;
    for (let s = 0; s < 256; s++) this.w[s] = 1 + 2 * this.c1[o1 + s]! + 16 * this.c2[o2 + s]!;
    return quantiseCum(this.w, 0, 256, this.cum);
  }

  private update(p1: number, p2: number, s: number): void {
    const o1 = p1 * 256,
      o2 = ((p2 << 8) | p1) * 256;
    if (this.c1[o1 + s] === 65535) for (let k = 0; k < 256; k++) this.c1[o1 + k] = this.c1[o1 + k]! >>> 1;
    if (this.c2[o2 + s] === 65535) for (let k = 0; k < 256; k++) this.c2[o2 + k] = this.c2[o2 + k]! >>> 1;
    this.c1[o1 + s]!++;
    this.c2[o2 + s]!++;
  }

  encodeList(enc: RangeEncoder, names: readonly string[]): void {
    this.count.encode(enc, names.length);
    let prev = new Uint8Array(0);
    for (const name of names) {
      const b = enc8.encode(name);
      if (b.includes(0)) throw new Error(`rec.log: the name '${name.slice(0, 40)}' holds a NUL character`);
      let L = 0;
      while (L < b.length && L < prev.length && b[L] === prev[L]) L++;
      this.prefix.encode(enc, L);
      let p1 = L > 0 ? b[L - 1]! : 0,
        p2 = L > 1 ? b[L - 2]! : 0;
      for (let i = L; i <= b.length; i++) {
        const s = i < b.length ? b[i]! : 0;
        enc.encode(this.table(p1, p2), s);
        this.update(p1, p2, s);
        p2 = p1;
        p1 = s;
      }
      prev = b;
    }
  }

  decodeList(dec: RangeDecoder, max: number, what: string): string[] {
    const n = this.count.decode(dec);
    if (n > max) throw new Error(`rec.log: the file is damaged: ${n} ${what}`);
    const out: string[] = [];
    let prev = new Uint8Array(0);
    for (let k = 0; k < n; k++) {
      const L = this.prefix.decode(dec);
      if (L > prev.length) throw new Error(`rec.log: the file is damaged (a name shares ${L} bytes with a shorter one)`);
      const bytes: number[] = Array.from(prev.subarray(0, L));
      let p1 = L > 0 ? bytes[L - 1]! : 0,
        p2 = L > 1 ? bytes[L - 2]! : 0;
      for (;;) {
        const s = dec.decode(this.table(p1, p2));
        this.update(p1, p2, s);
        if (s === 0) break;
        if (bytes.length >= 1 << 16) throw new Error('rec.log: the file is damaged (a name of over 64 KiB)');
        bytes.push(s);
        p2 = p1;
        p1 = s;
      }
      prev = Uint8Array.from(bytes);
      out.push(dec8.decode(prev));
    }
    return out;
  }
}
