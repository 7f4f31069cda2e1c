// attention.wgsl's sg8 tile helpers (included where SG8 is true): CPU drivers with 8-lane subgroups.

// Built like matmul.wgsl's sg8: a workgroup is one subgroup of 8 lanes; storage loads are vec4s and

// an operand every lane needs is loaded once by one lane and spread with subgroupShuffle (a register
// shuffle on these drivers): no workgroup memory, no barriers. A score tile is 8 rows × 32 keys
// (lane l loads row l and owns keys 4l..4l+3: s[r] is a vec4); a row-output tile is 8 rows × hs
// (lane l owns dims 4l..4l+3, and 32 + 4l.. when HB2). Row maxima and sums across the lanes use
// subgroupMax/subgroupAdd (the same order on every run). Needs hs % 4 == 0 and hs ≤ 64.

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
