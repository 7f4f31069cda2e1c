// Causal multi-head self-attention, forward and backward (wrapper: src/kernels/attention.ts).
//   qkv (N, 3C), N = B·T (row = b·T + t): q = cols [0, C), k = [C, 2C), v = [2C, 3C); head h uses
//   cols h·hs .. (h+1)·hs of each; scale = 1/sqrt(hs); query t attends to keys 0..t.
//   O (N, C) the output before the projection; dO (N, C) its gradient; dqkv (N, 3C).
// Two paths:
//   unfused: P (B, H, T, T) = softmax(mask(scale·Q·Kᵀ)) is written (the saved tensor), then O = P·V.
//            Backward: dS (B, H, T, T) = P ∘ (dO·Vᵀ − rowsum) in scratch; dQ = scale·dS·K,
//            dK = scale·dSᵀ·Q, dV = Pᵀ·dO.
//   flash:   one pass with an online softmax over the keys, never writing the T×T scores; saves
//            lse (B, H, T) = the log-sum-exp of each row. Backward recomputes P = exp(S − lse):
//            delta (B, H, T) = rowsum(dO ∘ O) in scratch, then one kernel per key row (dK, dV over
//            the queries i ≥ j in order) and one per query row (dQ over keys j ≤ i in order).
// Every output element is written by exactly one invocation that sums in a fixed order: no atomics,
// the same bits on every run.
// Decoding over a key/value cache, n = p.T new tokens per batch row (n = 1: one step; n > 1: a
// prefill): kv_append copies the k, v of qkv row b·n + i (B·n, 3C) into kc, vc (B, Tk, C) at row
// pos[0] + i; decode attends query row b·n + i (the q cols) to keys 0..pos[0] + i of batch row b.
//
// Two flavours of each kernel: generic (one invocation per row, any adapter) and sg8 (CPU drivers
// with 8-lane subgroups; see the sg8 section).
// Defines: FWD, BWD, DECODE (exactly one true: which bindings the module declares); SG8, GENERIC
//   (which flavour: vec4 or f32 bindings); HSMAX (private array length ≥ hs, generic kernels: 64 or
//   256); HB2 (sg8: hs > 32, a second 32-dim block per lane); SUBGROUPS (device feature; sg8 needs it).
#if ${SUBGROUPS}
enable subgroups;
#endif

struct Params {
  B: u32, T: u32, C: u32, H: u32,
  hs: u32,
  Tk: u32,     // key rows per batch row in the key source: T (qkv), or Tmax of the caches
  scale: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
#if ${SG8}
// sg8 kernels (hs % 4 == 0, C % 4 == 0): row data as vec4s
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>;
#if ${FWD}
@group(0) @binding(2) var<storage, read_write> O: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> saved: array<f32>;   // P (B,H,T,T) or lse (B,H,T)
#endif
#if ${BWD}
@group(0) @binding(2) var<storage, read> O: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> saved: array<f32>;
@group(0) @binding(4) var<storage, read> dO: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> scratch: array<f32>; // dS (B,H,T,T) or delta (B,H,T)
@group(0) @binding(6) var<storage, read_write> dqkv: array<vec4<f32>>;
#endif
#else
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
#if ${FWD}
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@group(0) @binding(3) var<storage, read_write> saved: array<f32>;
#endif
#if ${BWD}
@group(0) @binding(2) var<storage, read> O: array<f32>;
@group(0) @binding(3) var<storage, read> saved: array<f32>;
@group(0) @binding(4) var<storage, read> dO: array<f32>;
@group(0) @binding(5) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(6) var<storage, read_write> dqkv: array<f32>;
#endif
#endif
#if ${DECODE}
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@group(0) @binding(3) var<storage, read_write> kc: array<f32>;
@group(0) @binding(4) var<storage, read_write> vc: array<f32>;
@group(0) @binding(5) var<storage, read> pos: array<u32>;
#endif

const NEG_BIG = -3.0e38;

// Index of q[b·T + i, head h, 0] in qkv (k: + C, v: + 2C).
fn qkv_row(b: u32, i: u32, h: u32) -> u32 { return (b * p.T + i) * 3u * p.C + h * p.hs; }
// Index of O[b·T + i, head h, 0] (also dO).
fn o_row(b: u32, i: u32, h: u32) -> u32 { return (b * p.T + i) * p.C + h * p.hs; }
// Row (b, h, i) of the (B, H, T) statistics.
fn stat_row(bh: u32, i: u32) -> u32 { return bh * p.T + i; }
// Index of P[b, h, i, 0] (also dS).
fn p_row(bh: u32, i: u32) -> u32 { return (bh * p.T + i) * p.T; }

// ---- generic kernels: one invocation per (b·H + h, row) --------------------------------------
#if ${GENERIC}
#if ${FWD}
// Online softmax over keys 0..i of query i; writes O and lse.
@compute @workgroup_size(64, 1, 1)
fn flash_fwd(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; let bh = gid.y;
  if (i >= p.T) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let qb = qkv_row(b, i, h);
  var q: array<f32, ${HSMAX}>;
  var o: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { q[d] = qkv[qb + d] * p.scale; o[d] = 0.0; }
  var m = NEG_BIG; var l = 0.0;
  for (var j = 0u; j <= i; j++) {
    let kb = qkv_row(b, j, h) + p.C;
    var s = 0.0;
    for (var d = 0u; d < p.hs; d++) { s = fma(q[d], qkv[kb + d], s); }
    let mn = max(m, s);
    let corr = exp(m - mn); let e = exp(s - mn);
    l = l * corr + e;
    let vb = kb + p.C;
    for (var d = 0u; d < p.hs; d++) { o[d] = fma(e, qkv[vb + d], o[d] * corr); }
    m = mn;
  }
  let ob = o_row(b, i, h);
  let inv = 1.0 / l;
  for (var d = 0u; d < p.hs; d++) { O[ob + d] = o[d] * inv; }
  saved[stat_row(bh, i)] = m + log(l);
}

// P[i, j] = softmax_j(scale·q_i·k_j) for j ≤ i, 0 above the diagonal.
@compute @workgroup_size(64, 1, 1)
fn unfused_scores(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; let bh = gid.y;
  if (i >= p.T) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let qb = qkv_row(b, i, h);
  let pb = p_row(bh, i);
  var q: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { q[d] = qkv[qb + d] * p.scale; }
  var m = NEG_BIG;
  for (var j = 0u; j <= i; j++) {
    let kb = qkv_row(b, j, h) + p.C;
    var s = 0.0;
    for (var d = 0u; d < p.hs; d++) { s = fma(q[d], qkv[kb + d], s); }
    saved[pb + j] = s;
    m = max(m, s);
  }
  var l = 0.0;
  for (var j = 0u; j <= i; j++) { let e = exp(saved[pb + j] - m); saved[pb + j] = e; l += e; }
  let inv = 1.0 / l;
  for (var j = 0u; j <= i; j++) { saved[pb + j] *= inv; }
  for (var j = i + 1u; j < p.T; j++) { saved[pb + j] = 0.0; }
}

// O[i] = Σ_{j ≤ i} P[i, j]·v_j.
@compute @workgroup_size(64, 1, 1)
fn unfused_pv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; let bh = gid.y;
  if (i >= p.T) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let pb = p_row(bh, i);
  var o: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { o[d] = 0.0; }
  for (var j = 0u; j <= i; j++) {
    let pr = saved[pb + j];
    let vb = qkv_row(b, j, h) + 2u * p.C;
    for (var d = 0u; d < p.hs; d++) { o[d] = fma(pr, qkv[vb + d], o[d]); }
  }
  let ob = o_row(b, i, h);
  for (var d = 0u; d < p.hs; d++) { O[ob + d] = o[d]; }
}
#endif

