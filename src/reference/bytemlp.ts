// CPU reference of shaders/bytemlp.wgsl: the integer forward pass of the shipped byte model of
// issue 22 ("bytemlp"; plain TypeScript, Node and browser). The codec's CPU path IS this code, so the
// CPU and WGSL paths agree to the bit (tests/bytemlp.test.ts).
//
// It predicts byte t from the CTX previous bytes c[0] = b(t−1) … c[CTX−1] (byte 0 before the start):
//   acc1[j] = b1[j] + Σ_p Σ_d E[c[p], d]·W1[j, p·D + d]        h1 = clamp(acc1 >> R1, 0, 255)
//   acc2[j] = b2[j] + Σ_i W2[j, i]·h1[i]                      h2 = min(255, h1 + (max(acc2, 0) >> S2))
//   acc3[k] = b3[k] + Σ_i W3[k, i]·h2[i]                      logit[k] = acc3 >> R3 (1/256 nat), k < 256
// Every value is an integer: E, W levels in [−127, 127], activations in [0, 255], biases |b| ≤ 2^24.
// Overflow bound (i32): |acc1| ≤ 2^24 + CTX·D·127·127 = 2^24 + 256·16129 < 2^25; |acc2|, |acc3| ≤
// 2^24 + H·255·127 < 2^25 for H ≤ 256. Right shifts are arithmetic (floor), identical in JS and WGSL.
// Layer 1 is a sum of per-position tables T[p][byte] = E[byte]·W1[:, p·D:(p+1)·D]ᵀ precomputed at
// load time (exact integers), so it costs CTX·H additions per byte.

import { WasmForward } from './bytemlp-wasm.js';

export const BYTEMLP_MAX_HIDDEN = 256;

export interface ByteMlpModel {
  ctx: number;
  dim: number;
  hidden: number;
  /** Activation fraction bits (h = value·2^SH). */
  sh: number;
  /** Power-of-two scales of E, W1, W2, W3 (level = weight·2^s). */
  shifts: { emb: number; l1: number; l2: number; l3: number };
  emb: Int32Array; // (256, D)
  w1: Int32Array; // (H, CTX·D) row-major by output
  b1: Int32Array;
  w2: Int32Array; // (H, H)
  b2: Int32Array;
  w3: Int32Array; // (256, H)
  b3: Int32Array;
}

/** Shifts of the forward pass derived from the model's scales (R1 may be negative: a left shift). */
export function forwardShifts(m: ByteMlpModel): { r1: number; s2: number; r3: number } {
  return { r1: m.shifts.emb + m.shifts.l1 - m.sh, s2: m.shifts.l2, r3: m.sh + m.shifts.l3 - 8 };
}

export function shr(x: number, r: number): number {
  return r >= 0 ? x >> r : x << -r;
}

/** T[(p·256 + byte)·H + j] = Σ_d E[byte, d]·W1[j, p·D + d]: layer 1 as per-position tables. */
export function layer1Tables(m: ByteMlpModel): Int32Array {
  const { ctx, dim: D, hidden: H } = m;
  const IN = ctx * D;
  const t = new Int32Array(ctx * 256 * H);
  for (let p = 0; p < ctx; p++) {
    for (let b = 0; b < 256; b++) {
      const o = (p * 256 + b) * H;
      for (let j = 0; j < H; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += m.emb[b * D + d]! * m.w1[j * IN + p * D + d]!;
        t[o + j] = s;
      }
    }
  }
  return t;
}

/** 2^26: two accumulators share one double, hi·2^26 + lo (|lo| < 2^25, so both come back exactly). */
const PAIR = 2 ** 26;

/**
 * Column c of an (rows, cols) row-major integer matrix as rows/2 pairs: out[c·P + q] = w[2q, c]·2^26 +
 * w[2q+1, c] (P = ⌈rows/2⌉; a missing odd row is 0).
 */
function pairedColumns(w: Int32Array, rows: number, cols: number): Float64Array {
  const P = (rows + 1) >> 1;
  const t = new Float64Array(cols * P);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const x = w[r * cols + c]!;
      t[c * P + (r >> 1)]! += r & 1 ? x : x * PAIR;
    }
  return t;
}

/** A vector of integers as pairs (v[2q]·2^26 + v[2q+1]). */
function paired(v: Int32Array, n: number): Float64Array {
  const t = new Float64Array((n + 1) >> 1);
  for (let i = 0; i < n; i++) t[i >> 1]! += i & 1 ? v[i]! : v[i]! * PAIR;
  return t;
}

