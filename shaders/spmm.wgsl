// Inference from compressed weights (src/kernels/spmm.ts):
//   y = act(x · Wᵀ + bias), x (B, inDim) f32, W (rows, inDim) stored compressed, y laid out as
//   y[((bb / P) · rows + o) · P + bb % P] (P = 1: y (B, rows); P = OH·OW: a conv's (N, OC, OH, OW)).
// W's formats (defines):
//   CSR (DENSE false): rowptr (rows + 1), column of entry k = cols16 or cols32, value of entry k;
//   DENSE true: every position stored, entry k of row o is column k − o·inDim;
//   BITMASK true: cols holds ⌈inDim/32⌉ mask words per row (bit c % 32 of word c / 32: column c
//   kept), rowptr the row's first entry; the entries of a row follow its set bits in order.
// CONV (csr only): x is a conv's input (N, C, H, W) and the columns are offsets into it (no padding;
//   src/reference/spmm.ts convOffsets): a convolution without im2col, output as with P = OH·OW.
// Epilogue: act (relu, sigmoid, tanh, gelu) of acc + bias, then RESID adds resid[bb·rows + o] (P = 1).
// Value of entry k: F32VALUES: bitcast of word k; else the BITS-bit code in word k / PER at bit
//   (k % PER)·BITS (PER = ⌊32 / BITS⌋ codes per word, none straddles), looked up in the codebook,
//   which CBSHARED copies into workgroup memory first (K ≤ 256).
// One invocation computes TB batch rows of one output unit: each entry is decoded once and used
// TB times. The invocation index is flat (rows × ⌈B / TB⌉), o fastest, so a conv's few filters
// still fill every lane.
// XT: x is stored transposed (inDim, B) and one invocation computes one batch row (TB = 1), the
// lanes along the batch; YT: y is written transposed (rows, B) (the next layer's XT input).
// Entry point gather: y[b, c] (+)= W[r_b, c] for B rows, r_b = ridx[b] (p._p0 = 0) or ridx[0] + b
// (p.offset = 1), adding to y when p.P = 1 (an embedding lookup from a compressed table).
// Entry point im2col: patches (N·OH·OW, C·KH·KW) from x (N, C, H, W), zero padding, for a conv
// lowered onto main (P = OH·OW); XT: written transposed (C·KH·KW, N·OH·OW).

struct Params {
  rows: u32, inDim: u32, B: u32, P: u32,
  K: u32, offset: u32, chw: u32, ow: u32,
  sw: u32, s: u32, _p0: u32, _p1: u32,
}

