// The integer side of the behaviour-log coder (src/rec/log-codec.ts): everything a decoder on
// another machine must reproduce to the bit computes here in integers (or in doubles that only
// ever hold integers below 2^53, where +, −, × and Math.floor/round are exact on every engine).
//   - quantiseCum: non-negative integer weights of ≤ 256 symbols → the 2^16-total cumulative table
//     of the project's range coder (src/codec/rangecoder.ts); zero weight = zero width (never coded).
//   - AdaptiveSymbols: counts per context (+1 pseudo-count), the simple adaptive models.
//   - ItemScorer: a rec:dae model's tables quantised to integers; score(history, j) =
//     mean over the history of W[h]·V[j] + b[j] as an exact integer, turned into an integer weight
//     EXP[q] ≈ 2^28·e^(−q/256) by the same integer recurrence as src/codec/frequencies.ts.
import { FREQ_TOTAL } from '../codec/frequencies.js';
import type { RangeDecoder, RangeEncoder } from '../codec/rangecoder.js';

/** Quantisation steps per nat; scores more than 24 nats below the best get the floor weight. */
const STEPS = 256;
export const MAX_Q = 24 * STEPS;
/** round(2^24 · e^(−1/256)), the literal of src/codec/frequencies.ts (no Math.exp: it is not exact). */
const STEP_FACTOR = 16711808;
export const EXP = (() => {
  const t = new Float64Array(MAX_Q + 1);
  t[0] = 2 ** 28;
  for (let q = 1; q <= MAX_Q; q++) t[q] = Math.floor((t[q - 1]! * STEP_FACTOR) / 2 ** 24 + 0.5);
  return t;
})();

/** floor(a / b) for integers a ≥ 0, b ≥ 1 below 2^53, exactly. */
export function idiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/**
 * Fills cum (length 257) from the weights w[off .. off+n) (integers ≥ 0, sum < 2^37, at least one
 * positive, n ≤ 256): freq = 0 for weight 0, else 1 + ⌊w·(2^16 − nz)/W⌋, the remainder to the largest.
 */
export function quantiseCum(w: ArrayLike<number>, off: number, n: number, cum: Uint32Array): Uint32Array {
  let total = 0,
    nz = 0,
    top = -1,
    topW = -1;
  for (let s = 0; s < n; s++) {
    const x = w[off + s]!;
    if (x > 0) {
      total += x;
      nz++;
      if (x > topW) {
        topW = x;
        top = s;
      }
    }
  }
  if (nz === 0) throw new Error('rec.log: no codable symbol (an internal error)');
  const spread = FREQ_TOTAL - nz;
  let used = 0;
  cum[0] = 0;
  for (let s = 0; s < 256; s++) {
    const x = s < n ? w[off + s]! : 0;
    const f = x > 0 ? 1 + idiv(x * spread, total) : 0;
    cum[s + 1] = f;
    used += f;
  }
  cum[top + 1]! += FREQ_TOTAL - used;
  for (let s = 0; s < 256; s++) cum[s + 1]! += cum[s]!;
  return cum;
}

/** n ≤ 256 symbols, counts per context, halved at 2^16. */
export class AdaptiveSymbols {
  private readonly c: Uint32Array;
  private readonly cum = new Uint32Array(257);
  constructor(
    readonly n: number,
    contexts = 1,
    private readonly inc = 2,
  ) {
    this.c = new Uint32Array(n * contexts).fill(1);
  }
  private table(ctx: number): Uint32Array {
    return quantiseCum(this.c, ctx * this.n, this.n, this.cum);
  }
  private update(ctx: number, s: number): void {
    const o = ctx * this.n;
    this.c[o + s]! += this.inc;
    if (this.c[o + s]! > 65536) for (let k = 0; k < this.n; k++) this.c[o + k] = (this.c[o + k]! + 1) >>> 1;
  }
  encode(enc: RangeEncoder, s: number, ctx = 0): void {
    enc.encode(this.table(ctx), s);
    this.update(ctx, s);
  }
  decode(dec: RangeDecoder, ctx = 0): number {
    const s = dec.decode(this.table(ctx));
    if (s >= this.n) throw new Error('rec.log: a symbol beyond the alphabet (damaged stream)');
    this.update(ctx, s);
    return s;
  }
}

