// The block codec's context-adaptive entropy coder (img:dct presets, docs/images.md): the quantised
// coefficients (P·64, bh, bw) of a tile, coded block by block (raster order, planes within a block)
// as binary decisions through the CM's binary arithmetic coder (src/codec/cm/coder.ts). Every
// decision has a context (its probability state) chosen from already-coded integers:
//   nz     the block's count of non-zero AC coefficients, 6 binary-tree bits; context = plane type ×
//          the mean count of the left and upper blocks (10 buckets);
//   DC     coded after the block's AC, predicted from the edges (Lepton's idea): the DC that makes this
//          block's AC-only edge pixels, extrapolated one half pixel outward, meet the left / upper
//          neighbours' edge pixels extrapolated inward; the mean of the two predictions, context =
//          plane type × |left prediction − upper prediction| (7 buckets) × nz (0, 1-3, 4+). Integer basis (2^10 scale);
//   AC     in zigzag order until the nz non-zero ones are found: a zero flag (context = plane type ×
//          frequency band (9) × |same coefficient| in the left + upper blocks (5) × the two
//          lower-frequency neighbours in this block (4) × non-zeros still to come (5)), a sign, and the
//          magnitude as Exp-Golomb bins (context = plane type × band group (5) × neighbours (5)).
// A state is a 16-bit P(1) plus a count: p moves toward each bit by 1/(n + 1.5), n capped at
// RATE_LIMIT. The initial (p, n) of every context is learned from training images (the model's
// integer tables, one set per quality): the factorised prior made context-adaptive. All integer
// arithmetic: encoder and decoder agree to the bit on every engine.
import { BitDecoder, BitEncoder } from '../codec/cm/coder.js';
import { codecFail } from '../codec/errors.js';
import { BLOCK, COEFS, INV_ZIGZAG, ZIGZAG } from './block-transform.js';

export const RATE_LIMIT = 40;
const RATE = Int32Array.from({ length: RATE_LIMIT + 1 }, (_, n) => Math.floor(65536 / (n + 1.5)));

const NZ_BUCKETS = 10,
  DC_ACT = 7,
  BANDS = 9,
  NB = 5,
  INB = 4,
  REM = 5,
  GROUPS = 5,
  MAG = 32,
  MAX_EXP = 30;
const NZ_BASE = 0;
const ZF_BASE = NZ_BASE + 2 * NZ_BUCKETS * 64;
const SIGN_BASE = ZF_BASE + 2 * BANDS * NB * INB * REM;
const AC_BASE = SIGN_BASE + 2;
const DC_BASE = AC_BASE + 2 * GROUPS * NB * MAG;
/** Where each kind of decision's contexts start (the last entry is the end). */
export const BLOCK_CONTEXT_KINDS: Record<string, number> = { nz: NZ_BASE, zero: ZF_BASE, sign: SIGN_BASE, ac: AC_BASE, dc: DC_BASE };
/** Number of contexts (probability states) of the block coder. */
export const BLOCK_CONTEXTS = DC_BASE + 2 * DC_ACT * 3 * (MAG + 2);

const INV = INV_ZIGZAG;
const BAND = Int32Array.from({ length: COEFS }, (_, k) => Math.min(Math.floor(ZIGZAG[k]! / BLOCK) + (ZIGZAG[k]! % BLOCK), BANDS) - 1);
const GROUP = Int32Array.from(BAND, (b) => [0, 1, 2, 2, 3, 3, 4, 4, 4][Math.max(b, 0)]!);
// the lower-frequency neighbours of coefficient k in its block (never the DC: it is coded after the AC)
const LEFT_IN = Int32Array.from({ length: COEFS }, (_, k) => (ZIGZAG[k]! % BLOCK > 0 && ZIGZAG[k]! - 1 > 0 ? INV[ZIGZAG[k]! - 1]! : -1));
const UP_IN = Int32Array.from({ length: COEFS }, (_, k) => (ZIGZAG[k]! > BLOCK ? INV[ZIGZAG[k]! - BLOCK]! : -1));

const bucket = (v: number, edges: readonly number[]) => {
  let i = 0;
  while (i < edges.length && v >= edges[i]!) i++;
  return i;
};
const NZ_EDGES = [1, 2, 3, 4, 6, 9, 14, 21],
  ACT_EDGES = [1, 2, 3, 5, 9, 17],
  NB_EDGES = [1, 2, 3, 5],
  INB_EDGES = [1, 2, 3],
  REM_EDGES = [2, 3, 5, 9];

/** Initial states of every context: P(1) in 1..65535 and a count 0..RATE_LIMIT. */
export interface ContextInit {
  p: Uint16Array;
  n: Uint8Array;
}

