// Incremental decoding of causal multi-head self-attention over a key/value cache (wrapper:
// src/kernels/attention-decode.ts). Layout and Params as attention.wgsl (attention-common.wgsl):
//   qkv (B·n, 3C) the q, k, v of n = p.T new tokens per batch row (n = 1: a step; n > 1: a prefill),
//   row b·n + i at position pos[0] + i; kc, vc (B, Tk, C) the caches; pos[0] = t.
// kv_append copies the new tokens' k, v from qkv into kc, vc at rows t..t+n−1; decode attends query
// row b·n + i (the q cols of qkv) to keys 0..t+i of batch row b (causal within the n). One
// invocation per output row, summing in a fixed order.
// Defines: HSMAX (private array length ≥ hs: 64 or 256).

#include "attention-common.wgsl"

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@group(0) @binding(3) var<storage, read_write> kc: array<f32>;
@group(0) @binding(4) var<storage, read_write> vc: array<f32>;
@group(0) @binding(5) var<storage, read> pos: array<u32>;

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