/** Splits pairs back into integers: hi = round(x / 2^26) (exact: |lo| < 2^25), lo = x − hi·2^26. */
function unpair(x: Float64Array, out: Int32Array, n: number): void {
  for (let q = 0, i = 0; i < n; q++, i += 2) {
    const t = x[q]!,
      hi = Math.round(t / PAIR);
    out[i] = hi;
    if (i + 1 < n) out[i + 1] = t - hi * PAIR;
  }
}

/**
 * The CPU evaluator: integer logits of one context at a time, with its scratch. Same integers as the
 * row-major definition (byteMlpLogitsDense), computed faster: two outputs share one double (their
 * sums stay exact integers below 2^53, and each |acc| < 2^25 separates them), and layers 2 and 3 run
 * column by column over the nonzero activations only (ReLU outputs are sparse): acc += W[:, i]·h[i].
 */
export class ByteMlpCpu {
  readonly tables: Int32Array;
  private readonly t1: Float64Array;
  private readonly b1: Float64Array;
  private readonly w2: Float64Array;
  private readonly b2: Float64Array;
  private readonly w3: Float64Array;
  private readonly b3: Float64Array;
  private readonly p1: Float64Array;
  private readonly p2: Float64Array;
  private readonly p3: Float64Array;
  private readonly acc: Int32Array;
  private readonly h1: Int32Array;
  private readonly h2: Int32Array;
  private readonly nz: Int32Array;
  private readonly sh: { r1: number; s2: number; r3: number };
  /** The WebAssembly SIMD path (null: unavailable, or turned off), used by logits() when present. */
  private readonly wasm: WasmForward | null;

  /** opts.wasm = false keeps to plain JavaScript (tests compare the two). */
  constructor(
    readonly model: ByteMlpModel,
    opts: { wasm?: boolean } = {},
  ) {
    const H = model.hidden;
    if (H > BYTEMLP_MAX_HIDDEN) throw new Error(`bytemlp: hidden ${H} > ${BYTEMLP_MAX_HIDDEN}`);
    // the i32 bound of the header comment (|acc| < 2^25) is what lets two sums share a double
    if (model.ctx * model.dim > 1024) throw new Error(`bytemlp: ctx·dim ${model.ctx * model.dim} > 1024 breaks the accumulator bound`);
    for (const [k, w] of [
      ['E', model.emb],
      ['W1', model.w1],
      ['W2', model.w2],
      ['W3', model.w3],
    ] as const) {
      for (const x of w) if (x < -127 || x > 127) throw new RangeError(`bytemlp: ${k} holds level ${x} outside [-127, 127]`);
    }
    this.tables = layer1Tables(model);
    this.sh = forwardShifts(model);
    this.wasm = opts.wasm === false ? null : WasmForward.create(model, this.tables, this.sh);
    // the plain-JavaScript path's paired tables, built only when it runs
    const js = !this.wasm,
      P = (H + 1) >> 1;
    this.t1 = new Float64Array(js ? model.ctx * 256 * P : 0);
    if (js) for (let r = 0; r < model.ctx * 256; r++) this.t1.set(paired(this.tables.subarray(r * H, r * H + H), H), r * P);
    this.b1 = paired(model.b1, H);
    this.w2 = js ? pairedColumns(model.w2, H, H) : this.t1;
    this.b2 = paired(model.b2, H);
    this.w3 = js ? pairedColumns(model.w3, 256, H) : this.t1;
    this.b3 = paired(model.b3, 256);
    this.p1 = new Float64Array(P);
    this.p2 = new Float64Array(P);
    this.p3 = new Float64Array(128);
    this.acc = new Int32Array(256);
    this.h1 = new Int32Array(H);
    this.h2 = new Int32Array(H);
    this.nz = new Int32Array(H);
  }

  /** Which path logits() runs. */
  get path(): 'wasm-simd' | 'js' {
    return this.wasm ? 'wasm-simd' : 'js';
  }

