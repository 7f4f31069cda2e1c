// The compressed matrix of inference (shaders/spmm.wgsl, src/kernels/spmm.ts) on the CPU: its
// layout, built once at load from a weight's kept positions and codebook indices (integer work, the
// same on every machine), and the reference product that the kernel must match.
//
// A matrix W (rows, inDim) — a dense layer's Wᵀ, a conv's filters (OC, C·KH·KW) — in one of:
//   'csr':   rowptr (rows + 1) u32; columns of the kept entries in row order, two u16 per u32 word
//            (idx16, inDim ≤ 65536) or one u32 each; their values;
//   'dense': every position's value in row-major order (pruned positions: a codebook entry 0);
//   'bitmask': per row ⌈inDim/32⌉ u32 mask words (bit c % 32 of word c / 32: column c is kept),
//            rowptr (rows + 1) u32 into the kept entries, their values in row order.
// Values: bits = 32: the f32 bits, one word each; bits ≤ 16: b-bit codebook indices, PER = ⌊32/b⌋
// per u32 word (entry k in word ⌊k/PER⌋ at bit (k mod PER)·b, none straddles two words).

export type MatrixFormat = 'csr' | 'dense' | 'bitmask';
export type Activation = 'none' | 'relu' | 'sigmoid' | 'tanh' | 'gelu';

export interface CompressedMatrix {
  rows: number;
  inDim: number;
  format: MatrixFormat;
  /** Stored entries: kept weights (csr) or rows·inDim (dense). */
  entries: number;
  /** 1..16: codebook indices; 32: f32 values. */
  bits: number;
  rowptr?: Uint32Array;
  /** csr: the columns (see idx16); bitmask: the mask words. */
  cols?: Uint32Array;
  idx16: boolean;
  /** Packed values (see above). */
  codes: Uint32Array;
  codebook?: Float32Array;
  bias: Float32Array;
  /** convOffsets: the columns are offsets into a conv input (C, H, W). */
  conv?: { C: number; H: number; W: number };
}

export class CompressedMatrixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompressedMatrixError';
  }
}

export const perWord = (bits: number) => (bits === 32 ? 1 : Math.floor(32 / bits));

/** Packs `values` (each < 2^bits) PER to a word. */
export function packCodes(values: ArrayLike<number>, bits: number): Uint32Array {
  const per = perWord(bits);
  const out = new Uint32Array(Math.max(1, Math.ceil(values.length / per)));
  for (let k = 0; k < values.length; k++) out[(k / per) | 0]! |= (values[k]! << ((k % per) * bits)) >>> 0;
  return out;
}

export function unpackCode(codes: Uint32Array, k: number, bits: number): number {
  const per = perWord(bits);
  return bits === 32 ? codes[k]! : (codes[(k / per) | 0]! >>> ((k % per) * bits)) & ((1 << bits) - 1);
}

export interface MatrixSource {
  rows: number;
  inDim: number;
  /** Kept positions as (row, column), in row-major order of W (row, then column ascending). */
  row: Uint32Array;
  col: Uint32Array;
  /** Per kept position: its codebook index (with `codebook`), or its f32 value (`values`). */
  codes?: Uint32Array;
  codebook?: Float32Array;
  bits?: number;
  values?: Float32Array;
  bias: Float32Array;
}

