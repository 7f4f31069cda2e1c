// The interaction stream of a .slimr file: per user (sorted), its rows in canonical order, each
// row's item coded under a mixture of the model's distribution over the items and adaptive counts,
// then its rating and timestamp. The encoder and the decoder run this same code, symbol by symbol.
//   - before every item but the first: a stop flag (adaptive, context = items so far, ≤ 15);
//   - the item j, a dictionary index, as two base-256 digits (block of 256, then the index in it);
//     candidates: without timestamps rows are sorted by item, so j > the previous item; with
//     timestamps any item the user has not had yet. Weight of a candidate:
//       1 + ⌊w_j·λ·2^16/Σw⌋ + ⌊(2·count_j + 1)·(256 − λ)·2^16/Σ(2·count + 1)⌋
//     with w_j = EXP[q_j] the model's integer weight (ItemScorer, history = the user's earlier rows)
//     and count_j how often j was coded before (in any user);
//   - the rating: adaptive over the rating texts, context = the user's previous rating;
//   - the timestamp: t − the user's previous (≥ 0), the first of a user zigzag(t − previous user's first).
import type { RangeDecoder, RangeEncoder } from '../codec/rangecoder.js';
import type { CanonLog } from './log-canon.js';
import { AdaptiveSymbols, IntCoder, idiv, quantiseCum, type ItemScorer } from './log-model.js';

export interface StreamParams {
  /** Inverse temperature of the model, tau/64 (1..255). */
  tau: number;
  /** The model's share of the mixture, lambda/256 (0..255). */
  lambda: number;
}

const zig = (x: number) => (x >= 0 ? 2 * x : -2 * x - 1);
const unzig = (z: number) => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** The state both sides keep while coding rows. */
export class RowCoder {
  private readonly count: Float64Array;
  private readonly F: Float64Array;
  private readonly G = new Float64Array(256);
  private readonly cum = new Uint32Array(257);
  private readonly wm: Float64Array;
  private readonly seen: Uint8Array;
  private readonly seenModel: Uint8Array;
  private readonly stop = new AdaptiveSymbols(2, 16);
  private readonly rating?: AdaptiveSymbols;
  private readonly time = new IntCoder(2);
  private readonly blocks: number;
  private firstTime = 0;

  constructor(
    private readonly nDict: number,
    /** Model row of each dictionary item (−1: not in the model). */
    private readonly modelOf: Int32Array,
    private readonly scorer: ItemScorer | undefined,
    private readonly p: StreamParams,
    private readonly timed: boolean,
    nRatings: number,
  ) {
    if (nDict > 65536) throw new Error(`rec.log: ${nDict} items: the coder handles at most 65,536`);
    this.count = new Float64Array(nDict);
    this.F = new Float64Array(nDict);
    this.blocks = Math.ceil(nDict / 256);
    const nM = scorer ? scorer.m.nM : 0;
    this.wm = new Float64Array(nM);
    this.seen = new Uint8Array(nDict);
    this.seenModel = new Uint8Array(nM);
    if (nRatings > 0) this.rating = new AdaptiveSymbols(nRatings, nRatings + 1);
  }

  /** Fills F with the candidates' integer weights and G with the block sums. */
  private weights(prev: number): void {
    const { F, G, count, modelOf, scorer } = this;
    const from = this.timed ? 0 : prev + 1;
    let mFrom = 0;
    if (scorer && !this.timed) while (mFrom < this.wm.length && this.modelRow(mFrom) <= prev) mFrom++;
    const W = scorer ? scorer.weights(this.p.tau, mFrom, this.timed ? this.seenModel : undefined, this.wm) : 0;
    let C = 0;
    for (let j = from; j < this.nDict; j++) if (!this.seen[j]) C += 2 * count[j]! + 1;
    const A = this.p.lambda * 65536,
      B = (256 - this.p.lambda) * 65536;
    F.fill(0, 0, from);
    G.fill(0);
    for (let j = from; j < this.nDict; j++) {
      if (this.seen[j]) {
        F[j] = 0;
        continue;
      }
      const r = modelOf[j]!;
      let f = 1 + idiv((2 * count[j]! + 1) * (W > 0 ? B : A + B), C);
      if (W > 0 && r >= 0) f += idiv(this.wm[r]! * A, W);
      F[j] = f;
      G[j >>> 8]! += f;
    }
  }