#if ${BWD}
// delta[i] = Σ_d dO[i, d]·O[i, d] (= Σ_j P_ij·dP_ij).
@compute @workgroup_size(64, 1, 1)
fn flash_delta(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; let bh = gid.y;
  if (i >= p.T) { return; }
  let ob = o_row(bh / p.H, i, bh % p.H);
  var s = 0.0;
  for (var d = 0u; d < p.hs; d++) { s = fma(dO[ob + d], O[ob + d], s); }
  scratch[stat_row(bh, i)] = s;
}

// dq_i = scale·Σ_{j ≤ i} P_ij (dO_i·v_j − delta_i)·k_j, P_ij = exp(scale·q_i·k_j − lse_i).
@compute @workgroup_size(64, 1, 1)
fn flash_dq(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; let bh = gid.y;
  if (i >= p.T) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let qb = qkv_row(b, i, h);
  let ob = o_row(b, i, h);
  var q: array<f32, ${HSMAX}>;
  var g: array<f32, ${HSMAX}>;
  var dq: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { q[d] = qkv[qb + d] * p.scale; g[d] = dO[ob + d]; dq[d] = 0.0; }
  let lse = saved[stat_row(bh, i)];
  let delta = scratch[stat_row(bh, i)];
  for (var j = 0u; j <= i; j++) {
    let kb = qkv_row(b, j, h) + p.C;
    let vb = kb + p.C;
    var s = 0.0; var dp = 0.0;
    for (var d = 0u; d < p.hs; d++) { s = fma(q[d], qkv[kb + d], s); dp = fma(g[d], qkv[vb + d], dp); }
    let ds = exp(s - lse) * (dp - delta);
    for (var d = 0u; d < p.hs; d++) { dq[d] = fma(ds, qkv[kb + d], dq[d]); }
  }
  for (var d = 0u; d < p.hs; d++) { dqkv[qb + d] = dq[d] * p.scale; }
}

