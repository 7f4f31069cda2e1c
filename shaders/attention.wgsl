// Causal multi-head self-attention, forward and backward (wrapper: src/kernels/attention.ts;
// decoding over a key/value cache: attention-decode.wgsl).
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
//
// Two flavours of each kernel: generic (one invocation per row, any adapter; below) and sg8 (CPU
// drivers with 8-lane subgroups; shaders/include/attention-sg8-*.wgsl).
// Defines: FWD, BWD (exactly one true: which bindings the module declares); SG8, GENERIC
//   (which flavour: vec4 or f32 bindings); HSMAX (private array length ≥ hs, generic kernels: 64 or
//   256); HB2 (sg8: hs > 32, a second 32-dim block per lane); SUBGROUPS (device feature; sg8 needs it).
#if ${SUBGROUPS}
enable subgroups;
#endif

#include "attention-common.wgsl"

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

#if ${SG8}
#include "attention-sg8-tiles.wgsl"
#if ${FWD}
#include "attention-sg8-fwd.wgsl"
#endif
#if ${BWD}
#include "attention-sg8-bwd.wgsl"
#endif
#endif
