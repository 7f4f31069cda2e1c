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

/** The CPU evaluator: integer logits of one context at a time, with its scratch. */
export class ByteMlpCpu {
  readonly tables: Int32Array;
  private readonly h1: Int32Array;
  private readonly h2: Int32Array;
  private readonly sh: { r1: number; s2: number; r3: number };

  constructor(readonly model: ByteMlpModel) {
    if (model.hidden > BYTEMLP_MAX_HIDDEN) throw new Error(`bytemlp: hidden ${model.hidden} > ${BYTEMLP_MAX_HIDDEN}`);
    this.tables = layer1Tables(model);
    this.h1 = new Int32Array(model.hidden);
    this.h2 = new Int32Array(model.hidden);
    this.sh = forwardShifts(model);
  }

  /** Integer logits (1/256 nat) of the context ctxBytes[off..off+CTX) (newest first) into out[o..o+256). */
  logits(ctxBytes: ArrayLike<number>, off: number, out: Int32Array, o: number): void {
    const { hidden: H, ctx } = this.model;
    const { b1, w2, b2, w3, b3 } = this.model;
    const { h1, h2, tables } = this;
    const { r1, s2, r3 } = this.sh;
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
      const row = j * H;
      for (let i = 0; i < H; i++) acc += w2[row + i]! * h1[i]!;
      const v = h1[j]! + (acc > 0 ? acc >> s2 : 0);
      h2[j] = v > 255 ? 255 : v;
    }
    for (let k = 0; k < 256; k++) {
      let acc = b3[k]!;
      const row = k * H;
      for (let i = 0; i < H; i++) acc += w3[row + i]! * h2[i]!;
      out[o + k] = shr(acc, r3);
    }
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