// dk_j = scale·Σ_{i ≥ j} dS_ij·q_i, dv_j = Σ_{i ≥ j} P_ij·dO_i (P recomputed from lse).
@compute @workgroup_size(64, 1, 1)
fn flash_dkv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x; let bh = gid.y;
  if (j >= p.T) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let kb = qkv_row(b, j, h) + p.C;
  let vb = kb + p.C;
  var k: array<f32, ${HSMAX}>;
  var v: array<f32, ${HSMAX}>;
  var dk: array<f32, ${HSMAX}>;
  var dv: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { k[d] = qkv[kb + d]; v[d] = qkv[vb + d]; dk[d] = 0.0; dv[d] = 0.0; }
  for (var i = j; i < p.T; i++) {
    let qb = qkv_row(b, i, h);
    let ob = o_row(b, i, h);
    var s = 0.0; var dp = 0.0;
    for (var d = 0u; d < p.hs; d++) { s = fma(qkv[qb + d] * p.scale, k[d], s); dp = fma(dO[ob + d], v[d], dp); }
    let pr = exp(s - saved[stat_row(bh, i)]);
    let ds = pr * (dp - scratch[stat_row(bh, i)]);
    for (var d = 0u; d < p.hs; d++) { dv[d] = fma(pr, dO[ob + d], dv[d]); dk[d] = fma(ds, qkv[qb + d], dk[d]); }
  }
  for (var d = 0u; d < p.hs; d++) { dqkv[kb + d] = dk[d] * p.scale; dqkv[vb + d] = dv[d]; }
}

// dS_ij = P_ij (dO_i·v_j − Σ_j' P_ij'·dO_i·v_j') into scratch (j ≤ i); dq_i = scale·Σ_j dS_ij·k_j.
@compute @workgroup_size(64, 1, 1)
fn unfused_ds(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; let bh = gid.y;
  if (i >= p.T) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let qb = qkv_row(b, i, h);
  let ob = o_row(b, i, h);
  let pb = p_row(bh, i);
  var g: array<f32, ${HSMAX}>;
  var dq: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { g[d] = dO[ob + d]; dq[d] = 0.0; }
  var delta = 0.0;
  for (var j = 0u; j <= i; j++) {
    let vb = qkv_row(b, j, h) + 2u * p.C;
    var dp = 0.0;
    for (var d = 0u; d < p.hs; d++) { dp = fma(g[d], qkv[vb + d], dp); }
    scratch[pb + j] = dp;
    delta = fma(saved[pb + j], dp, delta);
  }
  for (var j = 0u; j <= i; j++) {
    let ds = saved[pb + j] * (scratch[pb + j] - delta);
    scratch[pb + j] = ds;
    let kb = qkv_row(b, j, h) + p.C;
    for (var d = 0u; d < p.hs; d++) { dq[d] = fma(ds, qkv[kb + d], dq[d]); }
  }
  for (var d = 0u; d < p.hs; d++) { dqkv[qb + d] = dq[d] * p.scale; }
}

// dk_j = scale·Σ_{i ≥ j} dS_ij·q_i, dv_j = Σ_{i ≥ j} P_ij·dO_i.
@compute @workgroup_size(64, 1, 1)
fn unfused_dkv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x; let bh = gid.y;
  if (j >= p.T) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let kb = qkv_row(b, j, h) + p.C;
  let vb = kb + p.C;
  var dk: array<f32, ${HSMAX}>;
  var dv: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { dk[d] = 0.0; dv[d] = 0.0; }
  for (var i = j; i < p.T; i++) {
    let pj = p_row(bh, i) + j;
    let pr = saved[pj]; let ds = scratch[pj];
    let qb = qkv_row(b, i, h);
    let ob = o_row(b, i, h);
    for (var d = 0u; d < p.hs; d++) { dv[d] = fma(pr, dO[ob + d], dv[d]); dk[d] = fma(ds, qkv[qb + d], dk[d]); }
  }
  for (var d = 0u; d < p.hs; d++) { dqkv[kb + d] = dk[d] * p.scale; dqkv[vb + d] = dv[d]; }
}
#endif
#endif

// ---- sg8 kernels: CPU drivers with 8-lane subgroups -------------------------------------------
// Built like matmul.wgsl's sg8: a workgroup is one subgroup of 8 lanes; storage loads are vec4s and
// an operand every lane needs is loaded once by one lane and spread with subgroupShuffle (a register
// shuffle on these drivers): no workgroup memory, no barriers. A score tile is 8 rows × 32 keys
// (lane l loads row l and owns keys 4l..4l+3: s[r] is a vec4); a row-output tile is 8 rows × hs
// (lane l owns dims 4l..4l+3, and 32 + 4l.. when HB2). Row maxima and sums across the lanes use
// subgroupMax/subgroupAdd (the same order on every run). Needs hs % 4 == 0 and hs ≤ 64.
#if ${SG8}

// acc + a.x·b0 + a.y·b1 + a.z·b2 + a.w·b3: one row over 4 steps of the reduction.
fn fma_row(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>, acc: vec4<f32>) -> vec4<f32> {
  return fma(vec4<f32>(a.w), b3, fma(vec4<f32>(a.z), b2, fma(vec4<f32>(a.y), b1, fma(vec4<f32>(a.x), b0, acc))));
}

