// attention.wgsl's sg8 backward kernels (included where SG8 and BWD are true; the tile
// helpers come from attention-sg8-tiles.wgsl).

// dP = dO·Vᵀ and dPᵀ = V·dOᵀ tiles (unscaled), and dV += Pᵀ·dO (rows of dO).
#include "attention-sg8-product.wgsl" FN=gv8 A=dO B=qkv SCALE=1.0
#include "attention-sg8-product.wgsl" FN=vg8 A=qkv B=dO SCALE=1.0
#include "attention-sg8-accumulate.wgsl" FN=pg8 SRC=dO ROWS=orows4

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
    var dpt = vg8(kb + p.C, orows4(b, h, il, 0u));
    let iv = vec4<u32>(il, il + 1u, il + 2u, il + 3u);
    let sr = vec4<u32>(bh * T) + min(iv, vec4<u32>(T - 1u));
    let lse = vec4<f32>(saved[sr.x], saved[sr.y], saved[sr.z], saved[sr.w]);
    let dl = vec4<f32>(scratch[sr.x], scratch[sr.y], scratch[sr.z], scratch[sr.w]);
    for (var r = 0u; r < 8u; r++) {
      st[r] = select(vec4<f32>(0.0), exp(st[r] - lse), (iv < vec4<u32>(T)) & (iv >= vec4<u32>(j0 + r)));
      dpt[r] = st[r] * (dpt[r] - dl); // dSᵀ
    }
    pg8(b, h, i0, 0u, l, st, &dv, &dv2);
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
    pg8(b, h, i0, 0u, l, pt, &dv, &dv2);
    pv8(b, h, i0, 0u, l, dst, &dk, &dk2);
  }
  store_d(b, h, j0, p.C, l, dk, dk2, p.scale);
  store_d(b, h, j0, 2u * p.C, l, dv, dv2, 1.0);
}