  private dictOfModel?: Int32Array;
  private modelRow(r: number): number {
    if (!this.dictOfModel) {
      this.dictOfModel = new Int32Array(this.wm.length);
      this.modelOf.forEach((m, j) => {
        if (m >= 0) this.dictOfModel![m] = j;
      });
    }
    return this.dictOfModel[r]!;
  }

  private begin(): void {
    this.scorer?.reset();
  }

  private after(j: number): void {
    this.count[j]!++;
    if (this.timed) {
      this.seen[j] = 1;
      if (this.modelOf[j]! >= 0) this.seenModel[this.modelOf[j]!] = 1;
    }
    if (this.modelOf[j]! >= 0) this.scorer?.add(this.modelOf[j]!);
  }

  private end(items: ArrayLike<number>): void {
    if (!this.timed) return;
    for (let k = 0; k < items.length; k++) {
      const j = items[k]!;
      this.seen[j] = 0;
      if (this.modelOf[j]! >= 0) this.seenModel[this.modelOf[j]!] = 0;
    }
  }

  private hasMore(k: number, prev: number): boolean {
    return this.timed ? k < this.nDict : prev < this.nDict - 1;
  }

  /** Codes one user's rows [a, b) of the log. */
  encodeUser(enc: RangeEncoder, c: CanonLog, a: number, b: number): void {
    this.begin();
    let prev = -1,
      prevR = this.rating ? this.rating.n : 0,
      prevT = 0;
    for (let k = 0; k < b - a; k++) {
      const j = c.item[a + k]!;
      if (k > 0 && this.hasMore(k, prev)) this.stop.encode(enc, 0, Math.min(k, 15));
      this.weights(prev);
      const hi = j >>> 8;
      enc.encode(quantiseCum(this.G, 0, this.blocks, this.cum), hi);
      enc.encode(quantiseCum(this.F, hi * 256, Math.min(256, this.nDict - hi * 256), this.cum), j - hi * 256);
      this.after(j);
      prev = j;
      if (this.rating) {
        const r = c.rating![a + k]!;
        this.rating.encode(enc, r, prevR);
        prevR = r;
      }
      if (this.timed) {
        const t = c.timestamp![a + k]!;
        if (!Number.isInteger(t) || t < 0 || t >= 2 ** 52) throw new Error(`rec.log: timestamp ${t} is not an integer in [0, 2^52)`);
        if (k === 0) {
          this.time.encode(enc, zig(t - this.firstTime), 0);
          this.firstTime = t;
        } else this.time.encode(enc, t - prevT, 1);
        prevT = t;
      }
    }
    if (this.hasMore(b - a, prev)) this.stop.encode(enc, 1, Math.min(b - a, 15));
    this.end(c.item.subarray(a, b));
  }

  /** Decodes one user's rows, appending to the arrays. */
  decodeUser(dec: RangeDecoder, items: number[], ratings: number[], times: number[]): void {
    this.begin();
    const start = items.length;
    let prev = -1,
      prevR = this.rating ? this.rating.n : 0,
      prevT = 0;
    for (let k = 0; ; k++) {
      if (k > 0 && (!this.hasMore(k, prev) || this.stop.decode(dec, Math.min(k, 15)) === 1)) break;
      this.weights(prev);
      const hi = dec.decode(quantiseCum(this.G, 0, this.blocks, this.cum));
      const j = hi * 256 + dec.decode(quantiseCum(this.F, hi * 256, Math.min(256, this.nDict - hi * 256), this.cum));
      if (!(this.F[j]! > 0)) throw new Error('rec.log: the file is damaged (an item outside the candidates)');
      items.push(j);
      this.after(j);
      prev = j;
      if (this.rating) {
        prevR = this.rating.decode(dec, prevR);
        ratings.push(prevR);
      }
      if (this.timed) {
        let t: number;
        if (k === 0) t = this.firstTime = this.firstTime + unzig(this.time.decode(dec, 0));
        else t = prevT + this.time.decode(dec, 1);
        times.push(t);
        prevT = t;
      }
    }
    this.end(items.slice(start));
  }
}
