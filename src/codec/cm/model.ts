// CmModel: a deterministic lpaq/paq-style context-mixing model of bytes, bit by bit (MSB first).
//
// Per bit, the mixer's inputs (all stretched probabilities, ±2047 = ±8 nats):
//   - orders 1, 2, 3, 4, 6 and the current word, shared by all streams, and orders 2, 4 and the word
//     of the byte's own stream (the stream's number hashed in): the bit-history state of the
//     context's tree node, through a per-context StateMap (state → adaptive probability);
//   - order 0: an adaptive probability per partial byte;
//   - the match model: an adaptive probability per (match length, predicted bit), and ± a constant
//     by length, while the current byte still agrees with the predicted one;
//   - the external model (e.g. the GPT): p(bit | bits so far) derived exactly from its integer
//     cumulative table, as stretch(p) and a second copy scaled by the table's confidence;
//   - a bias.
// The mixer's weight set is chosen by the partial byte; two APMs (by partial byte, and by partial
// byte × previous byte) refine the result, and the coder gets a 16-bit probability.
//
// Streams: the model codes `streams` interleaved byte streams; each keeps its own history (last
// bytes, word, match). The shared contexts pool every stream's statistics; the per-stream ones keep
// what this stream did recently — interleaving 64 streams cost 0.15 bits/byte on 1 MB of the KJV with
// shared contexts only (1.426 vs 1.280 in one stream), 0.06 with them (codec 4). Memory: 9 slot
// tables of 2^memoryLog2 bytes, a match history of 2^memoryLog2 bytes and a match table of
// 2^(memoryLog2 − 2) int32 — with the default memoryLog2 = 22, 9·4 + 4 + 4 = 44 MiB, plus ~4.5 MiB of
// StateMaps, mixer and APMs.
import { codecFail } from '../errors.js';
import { hash2 } from './hash.js';
import { APM, Mixer, StateMap } from './mixer.js';
import { MatchModel, SlotTable } from './predictors.js';
import { STATES, STRETCH } from './tables.js';

export interface CmOptions {
  /** log2 of each hashed table's bytes (default 22: about 49 MiB in all); 16..28. */
  memoryLog2?: number;
  /**
   * Starting mixer weight (16.16) of the external model's two inputs (default 65536/4, as every
   * input: codec 4). A fixed pretrained model is worth trusting from the first byte (codec 5).
   */
  externalWeight?: number;
  /**
   * The final refinement (codec 6 and later: 6): 5 = codec 4/5's two APMs; 6 adds two more (order 1
   * exact, order 3 hashed) and a match-state APM, see docs/codec-v5.md "Codec 6". Default 5.
   */
  refine?: 5 | 6;
}

/** Hashed contexts: orders 1, 2, 3, 4, 6 and the word (shared); orders 2, 4 and the word of the stream. */
const ORDERS = 9;
const INPUTS = ORDERS + 1 + 2 + 2 + 1;
/** Index of the external model's first input. */
const EXT = ORDERS + 1 + 2;

export class CmModel {
  readonly streams: number;
  readonly memoryLog2: number;
  private readonly tables: SlotTable[] = [];
  private readonly sm: StateMap;
  private readonly order0: StateMap;
  private readonly matchSm: StateMap;
  private readonly match: MatchModel;
  private readonly mixer: Mixer;
  private readonly apm1: APM;
  private readonly apm2: APM;
  private readonly refine: 5 | 6;
  private readonly apm3: APM | null = null;
  private readonly apm4: APM | null = null;
  // per stream
  private readonly sC4: Int32Array;
  private readonly sC8: Int32Array;
  private readonly sWord: Int32Array;
  private readonly sWord1: Int32Array;
  // the byte being coded
  private stream = 0;
  private c4 = 0;
  private c8 = 0;
  private word = 0;
  private word1 = 0;
  private c0 = 1;
  private bit = 0;
  private nib = 1;
  private cum: Uint32Array | null = null;
  private mLen = 0;
  private mByte = 0;
  private mCx = 0;
  private mLq = 0;
  private readonly hashes = new Int32Array(ORDERS);
  private readonly slots = new Int32Array(ORDERS);
  private readonly smIdx = new Int32Array(ORDERS);
  private pr = 32768;