// Vec4 index of the lane's dims 4l.. (v4_hi: 32 + 4l..) in a row whose head-h float index is
// `base`; lanes past the head size read its last vec4 (and never store).
fn v4_lo(base: u32, l: u32) -> u32 { return base / 4u + min(l, p.hs / 4u - 1u); }
fn v4_hi(base: u32, l: u32) -> u32 { return base / 4u + min(8u + l, p.hs / 4u - 1u); }

// Float indices of rows j..j+3 (clamped to T − 1) of batch row b, head h: in qkv (+ off), in O/dO.
fn rows4(b: u32, h: u32, j: u32, off: u32) -> vec4<u32> {
  let T1 = p.T - 1u;
  return vec4<u32>(qkv_row(b, min(j, T1), h), qkv_row(b, min(j + 1u, T1), h),
                   qkv_row(b, min(j + 2u, T1), h), qkv_row(b, min(j + 3u, T1), h)) + vec4<u32>(off);
}
fn orows4(b: u32, h: u32, j: u32) -> vec4<u32> {
  let T1 = p.T - 1u;
  return vec4<u32>(o_row(b, min(j, T1), h), o_row(b, min(j + 1u, T1), h), o_row(b, min(j + 2u, T1), h), o_row(b, min(j + 3u, T1), h));
}

fn zero8() -> array<vec4<f32>, 8> {
  var z: array<vec4<f32>, 8>;
  for (var r = 0u; r < 8u; r++) { z[r] = vec4<f32>(0.0); }
  return z;
}

// Score tile: s[r][e] = scale·qkv[row r of the lanes' A rows]·qkv[kb[e]] (A row of this lane at float
// index ab, B rows kb: the lane's 4 columns).
fn qk8(ab: u32, kb: vec4<u32>) -> array<vec4<f32>, 8> {
  var s = zero8();
  let a4 = ab / 4u; let k4 = kb / vec4<u32>(4u);
  for (var d = 0u; d < p.hs / 4u; d++) {
    let k0 = qkv[k4.x + d]; let k1 = qkv[k4.y + d]; let k2 = qkv[k4.z + d]; let k3 = qkv[k4.w + d];
    let b0 = vec4<f32>(k0.x, k1.x, k2.x, k3.x); let b1 = vec4<f32>(k0.y, k1.y, k2.y, k3.y);
    let b2 = vec4<f32>(k0.z, k1.z, k2.z, k3.z); let b3 = vec4<f32>(k0.w, k1.w, k2.w, k3.w);
    let a = qkv[a4 + d] * p.scale;
    for (var r = 0u; r < 8u; r++) { s[r] = fma_row(subgroupShuffle(a, r), b0, b1, b2, b3, s[r]); }
  }
  return s;
}

// acc[r] (the lane's dims) += Σ_sl (w[r] of lane sl) · qkv rows j0 + 4sl.. (+ off).
fn pv8(b: u32, h: u32, j0: u32, off: u32, l: u32, w: array<vec4<f32>, 8>, acc: ptr<function, array<vec4<f32>, 8>>, acc2: ptr<function, array<vec4<f32>, 8>>) {
  for (var sl = 0u; sl < 8u; sl++) {
    let rb = rows4(b, h, j0 + 4u * sl, off);
    let v0 = qkv[v4_lo(rb.x, l)]; let v1 = qkv[v4_lo(rb.y, l)]; let v2 = qkv[v4_lo(rb.z, l)]; let v3 = qkv[v4_lo(rb.w, l)];
#if ${HB2}
    let w0 = qkv[v4_hi(rb.x, l)]; let w1 = qkv[v4_hi(rb.y, l)]; let w2 = qkv[v4_hi(rb.z, l)]; let w3 = qkv[v4_hi(rb.w, l)];
#endif
    for (var r = 0u; r < 8u; r++) {
      let pb = subgroupShuffle(w[r], sl);
      (*acc)[r] = fma_row(pb, v0, v1, v2, v3, (*acc)[r]);
#if ${HB2}
      (*acc2)[r] = fma_row(pb, w0, w1, w2, w3, (*acc2)[r]);
#endif
    }
  }
}

#if ${FWD}
// Writes rows i0..i0+7 of the output tile (lane's dims) times inv[r] into O.
fn store_o(b: u32, h: u32, i0: u32, l: u32, o: array<vec4<f32>, 8>, o2: array<vec4<f32>, 8>, inv: array<f32, 8>) {
  for (var r = 0u; r < 8u; r++) {
    let i = i0 + r;
    if (i < p.T) {
      let ob = o_row(b, i, h) / 4u;
      if (l < p.hs / 4u) { O[ob + l] = o[r] * inv[r]; }
#if ${HB2}
      if (8u + l < p.hs / 4u) { O[ob + 8u + l] = o2[r] * inv[r]; }
#endif
    }
  }
}

