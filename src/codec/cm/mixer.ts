// The adaptive pieces of the CM model, integer-only: StateMap (context → adaptive probability),
// Mixer (logistic mixing: a single-layer network over stretched predictions, one weight set per
// selector context) and APM (secondary estimation: refines a probability given a small context).
import { RECIP, STRETCH, SQUASH } from './tables.js';

/**
 * Context → probability of a 1, adapted with rate 1/(n + 1.5) after n updates (n ≤ limit), i.e. the
 * running frequency at first and an exponential average later.
 *   p: 22-bit probabilities (p/2^22), n: update counts.
 */
export class StateMap {
  readonly p: Int32Array;
  readonly n: Uint16Array;

  constructor(size: number, private readonly limit: number, init?: (i: number) => number) {
    this.p = new Int32Array(size);
    this.n = new Uint16Array(size);
    for (let i = 0; i < size; i++) this.p[i] = init ? init(i) : 1 << 21;
  }

  /** 12-bit probability of context i. */
  p12(i: number): number {
    return this.p[i]! >> 10;
  }

  update(i: number, y: number): void {
    const n = this.n[i]!;
    const p = this.p[i]!;
    // |target − p| < 2^22 and RECIP < 2^17: the product is an exact double; /2^16 is exact too
    this.p[i] = p + (((((y << 22) - p) * RECIP[n]!) / 65536) | 0);
    if (n < this.limit) this.n[i] = n + 1;
  }
}

/**
 * Logistic mixing: p = squash(Σ w_i·x_i / 2^16) with inputs x_i = stretched predictions (±2047) and
 * 16.16 fixed-point weights, one weight set per selector context; after the bit, every weight of the
 * selected set moves along x_i·(y − p) (online gradient descent on coding cost).
 */
export class Mixer {
  readonly x: Int32Array;
  readonly w: Int32Array;
  /** Inputs added so far for this bit. */
  nx = 0;
  private base = 0;
  private pr = 2048;
  private dot = 0;

  constructor(readonly inputs: number, readonly contexts: number, private readonly rate: number, initWeight: number) {
    this.x = new Int32Array(inputs);
    this.w = new Int32Array(inputs * contexts).fill(initWeight);
  }

  add(v: number): void {
    this.x[this.nx++] = v;
  }

  /** Mixes the added inputs with weight set `cx`; returns the stretched result (±2047). */
  mix(cx: number): number {
    const base = cx * this.inputs;
    this.base = base;
    const x = this.x, w = this.w;
    let s = 0;
    for (let i = 0; i < this.inputs; i++) s += x[i]! * w[base + i]!; // exact: |s| < 2^40
    let d = Math.floor(s / 65536);
    if (d > 2047) d = 2047;
    else if (d < -2047) d = -2047;
    this.dot = d;
    this.pr = SQUASH[d + 2048]!;
    return d;
  }

  /** The last mixed probability, 12 bits. */
  get p(): number {
    return this.pr;
  }

  get stretched(): number {
    return this.dot;
  }

  update(y: number): void {
    const err = ((y << 12) - this.pr) * this.rate;
    const x = this.x, w = this.w, base = this.base;
    for (let i = 0; i < this.inputs; i++) {
      let v = w[base + i]! + ((x[i]! * err) >> 10); // |x·err| < 2^11·2^12·rate < 2^31
      if (v > 0x7ffff0) v = 0x7ffff0;
      else if (v < -0x7ffff0) v = -0x7ffff0;
      w[base + i] = v;
    }
    this.nx = 0;
  }
}

/** The APM's starting values: squash at the 33 knots, 16 bits. */
const KNOTS = Int32Array.from({ length: 33 }, (_, j) => SQUASH[Math.min(4095, Math.max(1, (j - 16) * 128 + 2048))]! * 16);

/**
 * Adaptive probability map: per context, 33 16-bit probabilities at stretch knots −2048..2048 (step
 * 128); the output interpolates between the two knots around stretch(p), and the nearer knot learns.
 * Stored as differences from the starting values, so a fresh table is all zeros (cheap to allocate).
 */
export class APM {
  private readonly t: Int32Array;
  private idx = 0;
  private knot = 0;

  constructor(contexts: number, private readonly rate: number) {
    this.t = new Int32Array(contexts * 33);
  }

  /** Refines the 12-bit probability p in context cx; returns a 16-bit probability. */
  refine(p: number, cx: number): number {
    const s = STRETCH[p]! + 2048; // 1..4095
    const lo = s >> 7, wt = s & 127;
    const i = cx * 33 + lo;
    this.knot = lo + (wt >> 6);
    this.idx = i + (wt >> 6);
    return ((this.t[i]! + KNOTS[lo]!) * (128 - wt) + (this.t[i + 1]! + KNOTS[lo + 1]!) * wt) >> 7;
  }

  update(y: number): void {
    const k = KNOTS[this.knot]!;
    const v = this.t[this.idx]! + k;
    this.t[this.idx] = v + ((((y << 16) + (y << this.rate) - y - y) - v) >> this.rate) - k;
  }
}
