// C = op(A)·op(B) [+ bias] [→ relu]
//   op(A) is (M, K): A is (M, K), or (K, M) when TRANS_A
//   op(B) is (K, N): B is (K, N), or (N, K) when TRANS_B
//   C is (M, N), bias is (N)
// Covers dense forward (X·W + b), input gradient (dY·Wᵀ) and weight gradient (Xᵀ·dY).
// Each invocation computes a 4×4 block of C held in four vec4 accumulators: no workgroup memory
// and no barriers (cheap on CPU drivers such as lavapipe), all loads bounds-guarded so any shape
// works with the rounded-up dispatch.
// Defines: TRANS_A, TRANS_B, BIAS, RELU (bool); WG_X, WG_Y (workgroup size).

struct Params { M: u32, N: u32, K: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif

// op(A)[r, k], zero outside
fn a_at(r: u32, k: u32) -> f32 {
  if (r >= p.M || k >= p.K) { return 0.0; }
#if ${TRANS_A}
  return A[k * p.M + r];
#else
  return A[r * p.K + k];
#endif
}

// op(B)[k, c..c+3], zero outside
fn b_row4(k: u32, c: u32) -> vec4<f32> {
  if (k >= p.K) { return vec4<f32>(0.0); }
  var v = vec4<f32>(0.0);
#if ${TRANS_B}
  if (c < p.N) { v.x = B[c * p.K + k]; }
  if (c + 1u < p.N) { v.y = B[(c + 1u) * p.K + k]; }
  if (c + 2u < p.N) { v.z = B[(c + 2u) * p.K + k]; }
  if (c + 3u < p.N) { v.w = B[(c + 3u) * p.K + k]; }
#else
  let base = k * p.N + c;
  if (c < p.N) { v.x = B[base]; }
  if (c + 1u < p.N) { v.y = B[base + 1u]; }
  if (c + 2u < p.N) { v.z = B[base + 2u]; }
  if (c + 3u < p.N) { v.w = B[base + 3u]; }
#endif
  return v;
}

fn store_row(r: u32, c: u32, acc: vec4<f32>) {
  if (r >= p.M) { return; }
  var v = acc;
#if ${BIAS}
  if (c < p.N) { v.x += bias[c]; }
  if (c + 1u < p.N) { v.y += bias[c + 1u]; }
  if (c + 2u < p.N) { v.z += bias[c + 2u]; }
  if (c + 3u < p.N) { v.w += bias[c + 3u]; }
#endif
#if ${RELU}
  v = max(v, vec4<f32>(0.0));
#endif
  let base = r * p.N + c;
  if (c < p.N) { C[base] = v.x; }
  if (c + 1u < p.N) { C[base + 1u] = v.y; }
  if (c + 2u < p.N) { C[base + 2u] = v.z; }
  if (c + 3u < p.N) { C[base + 3u] = v.w; }
}

@compute @workgroup_size(${WG_X}, ${WG_Y}, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x * 4u;
  let r = gid.y * 4u;
  if (c >= p.N || r >= p.M) { return; }
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k = k + 1u) {
    let b = b_row4(k, c);
    acc0 = fma(vec4<f32>(a_at(r, k)), b, acc0);
    acc1 = fma(vec4<f32>(a_at(r + 1u, k)), b, acc1);
    acc2 = fma(vec4<f32>(a_at(r + 2u, k)), b, acc2);
    acc3 = fma(vec4<f32>(a_at(r + 3u, k)), b, acc3);
  }
  store_row(r, c, acc0);
  store_row(r + 1u, c, acc1);
  store_row(r + 2u, c, acc2);
  store_row(r + 3u, c, acc3);
}

// db[n] = Σ_m dY[m, n]: the bias gradient as a column reduction. dY is (M, N) in A.
@compute @workgroup_size(64, 1, 1)
fn colsum(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < p.M; m = m + 1u) { s += A[m * p.N + n]; }
  C[n] = s;
}