const uniformCum = (bits: number) => {
  const w = new Float64Array(1 << bits).fill(1);
  return quantiseCum(w, 0, 1 << bits, new Uint32Array(257));
};
const UNIFORM = Array.from({ length: 9 }, (_, b) => (b === 0 ? new Uint32Array(0) : uniformCum(b)));

/** Non-negative integers < 2^53: the bit length (adaptive, per context), ≤ 8 top bits (adaptive), the rest raw. */
export class IntCoder {
  private readonly len: AdaptiveSymbols;
  private readonly top: AdaptiveSymbols[] = [];
  constructor(readonly contexts = 1) {
    this.len = new AdaptiveSymbols(54, contexts);
    for (let nb = 0; nb < 54; nb++) this.top.push(new AdaptiveSymbols(1 << Math.min(8, Math.max(0, nb - 1))));
  }
  encode(enc: RangeEncoder, x: number, ctx = 0): void {
    if (!Number.isInteger(x) || x < 0 || x >= 2 ** 53) throw new Error(`rec.log: ${x} is not an integer in [0, 2^53)`);
    let nb = 0;
    while (nb < 53 && 2 ** nb <= x) nb++; // bit length, exactly (no Math.log2)
    this.len.encode(enc, nb, ctx);
    if (nb <= 1) return;
    let rest = x - 2 ** (nb - 1); // nb − 1 bits
    const hb = Math.min(8, nb - 1);
    const lowBits = nb - 1 - hb;
    const hi = Math.floor(rest / 2 ** lowBits);
    this.top[nb]!.encode(enc, hi);
    rest -= hi * 2 ** lowBits;
    for (let left = lowBits; left > 0;) {
      const b = Math.min(8, left);
      left -= b;
      const d = Math.floor(rest / 2 ** left);
      rest -= d * 2 ** left;
      enc.encode(UNIFORM[b]!, d);
    }
  }
  decode(dec: RangeDecoder, ctx = 0): number {
    const nb = this.len.decode(dec, ctx);
    if (nb <= 1) return nb;
    const hb = Math.min(8, nb - 1);
    let x = 2 ** (nb - 1) + this.top[nb]!.decode(dec) * 2 ** (nb - 1 - hb);
    for (let left = nb - 1 - hb; left > 0;) {
      const b = Math.min(8, left);
      left -= b;
      x += dec.decode(UNIFORM[b]!) * 2 ** left;
    }
    return x;
  }
}

/** The float tables of a rec:dae model: W (input items, nM × D), V (output items, nM × D), b (nM). */
export interface DaeTables {
  nM: number;
  D: number;
  W: Float32Array;
  V: Float32Array;
  b: Float32Array;
}

/** Most history items a score sums (past it, later items are not added): keeps every product < 2^53. */
export const MAX_HISTORY = 65535;
/** P = W·Vᵀ is precomputed (Int32, nM² entries) up to this size; beyond, each step is nM·D products. */
const MAX_PAIR_TABLE = 2 ** 26;

/**
 * Integer scores of a rec:dae model. Values are quantised to round(x·2^S) with |·| < 2^10 (S ≤ 13,
 * chosen from the tables' largest magnitude), the bias to round(b·2^2S) (|·| < 2^35); for a history
 * of k model items the score numerator is Z[j] = Σ_h W[h]·V[j] + k·b[j] over 2^2S·k — exact integers.
 */
export class ItemScorer {
  readonly S: number;
  private readonly Wq: Int32Array;
  private readonly Vq: Int32Array;
  private readonly bq: Float64Array;
  private readonly P?: Int32Array;
  private readonly t: Float64Array;
  private readonly hsum: Float64Array;
  k = 0;