// Flash forward: workgroup (row tile i0 = 8·wid.x, b·H + h = wid.y); online softmax over 32-key
// tiles j0 ≤ i; O = (Σ exp(s − m)·v) / Σ exp(s − m), lse = m + log Σ exp(s − m).
@compute @workgroup_size(8, 1, 1)
fn sg8_flash_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  let qb = qkv_row(b, min(i0 + l, T - 1u), h);
  var o = zero8(); var o2 = zero8();
  var m: array<f32, 8>; var ls: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { m[r] = NEG_BIG; ls[r] = 0.0; }
  for (var j0 = 0u; j0 < min(i0 + 8u, T); j0 += 32u) {
    let jl = j0 + 4u * l;
    var s = qk8(qb, rows4(b, h, jl, p.C));
    let jv = vec4<u32>(jl, jl + 1u, jl + 2u, jl + 3u);
    for (var r = 0u; r < 8u; r++) {
      let sr = select(vec4<f32>(NEG_BIG), s[r], jv <= vec4<u32>(i0 + r)); // causal mask
      let mn = max(m[r], subgroupMax(max(max(sr.x, sr.y), max(sr.z, sr.w))));
      let corr = exp(m[r] - mn);
      s[r] = exp(sr - vec4<f32>(mn));
      ls[r] = ls[r] * corr + subgroupAdd((s[r].x + s[r].y) + (s[r].z + s[r].w));
      m[r] = mn;
      o[r] *= corr; o2[r] *= corr;
    }
    pv8(b, h, j0, 2u * p.C, l, s, &o, &o2);
  }
  var inv: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) {
    inv[r] = 1.0 / ls[r];
    if (l == 0u && i0 + r < T) { saved[stat_row(bh, i0 + r)] = m[r] + log(ls[r]); }
  }
  store_o(b, h, i0, l, o, o2, inv);
}

// Unfused scores and softmax: P rows i0..i0+7 get the raw masked scores (pass 1, with the running
// max and sum), then are normalised in place with zeros above the diagonal (pass 2). Each lane
// rereads only what it wrote.
@compute @workgroup_size(8, 1, 1)
fn sg8_unfused_scores(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  let qb = qkv_row(b, min(i0 + l, T - 1u), h);
  var m: array<f32, 8>; var ls: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { m[r] = NEG_BIG; ls[r] = 0.0; }
  for (var j0 = 0u; j0 < min(i0 + 8u, T); j0 += 32u) {
    let jl = j0 + 4u * l;
    let s = qk8(qb, rows4(b, h, jl, p.C));
    let jv = vec4<u32>(jl, jl + 1u, jl + 2u, jl + 3u);
    for (var r = 0u; r < 8u; r++) {
      let i = i0 + r;
      let sr = select(vec4<f32>(NEG_BIG), s[r], jv <= vec4<u32>(i));
      let mn = max(m[r], subgroupMax(max(max(sr.x, sr.y), max(sr.z, sr.w))));
      ls[r] = ls[r] * exp(m[r] - mn) + subgroupAdd(dot(exp(sr - vec4<f32>(mn)), vec4<f32>(1.0)));
      m[r] = mn;
      if (i < T) { for (var e = 0u; e < 4u; e++) { if (jv[e] <= i) { saved[p_row(bh, i) + jv[e]] = sr[e]; } } }
    }
  }
  for (var j0 = 0u; j0 < T; j0 += 32u) {
    for (var r = 0u; r < 8u; r++) {
      let i = i0 + r;
      if (i < T) {
        let inv = 1.0 / ls[r];
        for (var e = 0u; e < 4u; e++) {
          let j = j0 + 4u * l + e; let at = p_row(bh, i) + j;
          if (j <= i) { saved[at] = exp(saved[at] - m[r]) * inv; } else if (j < T) { saved[at] = 0.0; }
        }
      }
    }
  }
}

// Unfused O rows i0..i0+7 = P·V over the keys j ≤ i (P is zero above the diagonal).
@compute @workgroup_size(8, 1, 1)
fn sg8_unfused_pv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  var o = zero8(); var o2 = zero8();
  for (var j0 = 0u; j0 < min(i0 + 8u, T); j0 += 32u) {
    let jv = vec4<u32>(j0 + 4u * l) + vec4<u32>(0u, 1u, 2u, 3u);
    let jc = min(jv, vec4<u32>(T - 1u));
    var pr: array<vec4<f32>, 8>;
    for (var r = 0u; r < 8u; r++) {
      let base = p_row(bh, min(i0 + r, T - 1u));
      pr[r] = select(vec4<f32>(0.0), vec4<f32>(saved[base + jc.x], saved[base + jc.y], saved[base + jc.z], saved[base + jc.w]), jv < vec4<u32>(T));
    }
    pv8(b, h, j0, 2u * p.C, l, pr, &o, &o2);
  }
  var one: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { one[r] = 1.0; }
  store_o(b, h, i0, l, o, o2, one);
}
#endif