struct ConvParams {
  N: u32, C: u32, H: u32, W: u32,
  KH: u32, KW: u32, S: u32, PAD: u32,
  OH: u32, OW: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> rowptr: array<u32>;
@group(0) @binding(3) var<storage, read> cols: array<u32>;
@group(0) @binding(4) var<storage, read> codes: array<u32>;
@group(0) @binding(5) var<storage, read> codebook: array<f32>;
@group(0) @binding(6) var<storage, read> bias: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;
@group(0) @binding(8) var<uniform> q: ConvParams;
@group(0) @binding(9) var<storage, read_write> patches: array<f32>;
@group(0) @binding(10) var<storage, read> ridx: array<u32>;
@group(0) @binding(11) var<storage, read> resid: array<f32>;

var<workgroup> cbw: array<f32, 256>;

fn value(k: u32) -> f32 {
#if ${F32VALUES}
  return bitcast<f32>(codes[k]);
#else
  let c = (codes[k / ${PER}u] >> ((k % ${PER}u) * ${BITS}u)) & ${MASK}u;
#if ${CBSHARED}
  return cbw[c];
#else
  return codebook[c];
#endif
#endif
}

fn column(k: u32) -> u32 {
#if ${IDX16}
  return (cols[k >> 1u] >> ((k & 1u) * 16u)) & 0xffffu;
#else
  return cols[k];
#endif
}

fn act(v: f32) -> f32 {
#if ${ACT_RELU}
  return max(v, 0.0);
#elif ${ACT_SIGMOID}
  return 1.0 / (1.0 + exp(-v));
#elif ${ACT_TANH}
  return tanh(v);
#elif ${ACT_GELU}
  // GPT-2's tanh form, as shaders/elementwise.wgsl computes it: x · sigmoid(2z), z = √(2/π)(x + 0.044715x³)
  let z = 2.0 * 0.7978845608028654 * fma(0.044715 * v, v * v, v);
  let e = exp(-abs(z));
  let a = 1.0 / (1.0 + e);
  return v * select(e * a, a, z >= 0.0);
#else
  return v;
#endif
}

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
#if ${CBSHARED}
  for (var i = lid.x; i < p.K; i = i + ${WG}u) { cbw[i] = codebook[i]; }
  workgroupBarrier();
#endif
  let gid = (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
#if ${XT}
  // x stored transposed (inDim, B): the lanes run along the batch for one unit, so every lane walks
  // the same entries (index and code reads are shared) and reads x contiguously
  let o = gid / p.B;
  let b0 = gid % p.B;
  if (o >= p.rows) { return; }
#else
  let o = gid % p.rows;
  let b0 = (gid / p.rows) * ${TB}u;
  if (b0 >= p.B) { return; }
#endif
  var acc: array<f32, ${TB}>;
  var xb: array<u32, ${TB}>;
#if ${CONV}
  // a direct conv (no padding): batch row bb is output pixel (n, oh, ow) = (bb / P, (bb % P) / OW, bb % OW);
  // its patch starts at x[n·C·H·W + oh·S·W + ow·S] and an entry's "column" is its offset (ch·H + kh)·W + kw
  for (var t = 0u; t < ${TB}u; t = t + 1u) {
    let bb = min(b0 + t, p.B - 1u);
    let pix = bb % p.P;
    xb[t] = (bb / p.P) * p.chw + (pix / p.ow) * p.sw + (pix % p.ow) * p.s;
  }
#else
  for (var t = 0u; t < ${TB}u; t = t + 1u) { xb[t] = min(b0 + t, p.B - 1u) * p.inDim; }
#endif
#if ${BITMASK}
  // one loop over the row's entries (as csr: lanes diverge by entry counts only), stepping through
  // the mask words as their bits run out
  let wpr = (p.inDim + 31u) / 32u;
  var wi = o * wpr;
  var bits = cols[wi];
  let end = rowptr[o + 1u];
  for (var k = rowptr[o]; k < end; k = k + 1u) {
    while (bits == 0u) {
      wi = wi + 1u;
      bits = cols[wi];
    }
    let c = (wi - o * wpr) * 32u + firstTrailingBit(bits);
    bits = bits & (bits - 1u);
    let w = value(k);
#if ${XT}
    acc[0] = acc[0] + x[c * p.B + b0] * w;
#else
    for (var t = 0u; t < ${TB}u; t = t + 1u) { acc[t] = acc[t] + x[xb[t] + c] * w; }
#endif
  }
#else
#if ${DENSE}
  let start = o * p.inDim;
  let end = start + p.inDim;
#else
  let start = rowptr[o];
  let end = rowptr[o + 1u];
#endif
  for (var k = start; k < end; k = k + 1u) {
    let w = value(k);
#if ${DENSE}
    let c = k - start;
#else
    let c = column(k);
#endif
#if ${XT}
    acc[0] = acc[0] + x[c * p.B + b0] * w;
#else
    for (var t = 0u; t < ${TB}u; t = t + 1u) { acc[t] = acc[t] + x[xb[t] + c] * w; }
#endif
  }
#endif
  let bv = bias[o];
  for (var t = 0u; t < ${TB}u; t = t + 1u) {
    let bb = b0 + t;
#if ${YT}
    if (bb < p.B) { y[o * p.B + bb] = act(acc[t] + bv); }
#elif ${RESID}
    if (bb < p.B) { y[bb * p.rows + o] = act(acc[t] + bv) + resid[bb * p.rows + o]; }
#else
    if (bb < p.B) { y[((bb / p.P) * p.rows + o) * p.P + bb % p.P] = act(acc[t] + bv); }
#endif
  }
}

/** W[r, c]: 0 where pruned. */
fn entry_at(r: u32, c: u32) -> f32 {
#if ${DENSE}
  return value(r * p.inDim + c);
#elif ${BITMASK}
  let wpr = (p.inDim + 31u) / 32u;
  let base = r * wpr;
  let wi = c / 32u;
  let bit = c % 32u;
  let m = cols[base + wi];
  if (((m >> bit) & 1u) == 0u) { return 0.0; }
  var k = rowptr[r] + countOneBits(m & ((1u << bit) - 1u));
  for (var j = 0u; j < wi; j = j + 1u) { k = k + countOneBits(cols[base + j]); }
  return value(k);
#else
  // binary search among the row's columns (ascending)
  var lo = rowptr[r];
  var hi = rowptr[r + 1u];
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    let cm = column(mid);
    if (cm == c) { return value(mid); }
    if (cm < c) { lo = mid + 1u; } else { hi = mid; }
  }
  return 0.0;
#endif
}

@compute @workgroup_size(${WG}, 1, 1)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
  if (i >= p.B * p.inDim) { return; }
  let b = i / p.inDim;
  let c = i % p.inDim;
  var r = ridx[b];
  if (p.offset == 1u) { r = ridx[0] + b; }
  var v = 0.0;
  if (r < p.rows) { v = entry_at(r, c); }
  if (p.P == 1u) { v = v + y[i]; }
  y[i] = v;
}

@compute @workgroup_size(${WG}, 1, 1)
fn im2col(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
  let kk = q.C * q.KH * q.KW;
  let P = q.OH * q.OW;
  if (i >= q.N * P * kk) { return; }
  let r = i / kk;
  let c = i % kk;
  let n = r / P;
  let pix = r % P;
  let ch = c / (q.KH * q.KW);
  let kh = (c / q.KW) % q.KH;
  let kw = c % q.KW;
  let ih = i32((pix / q.OW) * q.S + kh) - i32(q.PAD);
  let iw = i32((pix % q.OW) * q.S + kw) - i32(q.PAD);
  var v = 0.0;
  if (ih >= 0 && iw >= 0 && ih < i32(q.H) && iw < i32(q.W)) {
    v = x[((n * q.C + ch) * q.H + u32(ih)) * q.W + u32(iw)];
  }
#if ${XT}
  patches[c * q.N * P + r] = v;
#else
  patches[i] = v;
#endif
}