  constructor(streams: number, opts: CmOptions = {}) {
    if (!Number.isInteger(streams) || streams < 1 || streams > 65536) codecFail(`CmModel: streams must be an integer in [1, 65536], got ${streams}`);
    const bits = opts.memoryLog2 ?? 22;
    if (!Number.isInteger(bits) || bits < 16 || bits > 28) codecFail(`CmModel: memoryLog2 must be an integer in [16, 28], got ${bits}`);
    this.streams = streams;
    this.memoryLog2 = bits;
    for (let i = 0; i < ORDERS; i++) this.tables.push(new SlotTable(bits));
    const n0 = STATES.n0,
      n1 = STATES.n1;
    this.sm = new StateMap(ORDERS * 256, 1023, (i) => {
      const s = i & 255;
      if (s >= STATES.count) return 1 << 21;
      return Math.floor(((2 * n1[s]! + 1) * 4194304) / (2 * (n0[s]! + n1[s]!) + 2));
    });
    this.order0 = new StateMap(256, 255);
    this.matchSm = new StateMap(64 * 2, 1023);
    this.match = new MatchModel(streams, bits, bits - 2);
    this.mixer = new Mixer(INPUTS, [256, 64 * 8, 256 * 8], 8, 6, 2);
    if (opts.externalWeight !== undefined) for (const i of [EXT, EXT + 1]) this.mixer.initWeight(i, opts.externalWeight);
    this.apm1 = new APM(256, 7);
    this.refine = opts.refine ?? 5;
    this.apm2 = new APM(65536, this.refine === 6 ? 5 : 7);
    if (this.refine !== 5 && this.refine !== 6) codecFail(`CmModel: refine must be 5 or 6, got ${String(opts.refine)}`);
    if (this.refine === 6) {
      this.apm3 = new APM(65536, 5);
      this.apm4 = new APM(65536, 5);
    }
    this.sC4 = new Int32Array(streams);
    this.sC8 = new Int32Array(streams);
    this.sWord = new Int32Array(streams);
    this.sWord1 = new Int32Array(streams);
  }

  /** Starts coding a byte of stream `stream` with the external table `cum` (or null). */
  begin(stream: number, cum: Uint32Array | null): void {
    if (!Number.isInteger(stream) || stream < 0 || stream >= this.streams)
      codecFail(`CM: stream must be an integer in [0, ${this.streams}), got ${stream}`);
    if (cum !== null && (!(cum instanceof Uint32Array) || cum.length < 257 || cum[0] !== 0 || cum[256] !== 65536)) {
      codecFail('CM: cum must be a Uint32Array(257) with cum[0] = 0 and cum[256] = 65536 (from frequencies()), or null');
    }
    this.stream = stream;
    this.cum = cum;
    const c4 = (this.c4 = this.sC4[stream]!);
    const c8 = (this.c8 = this.sC8[stream]!);
    this.word = this.sWord[stream]!;
    this.word1 = this.sWord1[stream]!;
    this.c0 = 1;
    this.bit = 0;
    const h = this.hashes;
    h[0] = hash2(c4 & 0xff, 1);
    h[1] = hash2(c4 & 0xffff, 2);
    h[2] = hash2(c4 & 0xffffff, 3);
    h[3] = hash2(c4, 4);
    h[4] = hash2(c4, (c8 & 0xffff) + 0x60000);
    h[5] = hash2(this.word, this.word1 + 0x70000);
    h[6] = hash2(c4 & 0xffff, stream + 0x80000);
    h[7] = hash2(c4, stream + 0x90000);
    h[8] = hash2(this.word, stream + 0xa0000);
    this.setSlots();
    this.mLen = this.match.length(stream);
    this.mByte = this.mLen > 0 ? this.match.expected(stream) : 0;
  }

  private setSlots(): void {
    const h = this.hashes,
      extra = this.bit === 0 ? 0 : hash2(this.c0, 0x1234);
    for (let i = 0; i < ORDERS; i++) this.slots[i] = this.tables[i]!.find(h[i]! ^ extra);
    this.nib = 1;
  }