#if ${BWD}
// dP tile: dp[r][e] = dO[row r of the lanes' rows]·qkv[vb[e]] (this lane's dO row at float index gb).
fn gv8(gb: u32, vb: vec4<u32>) -> array<vec4<f32>, 8> {
  var s = zero8();
  let g4 = gb / 4u; let v4 = vb / vec4<u32>(4u);
  for (var d = 0u; d < p.hs / 4u; d++) {
    let v0 = qkv[v4.x + d]; let v1 = qkv[v4.y + d]; let v2 = qkv[v4.z + d]; let v3 = qkv[v4.w + d];
    let c0 = vec4<f32>(v0.x, v1.x, v2.x, v3.x); let c1 = vec4<f32>(v0.y, v1.y, v2.y, v3.y);
    let c2 = vec4<f32>(v0.z, v1.z, v2.z, v3.z); let c3 = vec4<f32>(v0.w, v1.w, v2.w, v3.w);
    let g = dO[g4 + d];
    for (var r = 0u; r < 8u; r++) { s[r] = fma_row(subgroupShuffle(g, r), c0, c1, c2, c3, s[r]); }
  }
  return s;
}

// dPᵀ tile: s[r][e] = qkv[row r of the lanes' rows (float index ab)]·dO[gb[e]].
fn vg8(ab: u32, gb: vec4<u32>) -> array<vec4<f32>, 8> {
  var s = zero8();
  let a4 = ab / 4u; let g4 = gb / vec4<u32>(4u);
  for (var d = 0u; d < p.hs / 4u; d++) {
    let g0 = dO[g4.x + d]; let g1 = dO[g4.y + d]; let g2 = dO[g4.z + d]; let g3 = dO[g4.w + d];
    let c0 = vec4<f32>(g0.x, g1.x, g2.x, g3.x); let c1 = vec4<f32>(g0.y, g1.y, g2.y, g3.y);
    let c2 = vec4<f32>(g0.z, g1.z, g2.z, g3.z); let c3 = vec4<f32>(g0.w, g1.w, g2.w, g3.w);
    let a = qkv[a4 + d];
    for (var r = 0u; r < 8u; r++) { s[r] = fma_row(subgroupShuffle(a, r), c0, c1, c2, c3, s[r]); }
  }
  return s;
}

// acc[r] (the lane's dims) += Σ_sl (w[r] of lane sl) · dO rows i0 + 4sl...
fn pg8(b: u32, h: u32, i0: u32, l: u32, w: array<vec4<f32>, 8>, acc: ptr<function, array<vec4<f32>, 8>>, acc2: ptr<function, array<vec4<f32>, 8>>) {
  for (var sl = 0u; sl < 8u; sl++) {
    let rb = orows4(b, h, i0 + 4u * sl);
    let v0 = dO[v4_lo(rb.x, l)]; let v1 = dO[v4_lo(rb.y, l)]; let v2 = dO[v4_lo(rb.z, l)]; let v3 = dO[v4_lo(rb.w, l)];
#if ${HB2}
    let w0 = dO[v4_hi(rb.x, l)]; let w1 = dO[v4_hi(rb.y, l)]; let w2 = dO[v4_hi(rb.z, l)]; let w3 = dO[v4_hi(rb.w, l)];
#endif
    for (var r = 0u; r < 8u; r++) {
      let pb = subgroupShuffle(w[r], sl);
      (*acc)[r] = fma_row(pb, v0, v1, v2, v3, (*acc)[r]);
#if ${HB2}
      (*acc2)[r] = fma_row(pb, w0, w1, w2, w3, (*acc2)[r]);
#endif
    }
  }
}

// dqkv rows r0..r0+7 (+ off floats: 0 dQ, C dK, 2C dV), the lane's dims, times `scale`.
fn store_d(b: u32, h: u32, r0: u32, off: u32, l: u32, x: array<vec4<f32>, 8>, x2: array<vec4<f32>, 8>, scale: f32) {
  for (var r = 0u; r < 8u; r++) {
    if (r0 + r < p.T) {
      let at = (qkv_row(b, r0 + r, h) + off) / 4u;
      if (l < p.hs / 4u) { dqkv[at + l] = x[r] * scale; }
#if ${HB2}
      if (8u + l < p.hs / 4u) { dqkv[at + 8u + l] = x2[r] * scale; }
#endif
    }
  }
}

// delta[i] = Σ_d dO[i, d]·O[i, d]; one lane per row.
@compute @workgroup_size(8, 1, 1)
fn sg8_delta(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; let bh = gid.y;
  if (i >= p.T) { return; }
  let ob = o_row(bh / p.H, i, bh % p.H) / 4u;
  var s = vec4<f32>(0.0);
  for (var d = 0u; d < p.hs / 4u; d++) { s = fma(dO[ob + d], O[ob + d], s); }
  scratch[stat_row(bh, i)] = (s.x + s.y) + (s.z + s.w);
}