/** Builds the matrix in `format`; every index is checked (a bad one is a CompressedMatrixError, before any GPU work). */
export function buildMatrix(s: MatrixSource, format: MatrixFormat): CompressedMatrix {
  const fail = (m: string): never => {
    throw new CompressedMatrixError(`slimgpu.CompressedModel: ${m}`);
  };
  const { rows, inDim } = s;
  const kept = s.row.length;
  if (s.col.length !== kept) fail(`${kept} rows but ${s.col.length} columns of kept entries`);
  if (s.bias.length !== rows) fail(`bias has ${s.bias.length} values, the matrix ${rows} rows`);
  const shared = s.codes !== undefined;
  if (shared ? !s.codebook || s.codes!.length !== kept || !(s.bits! >= 1 && s.bits! <= 16) : !s.values || s.values.length !== kept)
    fail('each kept entry needs a codebook index (with a codebook and 1..16 bits) or an f32 value');
  const K = shared ? s.codebook!.length : 0;
  if (shared && (K < 1 || K > 2 ** s.bits!)) fail(`a ${s.bits}-bit codebook holds 1..${2 ** s.bits!} entries, got ${K}`);
  let prev = -1;
  for (let j = 0; j < kept; j++) {
    const r = s.row[j]!,
      c = s.col[j]!;
    if (r >= rows || c >= inDim) fail(`kept entry ${j} at (${r}, ${c}) lies outside the ${rows}×${inDim} matrix`);
    const flat = r * inDim + c;
    if (flat <= prev) fail(`kept entry ${j} at (${r}, ${c}) is not after the previous one in row-major order`);
    prev = flat;
    if (shared && s.codes![j]! >= K) fail(`kept entry ${j}: codebook index ${s.codes![j]} is beyond the ${K} entries`);
  }
  if (format === 'csr' || format === 'bitmask') {
    const rowptr = new Uint32Array(rows + 1);
    for (let j = 0; j < kept; j++) rowptr[s.row[j]! + 1]!++;
    for (let r = 0; r < rows; r++) rowptr[r + 1]! += rowptr[r]!;
    const idx16 = format === 'csr' && inDim <= 65536;
    const bits = shared ? s.bits! : 32;
    const codes = shared ? packCodes(s.codes!, bits) : new Uint32Array(s.values!.length ? s.values!.slice().buffer : new ArrayBuffer(4));
    let cols: Uint32Array;
    if (format === 'bitmask') {
      const wpr = Math.ceil(inDim / 32);
      cols = new Uint32Array(Math.max(1, rows * wpr));
      for (let j = 0; j < kept; j++) cols[s.row[j]! * wpr + (s.col[j]! >>> 5)]! |= (1 << (s.col[j]! & 31)) >>> 0;
    } else cols = idx16 ? packCodes(s.col, 16) : Uint32Array.from(s.col.length ? s.col : [0]);
    return { rows, inDim, format, entries: kept, bits, rowptr, cols, idx16, codes, codebook: s.codebook, bias: s.bias };
  }
  const n = rows * inDim;
  if (!shared) {
    const dense = new Float32Array(n);
    for (let j = 0; j < kept; j++) dense[s.row[j]! * inDim + s.col[j]!] = s.values![j]!;
    return { rows, inDim, format, entries: n, bits: 32, idx16: false, codes: new Uint32Array(dense.buffer), bias: s.bias };
  }
  // pruned positions take a 0 entry: the codebook's own 0 if it has one, else one appended (one more bit if full)
  let zero = kept < n ? s.codebook!.indexOf(0) : 0;
  let codebook = s.codebook!,
    bits = s.bits!;
  if (zero < 0) {
    zero = K;
    codebook = Float32Array.from([...codebook, 0]);
    if (K + 1 > 2 ** bits) bits++;
    if (bits > 16) fail('a full 16-bit codebook leaves no index for the pruned weights of a dense layout; use csr');
  }
  const all = new Uint32Array(n).fill(zero);
  for (let j = 0; j < kept; j++) all[s.row[j]! * inDim + s.col[j]!] = s.codes![j]!;
  return { rows, inDim, format, entries: n, bits, idx16: false, codes: packCodes(all, bits), codebook, bias: s.bias };
}

/**
 * A conv's filter matrix (OC, C·KH·KW) in csr with every column c = (ch·KH + kh)·KW + kw replaced by
 * its offset (ch·H + kh)·W + kw into an input (C, H, W): the direct conv of shaders/spmm.wgsl (CONV).
 */
export function convOffsets(m: CompressedMatrix, g: { C: number; H: number; W: number; KH: number; KW: number }): CompressedMatrix {
  if (m.format === 'dense') throw new CompressedMatrixError('slimgpu.CompressedModel: convOffsets needs a csr or bitmask matrix');
  if (m.inDim !== g.C * g.KH * g.KW) throw new CompressedMatrixError(`slimgpu.CompressedModel: convOffsets: inDim ${m.inDim} is not C·KH·KW`);
  const offs = new Uint32Array(m.entries);
  for (let o = 0, j = 0; o < m.rows; o++) {
    const cols =
      m.format === 'bitmask'
        ? bitmaskColumns(m, o)
        : Array.from({ length: m.rowptr![o + 1]! - m.rowptr![o]! }, (_, i) => columnAt(m, m.rowptr![o]! + i));
    for (const c of cols) {
      const ch = Math.floor(c / (g.KH * g.KW)),
        kh = Math.floor(c / g.KW) % g.KH,
        kw = c % g.KW;
      offs[j++] = (ch * g.H + kh) * g.W + kw;
    }
  }
  const idx16 = g.C * g.H * g.W <= 65536;
  const cols = idx16 ? packCodes(offs, 16) : Uint32Array.from(offs.length ? offs : [0]);
  return { ...m, format: 'csr', idx16, cols, conv: { C: g.C, H: g.H, W: g.W } };
}

const columnAt = (m: CompressedMatrix, k: number) => (m.idx16 ? unpackCode(m.cols!, k, 16) : m.cols![k]!);

/** Bytes of the matrix's buffers on the GPU (index, values, codebook, bias). */
export function matrixBytes(m: CompressedMatrix): number {
  return 4 * ((m.rowptr?.length ?? 0) + (m.cols?.length ?? 0) + m.codes.length + (m.codebook?.length ?? 0) + m.bias.length);
}