  /** pairTable: false forces the direct path (tests compare the two). */
  constructor(
    readonly m: DaeTables,
    pairTable = true,
  ) {
    let maxAbs = 0,
      maxB = 0;
    for (const a of [m.W, m.V]) for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]!));
    for (let i = 0; i < m.b.length; i++) maxB = Math.max(maxB, Math.abs(m.b[i]!));
    if (!(maxAbs < 2 ** 40) || !(maxB < 2 ** 40)) throw new Error('rec.log: the model holds non-finite or huge values');
    let S = 13;
    while (S > 0 && (maxAbs * 2 ** S >= 1023 || maxB * 2 ** (2 * S) >= 2 ** 35)) S--;
    if (maxAbs >= 1023 || maxB >= 2 ** 35)
      throw new Error(`rec.log: the model's values are too large to score in integers (max |w| ${maxAbs}, |b| ${maxB})`);
    this.S = S;
    const q = (a: Float32Array, sc: number) => Int32Array.from(a, (x) => Math.round(x * sc));
    this.Wq = q(m.W, 2 ** S);
    this.Vq = q(m.V, 2 ** S);
    this.bq = Float64Array.from(m.b, (x) => Math.round(x * 2 ** (2 * S)));
    this.t = new Float64Array(m.nM);
    this.hsum = new Float64Array(m.D);
    if (pairTable && m.nM * m.nM <= MAX_PAIR_TABLE) {
      const { nM, D } = m;
      const P = new Int32Array(nM * nM);
      for (let h = 0; h < nM; h++)
        for (let j = 0; j < nM; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += this.Wq[h * D + d]! * this.Vq[j * D + d]!;
          P[h * nM + j] = s;
        }
      this.P = P;
    }
  }

  reset(): void {
    this.t.fill(0);
    this.hsum.fill(0);
    this.k = 0;
  }

  /** Adds model item h to the history. */
  add(h: number): void {
    if (this.k >= MAX_HISTORY) return;
    this.k++;
    const { nM, D } = this.m;
    if (this.P) for (let j = 0, o = h * nM; j < nM; j++) this.t[j]! += this.P[o + j]!;
    else for (let d = 0; d < D; d++) this.hsum[d]! += this.Wq[h * D + d]!;
  }

  /**
   * Integer weights EXP[q] of the model items [from, nM) into w (0 where skip[j]), where
   * q = ⌊256·(β·(smax − s))⌋ with β = tau/64 (tau in 1..255), smax over the scored items. Returns Σ w.
   */
  weights(tau: number, from: number, skip: Uint8Array | undefined, w: Float64Array): number {
    const { nM, D } = this.m;
    const k = Math.max(1, this.k);
    const Z = w; // scores first, weights in place
    let zmax = -Infinity;
    for (let j = from; j < nM; j++) {
      if (skip && skip[j]) continue;
      let t = this.t[j]!;
      if (!this.P && this.k > 0) {
        t = 0;
        for (let d = 0; d < D; d++) t += this.hsum[d]! * this.Vq[j * D + d]!;
      }
      const z = t + this.k * this.bq[j]! + (this.k === 0 ? this.bq[j]! : 0);
      Z[j] = z;
      if (z > zmax) zmax = z;
    }
    const den = k * 2 ** (2 * this.S);
    const t4 = 4 * tau;
    let total = 0;
    for (let j = from; j < nM; j++) {
      if (skip && skip[j]) {
        w[j] = 0;
        continue;
      }
      const diff = zmax - Z[j]!;
      const a = idiv(diff, den);
      let q = MAX_Q;
      if (a * t4 < MAX_Q) q = Math.min(MAX_Q, a * t4 + idiv((diff - a * den) * t4, den));
      w[j] = EXP[q]!;
      total += w[j]!;
    }
    return total;
  }
}