// Flash dQ: workgroup (query tile i0 = 8·wid.x, b·H + h); over 32-key tiles j ≤ i in order:
// P = exp(scale·Q·Kᵀ − lse), dS = P ∘ (dO·Vᵀ − delta), dQ += dS·K.
@compute @workgroup_size(8, 1, 1)
fn sg8_flash_dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  let il = min(i0 + l, T - 1u);
  var dq = zero8(); var dq2 = zero8();
  var lse: array<f32, 8>; var dl: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { let st = stat_row(bh, min(i0 + r, T - 1u)); lse[r] = saved[st]; dl[r] = scratch[st]; }
  for (var j0 = 0u; j0 < min(i0 + 8u, T); j0 += 32u) {
    let jl = j0 + 4u * l;
    var s = qk8(qkv_row(b, il, h), rows4(b, h, jl, p.C));
    let dp = gv8(o_row(b, il, h), rows4(b, h, jl, 2u * p.C));
    let jv = vec4<u32>(jl, jl + 1u, jl + 2u, jl + 3u);
    for (var r = 0u; r < 8u; r++) {
      let pr = select(vec4<f32>(0.0), exp(s[r] - vec4<f32>(lse[r])), jv <= vec4<u32>(i0 + r));
      s[r] = pr * (dp[r] - vec4<f32>(dl[r])); // dS
    }
    pv8(b, h, j0, p.C, l, s, &dq, &dq2);
  }
  store_d(b, h, i0, 0u, l, dq, dq2, p.scale);
}

// Flash dK, dV: workgroup (key tile j0 = 8·wid.x, b·H + h); over 32-query tiles i ≥ j0 in order:
// Pᵀ = exp(scale·K·Qᵀ − lse), dSᵀ = Pᵀ ∘ (V·dOᵀ − delta), dV += Pᵀ·dO, dK += dSᵀ·Q.
@compute @workgroup_size(8, 1, 1)
fn sg8_flash_dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let j0 = wid.x * 8u;
  let kb = qkv_row(b, min(j0 + l, T - 1u), h) + p.C; // this lane's key row, for the loads
  var dk = zero8(); var dk2 = zero8(); var dv = zero8(); var dv2 = zero8();
  for (var i0 = j0; i0 < T; i0 += 32u) {
    let il = i0 + 4u * l;
    var st = qk8(kb, rows4(b, h, il, 0u));
    var dpt = vg8(kb + p.C, orows4(b, h, il));
    let iv = vec4<u32>(il, il + 1u, il + 2u, il + 3u);
    let sr = vec4<u32>(bh * T) + min(iv, vec4<u32>(T - 1u));
    let lse = vec4<f32>(saved[sr.x], saved[sr.y], saved[sr.z], saved[sr.w]);
    let dl = vec4<f32>(scratch[sr.x], scratch[sr.y], scratch[sr.z], scratch[sr.w]);
    for (var r = 0u; r < 8u; r++) {
      st[r] = select(vec4<f32>(0.0), exp(st[r] - lse), (iv < vec4<u32>(T)) & (iv >= vec4<u32>(j0 + r)));
      dpt[r] = st[r] * (dpt[r] - dl); // dSᵀ
    }
    pg8(b, h, i0, l, st, &dv, &dv2);
    pv8(b, h, i0, 0u, l, dpt, &dk, &dk2);
  }
  store_d(b, h, j0, p.C, l, dk, dk2, p.scale);
  store_d(b, h, j0, 2u * p.C, l, dv, dv2, 1.0);
}

// The lane's entries (keys jl..jl+3) of rows i0..i0+7 of P (saved) or of scratch; 0 where j ≥ T.
fn load8(from_scratch: bool, bh: u32, i0: u32, jl: u32) -> array<vec4<f32>, 8> {
  var out: array<vec4<f32>, 8>;
  let jv = vec4<u32>(jl) + vec4<u32>(0u, 1u, 2u, 3u);
  let jc = min(jv, vec4<u32>(p.T - 1u));
  for (var r = 0u; r < 8u; r++) {
    let e = vec4<u32>(p_row(bh, min(i0 + r, p.T - 1u))) + jc;
    var v: vec4<f32>;
    if (from_scratch) { v = vec4<f32>(scratch[e.x], scratch[e.y], scratch[e.z], scratch[e.w]); }
    else { v = vec4<f32>(saved[e.x], saved[e.y], saved[e.z], saved[e.w]); }
    out[r] = select(vec4<f32>(0.0), v, jv < vec4<u32>(p.T));
  }
  return out;
}

// Stores the lane's entries (keys jl..jl+3, j ≤ i) of rows i0..i0+7 into scratch.
fn store8(bh: u32, i0: u32, jl: u32, x: array<vec4<f32>, 8>) {
  for (var r = 0u; r < 8u; r++) {
    let i = i0 + r;
    if (i < p.T) { for (var e = 0u; e < 4u; e++) { if (jl + e <= i) { scratch[p_row(bh, i) + jl + e] = x[r][e]; } } }
  }
}

