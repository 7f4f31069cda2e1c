// C = op(A)·op(B) [+ bias] [→ relu]
//   op(A) is (M, K): A is (M, K), or (K, M) when TRANS_A
//   op(B) is (K, N): B is (K, N), or (N, K) when TRANS_B
//   C is (M, N), bias is (N)
// Covers dense forward (X·W + b), input gradient (dY·Wᵀ) and weight gradient (Xᵀ·dY).
//
// Two kernels (the wrapper picks one per adapter, src/kernels/matmul.ts):
//   sg8   for CPU drivers (lavapipe/llvmpipe, subgroup size 8). There every storage-buffer load
//         is a loop over the 8 SIMD lanes (offset extract, bounds check, insert per component), so
//         cost is counted in loads, not FMAs. One workgroup = one subgroup owns a 16×32 tile of
//         C: lane l owns columns c..c+3 (c = 32·wx + 4l) of 16 rows; per 4 steps of k it makes 2
//         vec4 loads of A (lane l loads row l and row 8+l) and 4 vec4 loads of B (4 rows of its
//         columns), and gets each A row to every lane with subgroupBroadcast (a register
//         extract). No workgroup memory, no barriers.
//   tiled for real GPUs: 16×16 threads, a 64×64 tile of C (4×4 per thread), 16-deep k slices
//         staged in workgroup memory with vec4 global loads, two barriers per slice.
// Defines: TRANS_A, TRANS_B, BIAS, RELU (bool); VEC_A, VEC_B, VEC_C (bool, the wrapper sets them
//   from divisibility: VEC_A = rows of A hold a multiple of 4 values (K, or M when TRANS_A),
//   VEC_B likewise (N, or K when TRANS_B), VEC_C = N % 4 == 0); SUBGROUPS (bool, device feature;
//   sg8 needs it).
// Out-of-range rows/columns are clamped on load (never stored); out-of-range k reads as zero.
#if ${SUBGROUPS}
enable subgroups;
#endif

struct Params { M: u32, N: u32, K: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
#if ${VEC_A}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> A: array<f32>;
#endif
#if ${VEC_B}
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
#else
@group(0) @binding(2) var<storage, read> B: array<f32>;
#endif
#if ${VEC_C}
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;
#else
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
#endif
#if ${BIAS}
#if ${VEC_C}
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
#else
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif
#endif

// ---- shared helpers -------------------------------------------------------------------------

// op(A)[r, k..k+3] as a vec4 (r clamped into range, k beyond K reads 0). Scalar loads: used when
// a row of A is not a whole number of vec4s, and by sg8 when TRANS_A.
fn a_quad_k(r: u32, k: u32) -> vec4<f32> {
#if ${VEC_A}
#if ${TRANS_A}
  // (unused: TRANS_A with VEC_A loads along M)
  return vec4<f32>(0.0);
#else
  let v = A[(min(r, p.M - 1u) * p.K + min(k, p.K - 4u)) / 4u];
  return select(vec4<f32>(0.0), v, k < p.K);
#endif
#else
  let rr = min(r, p.M - 1u);
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e = e + 1u) {
    let kk = k + e;
#if ${TRANS_A}
    let x = A[min(kk, p.K - 1u) * p.M + rr];
#else
    let x = A[rr * p.K + min(kk, p.K - 1u)];
#endif
    v[e] = select(0.0, x, kk < p.K);
  }
  return v;
#endif
}

// op(B)[k, c..c+3] as a vec4 (c clamped into range, k beyond K reads 0), for !TRANS_B or scalar.
fn b_quad_n(k: u32, c: u32) -> vec4<f32> {
  let kk = min(k, p.K - 1u);
#if ${VEC_B}
#if ${TRANS_B}
  return vec4<f32>(0.0); // (unused: TRANS_B with VEC_B loads along K)
#else
  let v = B[(kk * p.N + min(c, p.N - 4u)) / 4u];
  return select(vec4<f32>(0.0), v, k < p.K);
#endif
#else
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e = e + 1u) {
    let cc = min(c + e, p.N - 1u);
#if ${TRANS_B}
    v[e] = B[cc * p.K + kk];
#else
    v[e] = B[kk * p.N + cc];
#endif
  }
  return select(vec4<f32>(0.0), v, k < p.K);
#endif
}