  /** P(next bit = 1), 16 bits, in [16, 65520]. */
  predict(): number {
    const m = this.mixer;
    const sm = this.sm.p;
    for (let i = 0; i < ORDERS; i++) {
      const s = this.tables[i]!.t[this.slots[i]! + this.nib]!;
      const k = (i << 8) | s;
      this.smIdx[i] = k;
      m.add(STRETCH[sm[k]! >> 10]!);
    }
    m.add(STRETCH[this.order0.p12(this.c0)]!);
    // match: while the current byte agrees with the predicted one so far
    if (this.mLen > 0 && (this.mByte | 256) >> (8 - this.bit) === this.c0) {
      const eb = (this.mByte >> (7 - this.bit)) & 1;
      const lq = this.mLen < 16 ? this.mLen : this.mLen < 32 ? 16 + ((this.mLen - 16) >> 2) : this.mLen < 256 ? 20 + (this.mLen >> 5) : 31;
      this.mCx = (lq << 1) | eb;
      this.mLq = lq * 2 + eb;
      m.add(STRETCH[this.matchSm.p12(this.mCx)]!);
      m.add(eb ? lq << 5 : -(lq << 5));
    } else {
      this.mCx = -1;
      this.mLq = 0;
      m.add(0);
      m.add(0);
    }
    // external model: p(bit = 1 | bits so far) = mass of the upper half of the remaining range
    const cum = this.cum;
    if (cum !== null) {
      const shift = 8 - this.bit;
      const lo = (this.c0 << shift) - 256,
        hi = lo + (1 << shift),
        mid = lo + (1 << (shift - 1));
      const n = cum[hi]! - cum[lo]!;
      let p = n > 0 ? Math.floor(((cum[hi]! - cum[mid]!) * 4096) / n) : 2048;
      if (p < 1) p = 1;
      else if (p > 4095) p = 4095;
      const st = STRETCH[p]!;
      m.add(st);
      m.add((st * (n >> 10)) >> 6); // scaled by the share of the table still in play
    } else {
      m.add(0);
      m.add(0);
    }
    m.add(256);
    m.select(0, this.c0);
    m.select(1, (this.mLq << 3) | this.bit);
    m.select(2, ((this.c4 & 0xff) << 3) | this.bit);
    const p12 = m.mix(this.bit);
    const a1 = this.apm1.refine(p12, this.c0);
    const a2 = this.apm2.refine(
      p12,
      this.refine === 6 ? (hash2(this.c4 & 0xffff, 0x5353) ^ this.c0) & 0xffff : (this.c0 | (hash2(this.c4 & 0xffff, 0x5353) << 8)) & 0xffff,
    );
    let p = this.refine === 5 ? ((p12 << 4) + a1 + 2 * a2 + 2) >> 2 : this.refine6(p12, a1, a2);
    if (p < 16) p = 16;
    else if (p > 65520) p = 65520;
    this.pr = p;
    return p;
  }

  /**
   * Codec 6: two more APMs — order 1 exact (partial byte × previous byte) and order 3 hashed with the
   * partial byte — averaged with the mixer's p and the first two: (p + a1 + a2 + 2·a3 + 3·a4) / 8.
   */
  private refine6(p12: number, a1: number, a2: number): number {
    const a3 = this.apm3!.refine(p12, this.c0 | ((this.c4 & 0xff) << 8));
    const a4 = this.apm4!.refine(p12, (hash2(this.c4 & 0xffffff, 0x5454) ^ this.c0) & 0xffff);
    return ((p12 << 4) + a1 + a2 + 2 * a3 + 3 * a4 + 4) >> 3;
  }

  /** Learns bit y (the bit just coded with predict()'s probability). */
  update(y: number): void {
    this.mixer.update(y);
    this.apm1.update(y);
    this.apm2.update(y);
    if (this.refine === 6) {
      this.apm3!.update(y);
      this.apm4!.update(y);
    }
    const next = STATES.next;
    for (let i = 0; i < ORDERS; i++) {
      const t = this.tables[i]!.t,
        at = this.slots[i]! + this.nib;
      t[at] = next[(t[at]! << 1) | y]!;
      this.sm.update(this.smIdx[i]!, y);
    }
    this.order0.update(this.c0, y);
    if (this.mCx >= 0) this.matchSm.update(this.mCx, y);
    this.c0 = (this.c0 << 1) | y;
    this.nib = (this.nib << 1) | y;
    this.bit++;
    if (this.bit === 4) this.setSlots();
    else if (this.bit === 8) this.endByte(this.c0 & 255);
  }

  private endByte(c: number): void {
    const s = this.stream;
    this.c8 = (this.c8 << 8) | (this.c4 >>> 24);
    this.c4 = (this.c4 << 8) | c;
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (letter) this.word = hash2(this.word, c | 32) | 0;
    else if (this.word !== 0) {
      this.word1 = this.word;
      this.word = 0;
    }
    this.sC4[s] = this.c4;
    this.sC8[s] = this.c8;
    this.sWord[s] = this.word;
    this.sWord1[s] = this.word1;
    this.match.update(s, c, hash2(this.c4, this.c8 & 0xffff));
    this.c0 = 1;
    this.bit = 0;
  }

  /** The last predicted probability (16 bits). */
  get p(): number {
    return this.pr;
  }
}