// Unfused, query tile i0..i0+7: dP = dO·Vᵀ into scratch with delta = Σ_j P·dP (pass 1), then
// dS = P ∘ (dP − delta) into scratch and dQ = scale·dS·K (pass 2).
@compute @workgroup_size(8, 1, 1)
fn sg8_unfused_ds(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  let gb = o_row(b, min(i0 + l, T - 1u), h);
  var dl: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { dl[r] = 0.0; }
  var dq = zero8(); var dq2 = zero8();
  let iend = min(i0 + 8u, T);
  for (var j0 = 0u; j0 < iend; j0 += 32u) {
    let jl = j0 + 4u * l;
    let dp = gv8(gb, rows4(b, h, jl, 2u * p.C));
    let pr = load8(false, bh, i0, jl);
    for (var r = 0u; r < 8u; r++) { dl[r] += subgroupAdd(dot(pr[r], dp[r])); }
    store8(bh, i0, jl, dp);
  }
  for (var j0 = 0u; j0 < iend; j0 += 32u) {
    let jl = j0 + 4u * l;
    let pr = load8(false, bh, i0, jl);
    var ds = load8(true, bh, i0, jl);
    let jv = vec4<u32>(jl) + vec4<u32>(0u, 1u, 2u, 3u);
    for (var r = 0u; r < 8u; r++) { ds[r] = select(vec4<f32>(0.0), pr[r] * (ds[r] - vec4<f32>(dl[r])), jv <= vec4<u32>(i0 + r)); }
    store8(bh, i0, jl, ds);
    pv8(b, h, j0, p.C, l, ds, &dq, &dq2);
  }
  store_d(b, h, i0, 0u, l, dq, dq2, p.scale);
}

// Unfused, key tile j0..j0+7: dV = Pᵀ·dO, dK = scale·dSᵀ·Q over 32-query tiles i ≥ j0 in order.
@compute @workgroup_size(8, 1, 1)
fn sg8_unfused_dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let j0 = wid.x * 8u;
  var dk = zero8(); var dk2 = zero8(); var dv = zero8(); var dv2 = zero8();
  for (var i0 = j0; i0 < T; i0 += 32u) {
    let iv = vec4<u32>(i0 + 4u * l) + vec4<u32>(0u, 1u, 2u, 3u);
    let ic = min(iv, vec4<u32>(T - 1u));
    let rows = vec4<u32>(p_row(bh, ic.x), p_row(bh, ic.y), p_row(bh, ic.z), p_row(bh, ic.w));
    var pt: array<vec4<f32>, 8>;
    var dst: array<vec4<f32>, 8>;
    for (var r = 0u; r < 8u; r++) {
      let e = rows + vec4<u32>(min(j0 + r, T - 1u));
      let ok = (iv < vec4<u32>(T)) & (iv >= vec4<u32>(j0 + r));
      pt[r] = select(vec4<f32>(0.0), vec4<f32>(saved[e.x], saved[e.y], saved[e.z], saved[e.w]), ok);
      dst[r] = select(vec4<f32>(0.0), vec4<f32>(scratch[e.x], scratch[e.y], scratch[e.z], scratch[e.w]), ok);
    }
    pg8(b, h, i0, l, pt, &dv, &dv2);
    pv8(b, h, i0, 0u, l, dst, &dk, &dk2);
  }
  store_d(b, h, j0, p.C, l, dk, dk2, p.scale);
  store_d(b, h, j0, 2u * p.C, l, dv, dv2, 1.0);
}
#endif
#endif

#if ${DECODE}
// kc[b, pos + i] = k of qkv row b·n + i, vc[b, pos + i] = its v (skipped at rows ≥ Tk). One invocation
// per (c, b·n + i).
@compute @workgroup_size(64, 1, 1)
fn kv_append(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x; let r = gid.y;
  if (c >= p.C || r >= p.B * p.T) { return; }
  let b = r / p.T;
  let t = pos[0] + r % p.T;
  if (t >= p.Tk) { return; }
  let src = r * 3u * p.C + c;
  let dst = (b * p.Tk + t) * p.C + c;
  kc[dst] = qkv[src + p.C];
  vc[dst] = qkv[src + 2u * p.C];
}

// O[b·n + i, head h] = softmax over keys 0..pos + i of scale·q·k, times v. One invocation per
// (b·n + i)·H + h.
@compute @workgroup_size(64, 1, 1)
fn decode(@builtin(global_invocation_id) gid: vec3<u32>) {
  let rh = gid.x;
  if (rh >= p.B * p.T * p.H) { return; }
  let r = rh / p.H; let h = rh % p.H;
  let b = r / p.T;
  let n = min(pos[0] + r % p.T, p.Tk - 1u) + 1u;
  let qb = r * 3u * p.C + h * p.hs;
  var q: array<f32, ${HSMAX}>;
  var o: array<f32, ${HSMAX}>;
  for (var d = 0u; d < p.hs; d++) { q[d] = qkv[qb + d] * p.scale; o[d] = 0.0; }
  var m = NEG_BIG; var l = 0.0;
  for (var j = 0u; j < n; j++) {
    let kb = (b * p.Tk + j) * p.C + h * p.hs;
    var s = 0.0;
    for (var d = 0u; d < p.hs; d++) { s = fma(q[d], kc[kb + d], s); }
    let mn = max(m, s);
    let corr = exp(m - mn); let e = exp(s - mn);
    l = l * corr + e;
    for (var d = 0u; d < p.hs; d++) { o[d] = fma(e, vc[kb + d], o[d] * corr); }
    m = mn;
  }
  let ob = r * p.C + h * p.hs;
  let inv = 1.0 / l;
  for (var d = 0u; d < p.hs; d++) { O[ob + d] = o[d] * inv; }
}
#endif
