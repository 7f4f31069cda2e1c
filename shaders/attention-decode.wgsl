// Incremental decoding of causal multi-head self-attention (T_q = 1 over a key/value cache; wrapper:
// src/kernels/attention-decode.ts). Layout and Params as attention.wgsl (attention-common.wgsl):
//   qkv (B, 3C) the new token's q, k, v (p.T = 1); kc, vc (B, Tk, C) the caches; pos[0] = t.
// kv_append copies the new token's k, v from qkv into kc, vc at row t; decode attends query b (the q
// cols of qkv) to keys 0..t. One invocation per output row, summing in a fixed order.
// Defines: HSMAX (private array length ≥ hs: 64 or 256).

#include "attention-common.wgsl"

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@group(0) @binding(3) var<storage, read_write> kc: array<f32>;
@group(0) @binding(4) var<storage, read_write> vc: array<f32>;
@group(0) @binding(5) var<storage, read> pos: array<u32>;

// kc[b, pos] = k of qkv row b, vc[b, pos] = its v (skipped when pos ≥ Tk). One invocation per (c, b).
@compute @workgroup_size(64, 1, 1)
fn kv_append(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x; let b = gid.y;
  let t = pos[0];
  if (c >= p.C || b >= p.B || t >= p.Tk) { return; }
  let src = b * 3u * p.C + c;
  let dst = (b * p.Tk + t) * p.C + c;
  kc[dst] = qkv[src + p.C];
  vc[dst] = qkv[src + 2u * p.C];
}

// O[b, head h] = softmax over keys 0..pos of scale·q·k, times v. One invocation per b·H + h.
@compute @workgroup_size(64, 1, 1)
fn decode(@builtin(global_invocation_id) gid: vec3<u32>) {
  let bh = gid.x;
  if (bh >= p.B * p.H) { return; }
  let b = bh / p.H; let h = bh % p.H;
  let n = min(pos[0], p.Tk - 1u) + 1u;
  let qb = b * 3u * p.C + h * p.hs;
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
  let ob = b * p.C + h * p.hs;
  let inv = 1.0 / l;
  for (var d = 0u; d < p.hs; d++) { O[ob + d] = o[d] * inv; }
}