  /** Integer logits (1/256 nat) of the context ctxBytes[off..off+CTX) (newest first) into out[o..o+256). */
  logits(ctxBytes: ArrayLike<number>, off: number, out: Int32Array, o: number): void {
    if (this.wasm) return this.wasm.logits(ctxBytes, off, out, o);
    const { hidden: H, ctx } = this.model;
    const { t1, w2, w3, p1, p2, p3, acc, h1, h2, nz } = this;
    const { r1, s2, r3 } = this.sh;
    const P = p1.length;
    p1.set(this.b1);
    for (let p = 0; p < ctx; p++) {
      const base = (p * 256 + ctxBytes[off + p]!) * P;
      for (let q = 0; q < P; q++) p1[q] = p1[q]! + t1[base + q]!;
    }
    unpair(p1, acc, H);
    let n = 0;
    for (let j = 0; j < H; j++) {
      const v = shr(acc[j]!, r1);
      const c = v < 0 ? 0 : v > 255 ? 255 : v;
      h1[j] = c;
      if (c !== 0) nz[n++] = j;
    }
    p2.set(this.b2);
    for (let k = 0; k < n; k++) {
      const i = nz[k]!,
        v = h1[i]!,
        col = i * P;
      for (let q = 0; q < P; q++) p2[q] = p2[q]! + w2[col + q]! * v;
    }
    unpair(p2, acc, H);
    n = 0;
    for (let j = 0; j < H; j++) {
      const a = acc[j]!;
      const v = h1[j]! + (a > 0 ? a >> s2 : 0);
      const c = v > 255 ? 255 : v;
      h2[j] = c;
      if (c !== 0) nz[n++] = j;
    }
    p3.set(this.b3);
    for (let k = 0; k < n; k++) {
      const i = nz[k]!,
        v = h2[i]!,
        col = i * 128;
      for (let q = 0; q < 128; q += 4) {
        p3[q] = p3[q]! + w3[col + q]! * v;
        p3[q + 1] = p3[q + 1]! + w3[col + q + 1]! * v;
        p3[q + 2] = p3[q + 2]! + w3[col + q + 2]! * v;
        p3[q + 3] = p3[q + 3]! + w3[col + q + 3]! * v;
      }
    }
    unpair(p3, acc, 256);
    for (let k = 0; k < 256; k++) out[o + k] = shr(acc[k]!, r3);
  }
}

/** The row-major reference of logits() (tests compare the two): one dot product per output. */
export function byteMlpLogitsDense(m: ByteMlpModel, tables: Int32Array, ctxBytes: ArrayLike<number>, off: number, out: Int32Array, o: number): void {
  const { hidden: H, ctx, b1, w2, b2, w3, b3 } = m;
  const { r1, s2, r3 } = forwardShifts(m);
  const h1 = new Int32Array(H),
    h2 = new Int32Array(H);
  for (let j = 0; j < H; j++) h1[j] = b1[j]!;
  for (let p = 0; p < ctx; p++) {
    const base = (p * 256 + ctxBytes[off + p]!) * H;
    for (let j = 0; j < H; j++) h1[j]! += tables[base + j]!;
  }
  for (let j = 0; j < H; j++) {
    const v = shr(h1[j]!, r1);
    h1[j] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  for (let j = 0; j < H; j++) {
    let acc = b2[j]!;
    for (let i = 0; i < H; i++) acc += w2[j * H + i]! * h1[i]!;
    const v = h1[j]! + (acc > 0 ? acc >> s2 : 0);
    h2[j] = v > 255 ? 255 : v;
  }
  for (let k = 0; k < 256; k++) {
    let acc = b3[k]!;
    for (let i = 0; i < H; i++) acc += w3[k * H + i]! * h2[i]!;
    out[o + k] = shr(acc, r3);
  }
}

/** A random model of the given shape (tests and benches): levels in [−127, 127], biases |b| < 2^20. */
export function randomByteMlp(
  seed: number,
  ctx: number,
  dim: number,
  hidden: number,
  shifts = { emb: 5, l1: 8, l2: 9, l3: 9 },
  sh = 4,
): ByteMlpModel {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const lv = (n: number) => Int32Array.from({ length: n }, () => Math.floor(next() * 255) - 127);
  const bs = (n: number) => Int32Array.from({ length: n }, () => Math.floor((next() * 2 - 1) * 2 ** 20));
  return {
    ctx,
    dim,
    hidden,
    sh,
    shifts,
    emb: lv(256 * dim),
    w1: lv(hidden * ctx * dim),
    b1: bs(hidden),
    w2: lv(hidden * hidden),
    b2: bs(hidden),
    w3: lv(256 * hidden),
    b3: bs(256),
  };
}
