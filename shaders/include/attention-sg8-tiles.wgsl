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
fn orows4(b: u32, h: u32, j: u32, off: u32) -> vec4<u32> {
  let T1 = p.T - 1u;
  return vec4<u32>(o_row(b, min(j, T1), h), o_row(b, min(j + 1u, T1), h),
                   o_row(b, min(j + 2u, T1), h), o_row(b, min(j + 3u, T1), h)) + vec4<u32>(off);
}

fn zero8() -> array<vec4<f32>, 8> {
  var z: array<vec4<f32>, 8>;
  for (var r = 0u; r < 8u; r++) { z[r] = vec4<f32>(0.0); }
  return z;
}

// Score tile: s[r][e] = scale·q·k (or k·q) over the head dims, both rows in qkv.
#include "attention-sg8-product.wgsl" FN=qk8 A=qkv B=qkv SCALE=p.scale

// Accumulates P·V (or dS·K, dSᵀ·Q): the rows are qkv rows.
#include "attention-sg8-accumulate.wgsl" FN=pv8 SRC=qkv ROWS=rows4
