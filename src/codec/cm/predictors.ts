// The CM model's predictors over byte history: hashed context slots holding bit-history states, and
// a match model that follows the longest recent repeat of the current context.
//
// Slots. Each context (order-n bytes, or the current word) is hashed once per nibble; the hash picks
// a 16-byte slot: byte 0 a checksum (the hash's top 8 bits, to notice most collisions), bytes 1..15
// the bit-history states of the nibble's 15 binary-tree nodes (node 1 = the nibble's first bit, then
// 2·node + bit). Three neighbouring slots (one 64-byte cache line) are probed; on a miss the one
// whose first node has seen least (lowest state number) is cleared and taken.
//
// Match model. Every stream keeps its own circular history of 2^k bytes (one region of a shared
// buffer); a hash of the last MINLEN bytes → the global position after them, shared by all streams,
// so a stream can follow a repeat of text another stream coded. The match length is verified
// backwards on lookup (up to MAXCHECK bytes) and grows while predictions come true.
import { hash2 } from './hash.js';

export const SLOT_BYTES = 16;

/** A table of 16-byte slots, 2^bits bytes. */
export class SlotTable {
  readonly t: Uint8Array;
  private readonly mask: number;

  constructor(bits: number) {
    this.t = new Uint8Array(1 << bits);
    this.mask = (1 << (bits - 4)) - 1;
  }

  /** Byte offset of the slot for 32-bit hash h (found, or cleared and claimed). */
  find(h: number): number {
    const t = this.t;
    const chk = h >>> 24;
    const a = (h & this.mask) << 4;
    if (t[a] === chk) return a;
    const b = a ^ 16;
    if (t[b] === chk) return b;
    const c = a ^ 32;
    if (t[c] === chk) return c;
    let v = a;
    if (t[b + 1]! < t[v + 1]!) v = b;
    if (t[c + 1]! < t[v + 1]!) v = c;
    t.fill(0, v, v + SLOT_BYTES);
    t[v] = chk;
    return v;
  }
}

export const MINLEN = 6;
const MAXCHECK = 32;
export const MAXLEN = 65535;

export class MatchModel {
  /** All streams' histories: stream s owns [s·R, (s+1)·R), R = 2^regionBits. */
  readonly hist: Uint8Array;
  private readonly regionMask: number;
  /** Context hash → global position + 1 (0: none). */
  private readonly table: Int32Array;
  private readonly tableMask: number;
  /** Per stream: bytes written, match pointer (global position of the predicted byte), length. */
  private readonly written: Float64Array;
  private readonly ptr: Int32Array;
  private readonly len: Int32Array;

  constructor(streams: number, histBits: number, tableBits: number) {
    let rb = histBits;
    while (rb > 10 && streams * 2 ** rb > 2 ** histBits) rb--;
    this.hist = new Uint8Array(streams * (1 << rb));
    this.regionMask = (1 << rb) - 1;
    this.table = new Int32Array(1 << tableBits);
    this.tableMask = (1 << tableBits) - 1;
    this.written = new Float64Array(streams);
    this.ptr = new Int32Array(streams);
    this.len = new Int32Array(streams);
  }

  /** Match length of stream s (0: no prediction). */
  length(s: number): number {
    return this.len[s]!;
  }

  /** The byte stream s's match predicts (meaningful when length(s) > 0). */
  expected(s: number): number {
    return this.hist[this.ptr[s]!]!;
  }

  /** Records byte c of stream s; `ctx` is the hash of the stream's last MINLEN bytes including c. */
  update(s: number, c: number, ctx: number): void {
    const hist = this.hist,
      mask = this.regionMask;
    const base = s * (mask + 1);
    const n = this.written[s]!;
    const here = base + (n % (mask + 1));
    let len = this.len[s]!;
    if (len > 0) {
      const p = this.ptr[s]!;
      if (hist[p] === c) {
        if (len < MAXLEN) len++;
        this.ptr[s] = (p & ~mask) + ((p + 1) & mask);
      } else len = 0;
    }
    hist[here] = c;
    this.written[s] = n + 1;
    const next = base + ((n + 1) % (mask + 1));
    const slot = hash2(ctx, 0x4d41) & this.tableMask;
    if (len === 0 && n + 1 >= MINLEN) {
      const cand = this.table[slot]! - 1;
      if (cand >= 0 && cand !== next) {
        // verify backwards: the bytes before cand against the bytes before next
        const cb = cand & ~mask;
        let k = 0;
        const limit = Math.min(MAXCHECK, n + 1);
        while (k < limit && hist[cb + ((cand - 1 - k) & mask)] === hist[base + ((next - 1 - k) & mask)]) k++;
        if (k >= MINLEN) {
          len = k;
          this.ptr[s] = cand;
        }
      }
    }
    this.len[s] = len;
    this.table[slot] = next + 1;
  }
}