// Stores C[r, c..c+3] = acc [+ bias] [→ relu], skipping what lies outside (M, N).
fn store4(r: u32, c: u32, acc: vec4<f32>) {
  if (r >= p.M || c >= p.N) { return; }
  var v = acc;
#if ${VEC_C}
#if ${BIAS}
  v += bias[c / 4u];
#endif
#if ${RELU}
  v = max(v, vec4<f32>(0.0));
#endif
  C[(r * p.N + c) / 4u] = v;
#else
#if ${BIAS}
  for (var e = 0u; e < 4u; e = e + 1u) { if (c + e < p.N) { v[e] += bias[c + e]; } }
#endif
#if ${RELU}
  v = max(v, vec4<f32>(0.0));
#endif
  let base = r * p.N + c;
  C[base] = v.x;
  if (c + 1u < p.N) { C[base + 1u] = v.y; }
  if (c + 2u < p.N) { C[base + 2u] = v.z; }
  if (c + 3u < p.N) { C[base + 3u] = v.w; }
#endif
}

// ---- sg8: CPU drivers ------------------------------------------------------------------------
#if ${SUBGROUPS}

// acc += a.x·b0 + a.y·b1 + a.z·b2 + a.w·b3: one row of the tile over 4 steps of k.
fn fma_row(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>, acc: ptr<function, vec4<f32>>) {
  *acc = fma(vec4<f32>(a.w), b3, fma(vec4<f32>(a.z), b2, fma(vec4<f32>(a.y), b1, fma(vec4<f32>(a.x), b0, *acc))));
}

@compute @workgroup_size(8, 1, 1)
fn sg8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let r0 = wid.y * 16u;
  let c = wid.x * 32u + 4u * l;
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0); var acc5 = vec4<f32>(0.0); var acc6 = vec4<f32>(0.0); var acc7 = vec4<f32>(0.0);
  var acc8 = vec4<f32>(0.0); var acc9 = vec4<f32>(0.0); var acc10 = vec4<f32>(0.0); var acc11 = vec4<f32>(0.0);
  var acc12 = vec4<f32>(0.0); var acc13 = vec4<f32>(0.0); var acc14 = vec4<f32>(0.0); var acc15 = vec4<f32>(0.0);
#if ${VEC_B}
#if ${TRANS_B}
  // B is (N, K), K % 4 == 0: lane reads 4 vec4s along k, one per column, transposed in registers.
  let bc0 = min(c, p.N - 1u) * (p.K / 4u);
  let bc1 = min(c + 1u, p.N - 1u) * (p.K / 4u);
  let bc2 = min(c + 2u, p.N - 1u) * (p.K / 4u);
  let bc3 = min(c + 3u, p.N - 1u) * (p.K / 4u);
#endif
#endif
#if ${VEC_A}
#if ${TRANS_A}
  // A is (K, M), M % 4 == 0: lane l reads op(A)[m .. m+3, k + l/2] with m = r0 + 4·(l % 2) (+ 8).
  let am0 = min(r0 + 4u * (l & 1u), p.M - 4u) / 4u;
  let am1 = min(r0 + 8u + 4u * (l & 1u), p.M - 4u) / 4u;
  let ak = l >> 1u;
  let M4 = p.M / 4u;
