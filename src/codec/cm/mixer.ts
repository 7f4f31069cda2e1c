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

  constructor(
    size: number,
    private readonly limit: number,
    init?: (i: number) => number,
  ) {
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
 * Logistic mixing in two layers: K weight sets (each chosen by its own selector context) each mix the
 * inputs x_i (stretched predictions, ±2047) into d_k = Σ w_i·x_i / 2^16 with 16.16 fixed-point
 * weights; a final small set (chosen by `final` context) mixes the d_k the same way. After the bit,
 * every used set moves its weights along x_i·(y − p) of its own output (online gradient descent on
 * coding cost).
 */
export class Mixer {
  readonly x: Int32Array;
  private readonly w: Int32Array[];
  private readonly base: Int32Array;
  private readonly d: Int32Array;
  private readonly pk: Int32Array;
  private readonly w2: Int32Array;
  private base2 = 0;
  /** Inputs added so far for this bit. */
  nx = 0;
  private pr = 2048;

  /**
   * inputs: x's length; sets[k]: number of selector contexts of weight set k; finals: contexts of
   * the final layer; rate, rate2: learning rates in 1/16 units.
   */
  constructor(
    readonly inputs: number,
    sets: number[],
    finals: number,
    private readonly rate: number,
    private readonly rate2: number,
  ) {
    this.x = new Int32Array(inputs);
    this.w = sets.map((n) => new Int32Array(inputs * n).fill(Math.floor(65536 / 4)));
    this.base = new Int32Array(sets.length);
    this.d = new Int32Array(sets.length);
    this.pk = new Int32Array(sets.length);
    this.w2 = new Int32Array(sets.length * finals).fill(Math.floor(65536 / sets.length));
  }

  /** Sets input i's starting weight (16.16) in every set of the first layer (before any mixing). */
  initWeight(i: number, w: number): void {
    for (const ws of this.w) for (let j = i; j < ws.length; j += this.inputs) ws[j] = w;
  }

  add(v: number): void {
    this.x[this.nx++] = v;
  }

  /** Chooses context cx for weight set k (before mix). */
  select(k: number, cx: number): void {
    this.base[k] = cx * this.inputs;
  }

  /** Mixes the added inputs; returns the 12-bit probability. */
  mix(final: number): number {
    const x = this.x,
      n = this.inputs,
      K = this.w.length;
    let s2 = 0;
    const b2 = (this.base2 = final * K);
    for (let k = 0; k < K; k++) {
      const w = this.w[k]!,
        base = this.base[k]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i]! * w[base + i]!; // exact: |s| < 2^40
      let d = Math.floor(s / 65536);
      if (d > 2047) d = 2047;
      else if (d < -2047) d = -2047;
      this.d[k] = d;
      this.pk[k] = SQUASH[d + 2048]!;
      s2 += d * this.w2[b2 + k]!;
    }
    let d = Math.floor(s2 / 65536);
    if (d > 2047) d = 2047;
    else if (d < -2047) d = -2047;
    return (this.pr = SQUASH[d + 2048]!);
  }

  /** The last mixed probability, 12 bits. */
  get p(): number {
    return this.pr;
  }

  update(y: number): void {
    const x = this.x,
      n = this.inputs,
      K = this.w.length;
    const e2 = (((y << 12) - this.pr) * this.rate2) >> 4;
    for (let k = 0; k < K; k++) {
      const j = this.base2 + k;
      this.w2[j] = clampW(this.w2[j]! + ((this.d[k]! * e2) >> 10));
      const err = (((y << 12) - this.pk[k]!) * this.rate) >> 4;
      const w = this.w[k]!,
        base = this.base[k]!;
      for (let i = 0; i < n; i++) w[base + i] = clampW(w[base + i]! + ((x[i]! * err) >> 10)); // |x·err| < 2^31
    }
    this.nx = 0;
  }
}

function clampW(v: number): number {
  return v > 0x7ffff0 ? 0x7ffff0 : v < -0x7ffff0 ? -0x7ffff0 : v;
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

  constructor(
    contexts: number,
    private readonly rate: number,
  ) {
    this.t = new Int32Array(contexts * 33);
  }

  /** Refines the 12-bit probability p in context cx; returns a 16-bit probability. */
  refine(p: number, cx: number): number {
    const s = STRETCH[p]! + 2048; // 1..4095
    const lo = s >> 7,
      wt = s & 127;
    const i = cx * 33 + lo;
    this.knot = lo + (wt >> 6);
    this.idx = i + (wt >> 6);
    return ((this.t[i]! + KNOTS[lo]!) * (128 - wt) + (this.t[i + 1]! + KNOTS[lo + 1]!) * wt) >> 7;
  }

  update(y: number): void {
    const k = KNOTS[this.knot]!;
    const v = this.t[this.idx]! + k;
    this.t[this.idx] = v + (((y << 16) + (y << this.rate) - y - y - v) >> this.rate) - k;
  }
}