/** One binary decision: the encoder passes the bit and gets it back, the decoder passes anything and gets the decoded bit. */
export abstract class BlockBits {
  readonly p: Int32Array;
  readonly n: Uint8Array;
  constructor(init: ContextInit) {
    if (init.p.length !== BLOCK_CONTEXTS || init.n.length !== BLOCK_CONTEXTS)
      codecFail(`block coder: ${BLOCK_CONTEXTS} initial context states expected, got ${init.p.length} / ${init.n.length}`);
    this.p = Int32Array.from(init.p, (v) => Math.min(Math.max(v, 1), 65535));
    this.n = Uint8Array.from(init.n, (v) => Math.min(v, RATE_LIMIT));
  }
  protected update(ctx: number, bit: number): void {
    const p = this.p[ctx]!,
      n = this.n[ctx]!;
    const q = p + Math.floor((((bit ? 65536 : 0) - p) * RATE[n]!) / 65536);
    this.p[ctx] = Math.min(Math.max(q, 32), 65504);
    if (n < RATE_LIMIT) this.n[ctx] = n + 1;
  }
  abstract code(ctx: number, bit: number): number;
}

export class BlockEncoder extends BlockBits {
  readonly enc = new BitEncoder();
  code(ctx: number, bit: number): number {
    this.enc.encode(bit, this.p[ctx]!);
    this.update(ctx, bit);
    return bit;
  }
}

export class BlockDecoder extends BlockBits {
  readonly dec: BitDecoder;
  constructor(init: ContextInit, bytes: Uint8Array, where: string) {
    super(init);
    this.dec = new BitDecoder(bytes, where);
  }
  code(ctx: number): number {
    const bit = this.dec.decode(this.p[ctx]!);
    this.update(ctx, bit);
    return bit;
  }
}

/** Training: counts of 0s and 1s per context, and the adaptive code length in bits (nothing written). */
export class BlockCounter extends BlockBits {
  readonly ones = new Float64Array(BLOCK_CONTEXTS);
  readonly zeros = new Float64Array(BLOCK_CONTEXTS);
  /** Code length per context. */
  readonly cost = new Float64Array(BLOCK_CONTEXTS);
  bits = 0;
  code(ctx: number, bit: number): number {
    const p1 = this.p[ctx]! / 65536,
      b = -Math.log2(bit ? p1 : 1 - p1);
    this.bits += b;
    this.cost[ctx]! += b;
    if (bit) this.ones[ctx]!++;
    else this.zeros[ctx]!++;
    this.update(ctx, bit);
    return bit;
  }
}

/** Exp-Golomb of m ≥ 0 (the decoder's m comes from the bits). */
function codeMag(c: BlockBits, base: number, m: number): number {
  const t = m + 1,
    e = t > 0 ? 31 - Math.clz32(t) : 0;
  let k = 0;
  while (c.code(base + Math.min(k, 15), k < e ? 1 : 0)) if (++k > MAX_EXP) codecFail('block coder: a magnitude over 2^30 (damaged data)');
  let v = 1;
  for (let b = k - 1; b >= 0; b--) v = v * 2 + c.code(base + 16 + Math.min(k, 15), (t >> b) & 1);
  return v - 1;
}

function codeSigned(c: BlockBits, base: number, v: number): number {
  if (!c.code(base, v !== 0 ? 1 : 0)) return 0;
  const neg = c.code(base + 1, v < 0 ? 1 : 0);
  const m = codeMag(c, base + 2, Math.abs(v) - 1) + 1;
  return neg ? -m : m;
}

/**
 * Codes (or, with a BlockDecoder, decodes into) the tile's coefficients q (planes·64, bh, bw).
 * The decoder's q must be zero-filled; the encoder's is left unchanged.
 */
export function codeBlocks(c: BlockBits, q: Int32Array, planes: number, bh: number, bw: number): void {
  const plane = bh * bw,
    nzs = new Int32Array(planes * plane);
  const at = (p: number, k: number, i: number) => q[(p * COEFS + k) * plane + i]!;
  for (let by = 0; by < bh; by++)
    for (let bx = 0; bx < bw; bx++) {
      const i = by * bw + bx,
        hasL = bx > 0,
        hasU = by > 0;
      for (let p = 0; p < planes; p++) {
        const pt = p === 0 ? 0 : 1;
        // non-zero AC count
        let nzTrue = 0;
        for (let k = 1; k < COEFS; k++) if (at(p, k, i) !== 0) nzTrue++;
        const nzL = hasL ? nzs[p * plane + i - 1]! : 0,
          nzU = hasU ? nzs[p * plane + i - bw]! : 0;
        const nzc = hasL || hasU ? bucket(hasL && hasU ? (nzL + nzU + 1) >> 1 : nzL + nzU, NZ_EDGES) : NZ_BUCKETS - 1;
        let node = 1;
        for (let b = 5; b >= 0; b--) node = node * 2 + c.code(NZ_BASE + (pt * NZ_BUCKETS + nzc) * 64 + node, (nzTrue >> b) & 1);
        const nz = node - 64;
        nzs[p * plane + i] = nz;
        codeAc(c, q, p, pt, i, hasL ? i - 1 : -1, hasU ? i - bw : -1, plane, nz);
        const dcIdx = p * COEFS * plane + i;
        const pl = hasL ? edgePrediction(q, p, plane, i - 1, i, true) : 0,
          pu = hasU ? edgePrediction(q, p, plane, i - bw, i, false) : 0;
        const pred = hasL && hasU ? Math.floor((pl + pu + 1) / 2) : hasL ? pl : pu;
        const act = (hasL && hasU ? bucket(Math.abs(pl - pu), ACT_EDGES) : DC_ACT - 1) * 3 + (nz === 0 ? 0 : nz < 4 ? 1 : 2);
        q[dcIdx] = pred + codeSigned(c, DC_BASE + (pt * DC_ACT * 3 + act) * (MAG + 2), q[dcIdx]! - pred);
      }
    }
}