#endif
#endif
  for (var k = 0u; k < p.K; k = k + 4u) {
    // -- B: b0..b3 = op(B)[k + i, c..c+3]
#if ${VEC_B}
#if ${TRANS_B}
    let k4 = k / 4u;
    let v0 = B[bc0 + k4]; let v1 = B[bc1 + k4]; let v2 = B[bc2 + k4]; let v3 = B[bc3 + k4];
    let b0 = vec4<f32>(v0.x, v1.x, v2.x, v3.x);
    let b1 = vec4<f32>(v0.y, v1.y, v2.y, v3.y);
    let b2 = vec4<f32>(v0.z, v1.z, v2.z, v3.z);
    let b3 = vec4<f32>(v0.w, v1.w, v2.w, v3.w);
#else
    let b0 = b_quad_n(k, c); let b1 = b_quad_n(k + 1u, c); let b2 = b_quad_n(k + 2u, c); let b3 = b_quad_n(k + 3u, c);
#endif
#else
    let b0 = b_quad_n(k, c); let b1 = b_quad_n(k + 1u, c); let b2 = b_quad_n(k + 2u, c); let b3 = b_quad_n(k + 3u, c);
#endif
    // -- A: each lane loads a vec4; every tile row reaches all lanes by subgroupBroadcast
#if ${VEC_A}
#if ${TRANS_A}
    let kq = k + ak;
    let kc = min(kq, p.K - 1u) * M4;
    let h0 = select(vec4<f32>(0.0), A[kc + am0], kq < p.K); // rows r0 + 4(l%2) + e at k + l/2
    let h1 = select(vec4<f32>(0.0), A[kc + am1], kq < p.K); // rows r0 + 8 + ...
    // lane 2i + q holds rows 4q..4q+3 at k + i: gather each row's 4 k values
    let s00 = subgroupBroadcast(h0, 0u); let s01 = subgroupBroadcast(h0, 2u); let s02 = subgroupBroadcast(h0, 4u); let s03 = subgroupBroadcast(h0, 6u);
    let s10 = subgroupBroadcast(h0, 1u); let s11 = subgroupBroadcast(h0, 3u); let s12 = subgroupBroadcast(h0, 5u); let s13 = subgroupBroadcast(h0, 7u);
    let s20 = subgroupBroadcast(h1, 0u); let s21 = subgroupBroadcast(h1, 2u); let s22 = subgroupBroadcast(h1, 4u); let s23 = subgroupBroadcast(h1, 6u);
    let s30 = subgroupBroadcast(h1, 1u); let s31 = subgroupBroadcast(h1, 3u); let s32 = subgroupBroadcast(h1, 5u); let s33 = subgroupBroadcast(h1, 7u);
    fma_row(vec4<f32>(s00.x, s01.x, s02.x, s03.x), b0, b1, b2, b3, &acc0);
    fma_row(vec4<f32>(s00.y, s01.y, s02.y, s03.y), b0, b1, b2, b3, &acc1);
    fma_row(vec4<f32>(s00.z, s01.z, s02.z, s03.z), b0, b1, b2, b3, &acc2);
    fma_row(vec4<f32>(s00.w, s01.w, s02.w, s03.w), b0, b1, b2, b3, &acc3);
    fma_row(vec4<f32>(s10.x, s11.x, s12.x, s13.x), b0, b1, b2, b3, &acc4);
    fma_row(vec4<f32>(s10.y, s11.y, s12.y, s13.y), b0, b1, b2, b3, &acc5);
    fma_row(vec4<f32>(s10.z, s11.z, s12.z, s13.z), b0, b1, b2, b3, &acc6);
    fma_row(vec4<f32>(s10.w, s11.w, s12.w, s13.w), b0, b1, b2, b3, &acc7);
    fma_row(vec4<f32>(s20.x, s21.x, s22.x, s23.x), b0, b1, b2, b3, &acc8);
    fma_row(vec4<f32>(s20.y, s21.y, s22.y, s23.y), b0, b1, b2, b3, &acc9);
    fma_row(vec4<f32>(s20.z, s21.z, s22.z, s23.z), b0, b1, b2, b3, &acc10);
    fma_row(vec4<f32>(s20.w, s21.w, s22.w, s23.w), b0, b1, b2, b3, &acc11);
    fma_row(vec4<f32>(s30.x, s31.x, s32.x, s33.x), b0, b1, b2, b3, &acc12);
    fma_row(vec4<f32>(s30.y, s31.y, s32.y, s33.y), b0, b1, b2, b3, &acc13);
    fma_row(vec4<f32>(s30.z, s31.z, s32.z, s33.z), b0, b1, b2, b3, &acc14);
    fma_row(vec4<f32>(s30.w, s31.w, s32.w, s33.w), b0, b1, b2, b3, &acc15);
#else
#include "matmul-sg8-rows.wgsl"
#endif
#else
#include "matmul-sg8-rows.wgsl"
#endif
  }
  store4(r0, c, acc0); store4(r0 + 1u, c, acc1); store4(r0 + 2u, c, acc2); store4(r0 + 3u, c, acc3);
  store4(r0 + 4u, c, acc4); store4(r0 + 5u, c, acc5); store4(r0 + 6u, c, acc6); store4(r0 + 7u, c, acc7);
  store4(r0 + 8u, c, acc8); store4(r0 + 9u, c, acc9); store4(r0 + 10u, c, acc10); store4(r0 + 11u, c, acc11);
  store4(r0 + 12u, c, acc12); store4(r0 + 13u, c, acc13); store4(r0 + 14u, c, acc14); store4(r0 + 15u, c, acc15);
}
#endif