/** Value of stored entry k. */
function valueAt(m: CompressedMatrix, k: number): number {
  if (m.bits === 32) return new Float32Array(m.codes.buffer, m.codes.byteOffset, m.codes.length)[k]!;
  return m.codebook![unpackCode(m.codes, k, m.bits)]!;
}

/** Columns of row o's stored entries, in order (bitmask: decoded from its mask words). */
function bitmaskColumns(m: CompressedMatrix, o: number): number[] {
  const wpr = Math.ceil(m.inDim / 32),
    out: number[] = [];
  for (let i = 0; i < wpr; i++) for (let b = 0; b < 32; b++) if ((m.cols![o * wpr + i]! >>> b) & 1) out.push(i * 32 + b);
  return out;
}

/** W (rows, inDim) as dense f32. */
export function denseOf(m: CompressedMatrix): Float32Array {
  const w = new Float32Array(m.rows * m.inDim);
  for (let o = 0; o < m.rows; o++) {
    if (m.format === 'bitmask') {
      bitmaskColumns(m, o).forEach((c, j) => (w[o * m.inDim + c] = valueAt(m, m.rowptr![o]! + j)));
      continue;
    }
    const [a, b] = m.format === 'dense' ? [o * m.inDim, (o + 1) * m.inDim] : [m.rowptr![o]!, m.rowptr![o + 1]!];
    for (let k = a; k < b; k++) w[o * m.inDim + (m.format === 'dense' ? k - a : m.idx16 ? unpackCode(m.cols!, k, 16) : m.cols![k]!)] = valueAt(m, k);
  }
  return w;
}

/** GPT-2's tanh form of gelu (shaders/elementwise.wgsl). */
export const geluOf = (v: number) => 0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));

export function activate(v: number, act: Activation): number {
  if (act === 'gelu') return geluOf(v);
  return act === 'relu' ? Math.max(v, 0) : act === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : act === 'tanh' ? Math.tanh(v) : v;
}

/** Rows idx[b] of W (B, inDim), added to `into` when given (the kernel's gather). */
export function gatherReference(m: CompressedMatrix, idx: ArrayLike<number>, into?: Float32Array): Float32Array {
  const w = denseOf(m);
  const y = into ? into.slice() : new Float32Array(idx.length * m.inDim);
  for (let b = 0; b < idx.length; b++) {
    if (idx[b]! >= m.rows) continue; // beyond the table: 0
    for (let c = 0; c < m.inDim; c++) y[b * m.inDim + c]! += w[idx[b]! * m.inDim + c]!;
  }
  return y;
}

/** y = act(x · Wᵀ + bias) for x (B, inDim) (xT: (inDim, B)), laid out as the kernel writes it (P or yT, see shaders/spmm.wgsl); f64 sums. */
export function spmmReference(
  m: CompressedMatrix,
  x: Float32Array,
  B: number,
  act: Activation = 'none',
  P = 1,
  t: { xT?: boolean; yT?: boolean; resid?: Float32Array } = {},
): Float32Array {
  const w = denseOf(m);
  const y = new Float32Array(B * m.rows);
  for (let bb = 0; bb < B; bb++) {
    for (let o = 0; o < m.rows; o++) {
      let s = 0;
      for (let c = 0; c < m.inDim; c++) s += x[t.xT ? c * B + bb : bb * m.inDim + c]! * w[o * m.inDim + c]!;
      y[t.yT ? o * B + bb : (Math.floor(bb / P) * m.rows + o) * P + (bb % P)] = activate(s + m.bias[o]!, act) + (t.resid?.[bb * m.rows + o] ?? 0);
    }
  }
  return y;
}

export interface Im2colGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  S: number;
  PAD: number;
  OH: number;
  OW: number;
}

/** patches (N·OH·OW, C·KH·KW) of x (N, C, H, W), zero padding; `transposed`: (C·KH·KW, N·OH·OW). */
export function im2colReference(x: Float32Array, g: Im2colGeometry, transposed = false): Float32Array {
  const kk = g.C * g.KH * g.KW,
    P = g.OH * g.OW;
  const out = new Float32Array(g.N * P * kk);
  for (let n = 0; n < g.N; n++)
    for (let p = 0; p < P; p++)
      for (let c = 0; c < g.C; c++)
        for (let kh = 0; kh < g.KH; kh++)
          for (let kw = 0; kw < g.KW; kw++) {
            const ih = Math.floor(p / g.OW) * g.S + kh - g.PAD,
              iw = (p % g.OW) * g.S + kw - g.PAD;
            const v = ih >= 0 && iw >= 0 && ih < g.H && iw < g.W ? x[((n * g.C + c) * g.H + ih) * g.W + iw]! : 0;
            const col = (c * g.KH + kh) * g.KW + kw;
            out[transposed ? col * g.N * P + n * P + p : (n * P + p) * kk + col] = v;
          }
  return out;
}