function codeAc(c: BlockBits, q: Int32Array, p: number, pt: number, i: number, li: number, ui: number, plane: number, nz: number): void {
  const off = p * COEFS * plane;
  let rem = nz;
  for (let k = 1; k < COEFS && rem > 0; k++) {
    const idx = off + k * plane + i;
    const nb = (li >= 0 ? Math.abs(q[off + k * plane + li]!) : 0) + (ui >= 0 ? Math.abs(q[off + k * plane + ui]!) : 0);
    const inb =
      (LEFT_IN[k]! >= 0 ? Math.abs(q[off + LEFT_IN[k]! * plane + i]!) : 0) + (UP_IN[k]! >= 0 ? Math.abs(q[off + UP_IN[k]! * plane + i]!) : 0);
    const nbb = bucket(nb, NB_EDGES);
    const v = q[idx]!;
    let sig = 1;
    if (COEFS - k > rem) {
      const ctx = ZF_BASE + (((pt * BANDS + BAND[k]!) * NB + nbb) * INB + bucket(inb, INB_EDGES)) * REM + bucket(rem, REM_EDGES);
      sig = c.code(ctx, v !== 0 ? 1 : 0);
    }
    if (!sig) continue;
    const neg = c.code(SIGN_BASE + pt, v < 0 ? 1 : 0);
    const m = codeMag(c, AC_BASE + ((pt * GROUPS + GROUP[k]!) * NB + nbb) * MAG, Math.abs(v) - 1) + 1;
    q[idx] = neg ? -m : m;
    rem--;
  }
}

/** IB[f·8 + x] = round(2^10 · the orthonormal DCT-II basis f at x). */
const IB = Int32Array.from({ length: COEFS }, (_, j) => {
  const f = Math.floor(j / BLOCK),
    x = j % BLOCK;
  return Math.round(1024 * (f === 0 ? Math.sqrt(1 / BLOCK) : Math.sqrt(2 / BLOCK)) * Math.cos(((2 * x + 1) * f * Math.PI) / (2 * BLOCK)));
});
const CLAMP = 1 << 15;

/**
 * Σ over the 8 pixels of one block edge line `line` (0..7, a column if `vertical`) of 3·pixel(line) −
 * pixel(line ± 1), in 2^20 units, from the block's AC coefficients only (DC excluded if `noDc`).
 */
function edgeSum(q: Int32Array, p: number, plane: number, i: number, vertical: boolean, line: number, next: number, noDc: boolean): number {
  let sum = 0;
  for (let a = 0; a < BLOCK; a++) {
    // t = Σ_b q[a, b] · (3·IB[b][line] − IB[b][next]) along the edge's normal, then Σ over the 8 pixels of the edge
    let t = 0;
    for (let b = 0; b < BLOCK; b++) {
      const uv = vertical ? a * BLOCK + b : b * BLOCK + a;
      if (noDc && uv === 0) continue;
      const v = q[(p * COEFS + INV_ZIGZAG[uv]!) * plane + i]!;
      if (v === 0) continue;
      t += Math.min(Math.max(v, -CLAMP), CLAMP) * (3 * IB[b * BLOCK + line]! - IB[b * BLOCK + next]!);
    }
    let along = 0;
    for (let y = 0; y < BLOCK; y++) along += IB[a * BLOCK + y]!;
    sum += t * along;
  }
  return sum;
}

/** The DC of block i that continues neighbour block n's edge (left neighbour if `left`, else the upper one), rounded. */
function edgePrediction(q: Int32Array, p: number, plane: number, n: number, i: number, left: boolean): number {
  const theirs = edgeSum(q, p, plane, n, left, BLOCK - 1, BLOCK - 2, false),
    mine = edgeSum(q, p, plane, i, left, 0, 1, true);
  // the DC adds IB[0]² per pixel to both lines: (3 − 1)·8·IB[0]² per edge
  const den = 2 * BLOCK * IB[0]! * IB[0]!;
  return Math.floor((2 * (theirs - mine) + den) / (2 * den));
}