// ---- tiled: real GPUs ------------------------------------------------------------------------
// Tile 64 (rows) × 64 (cols) × 16 (k); 16×16 threads; thread (tx, ty) owns rows 4ty..4ty+3 and
// columns 4tx..4tx+3 of the tile. Workgroup memory holds the slices k-major so that the inner
// loop reads a vec4 of A rows and a vec4 of B columns per k.
const TM = 64u;
const TN = 64u;
const TK = 16u;
var<workgroup> As: array<vec4<f32>, 256>; // [k][m/4]: op(A)[m0 + m, k0 + k]
var<workgroup> Bs: array<vec4<f32>, 256>; // [k][n/4]: op(B)[k0 + k, n0 + n]

// op(A)[m .. m+3, k] as a vec4 (m beyond M clamped, k beyond K reads 0), for TRANS_A.
fn a_quad_m(m: u32, k: u32) -> vec4<f32> {
  let kk = min(k, p.K - 1u);
#if ${VEC_A}
#if ${TRANS_A}
  let v = A[(kk * p.M + min(m, p.M - 4u)) / 4u];
  return select(vec4<f32>(0.0), v, k < p.K);
#else
  return vec4<f32>(0.0); // (unused)
#endif
#else
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e = e + 1u) { v[e] = A[kk * p.M + min(m + e, p.M - 1u)]; }
  return select(vec4<f32>(0.0), v, k < p.K);
#endif
}

// op(B)[k..k+3, n] as a vec4 (n beyond N clamped, k beyond K reads 0), for TRANS_B.
fn b_quad_k(k: u32, n: u32) -> vec4<f32> {
  let nn = min(n, p.N - 1u);
#if ${VEC_B}
#if ${TRANS_B}
  let v = B[(nn * p.K + min(k, p.K - 4u)) / 4u];
  return select(vec4<f32>(0.0), v, k < p.K);
#else
  return vec4<f32>(0.0); // (unused)
#endif
#else
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e = e + 1u) { v[e] = select(0.0, B[nn * p.K + min(k + e, p.K - 1u)], k + e < p.K); }
  return v;
#endif
}

@compute @workgroup_size(16, 16, 1)
fn tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
         @builtin(local_invocation_index) t: u32) {
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.K; k0 = k0 + TK) {
    // A slice: 64 rows × 16 k = 256 quads, one per thread
#if ${TRANS_A}
    { let kk = t / 16u; let mq = t % 16u; As[kk * 16u + mq] = a_quad_m(m0 + 4u * mq, k0 + kk); }
#else
    {
      let m = t / 4u; let kq = (t % 4u) * 4u;
      let v = a_quad_k(m0 + m, k0 + kq);
      // scatter the 4 k values of row m into the k-major slice
      let slot = m / 4u; let e = m % 4u;
      As[(kq + 0u) * 16u + slot][e] = v.x;
      As[(kq + 1u) * 16u + slot][e] = v.y;
      As[(kq + 2u) * 16u + slot][e] = v.z;
      As[(kq + 3u) * 16u + slot][e] = v.w;
    }
#endif
    // B slice: 16 k × 64 columns = 256 quads
#if ${TRANS_B}
    {
      let n = t / 4u; let kq = (t % 4u) * 4u;
      let v = b_quad_k(k0 + kq, n0 + n);
      let slot = n / 4u; let e = n % 4u;
      Bs[(kq + 0u) * 16u + slot][e] = v.x;
      Bs[(kq + 1u) * 16u + slot][e] = v.y;
      Bs[(kq + 2u) * 16u + slot][e] = v.z;
      Bs[(kq + 3u) * 16u + slot][e] = v.w;
    }
#else
    { let kk = t / 16u; let nq = t % 16u; Bs[kk * 16u + nq] = b_quad_n(k0 + kk, n0 + 4u * nq); }
#endif
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
      let a = As[kk * 16u + lid.y];
      let b = Bs[kk * 16u + lid.x];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }
  let r = m0 + 4u * lid.y;
  let c = n0 + 4u * lid.x;
  store4(r, c, acc0);
  store4(r + 1u, c, acc1);
  store4(r + 2u, c, acc2);
  store4(r + 3u, c, acc3);
}

// db[n] = Σ_m dY[m, n]: the bias gradient as a column reduction. dY is (M, N) in A.
// (Specialised with VEC_A = VEC_C = false.)
@compute @workgroup_size(64, 1, 1)
fn colsum(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
#if ${VEC_A}
#else
#if ${VEC_C}
#else
  for (var m = 0u; m < p.M; m = m + 1u) { s += A[m * p.N + n]; }
  C[n] = s;
#endif
#endif
}
