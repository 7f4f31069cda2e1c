// Fused AdamW over a flat parameter arena, the global gradient norm, and AdamW's bias corrections.
//   w, g, m, v, mask: (n) f32 (the arena's twins; weights with decay first, [0, decayEnd))
//   hyper (f32[8], storage; written per step by the plan on the GPU):
//     [0] lr  [1] beta1  [2] beta2  [3] eps  [4] weight decay
//     [5] bc1 = 1 − beta1^t  [6] bc2 = 1 − beta2^t  [7] clip (max global norm; ≤ 0: no clipping)
//   norm (f32[4]): [0] Σ g² (·mask²), [1] ‖g‖ = sqrt([0]); written by norm_final, read by main (CLIP)
// main (PyTorch's AdamW, in this order; s = min(1, clip/(‖g‖ + 1e-6)) with CLIP and clip > 0, else 1):
//   g ← g·s;  w ← w·(1 − lr·wd) (e < decayEnd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
//   w ← w − (lr/bc1) · m / (sqrt(v)/sqrt(bc2) + eps);  MASK: where mask = 0, w = m = v = 0 exactly
// norm_partial: workgroup k sums g² over items k·WG + lid, stepping G·WG (vec4 body), plus the
//   scalar tail in workgroup 0, then a tree in workgroup memory → partials[k]
// norm_final: one workgroup sums partials[0..G) the same way → norm. Fixed order: the same bits on
//   every run for the same n (no atomics).
// bias_correction: hyper[5], hyper[6] ← 1 − beta^t with t = state[0] + 1 (the GPU step counter).
// With VEC4 an item is a vec4; `start` is the element index of item 0 (for decayEnd).
// Defines: VEC4, MASK, CLIP (bool), WG (workgroup size, a power of two).

struct Params { count: u32, decayEnd: u32, start: u32, tail: u32, G: u32, _p0: u32, _p1: u32, _p2: u32 }

#if ${VEC4}
alias V = vec4<f32>;
fn hsum(x: V) -> f32 { return (x.x + x.y) + (x.z + x.w); }
#else
alias V = f32;
fn hsum(x: V) -> f32 { return x; }
#endif

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<V>;
@group(0) @binding(3) var<storage, read> g: array<V>;
@group(0) @binding(4) var<storage, read_write> m: array<V>;
@group(0) @binding(5) var<storage, read_write> v: array<V>;
@group(0) @binding(6) var<storage, read> mask: array<V>;
@group(0) @binding(7) var<storage, read> norm_in: array<f32>;
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;
@group(0) @binding(9) var<storage, read_write> norm: array<f32>;
@group(0) @binding(10) var<storage, read> g_tail: array<f32>;
@group(0) @binding(11) var<storage, read> mask_tail: array<f32>;
@group(0) @binding(12) var<storage, read> state: array<u32>;
@group(0) @binding(13) var<storage, read_write> hyper_rw: array<f32>;

var<workgroup> red: array<f32, ${WG}>;

/** The clip scale from hyper[7] and the norm buffer. */
fn clip_scale() -> f32 {
#if ${CLIP}
  let clip = hyper[7];
  if (clip > 0.0) { return min(1.0, clip / (norm_in[1] + 1e-6)); }
#endif
  return 1.0;
}

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (i >= p.count) { return; }
  let lr = hyper[0];
  let b1 = hyper[1];
  let b2 = hyper[2];
  let eps = hyper[3];
  let gi = g[i] * clip_scale();
#if ${VEC4}
  let e = vec4<u32>(p.start + i * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  let decay = select(V(1.0), V(1.0 - lr * hyper[4]), e < vec4<u32>(p.decayEnd));
#else
  let decay = select(1.0, 1.0 - lr * hyper[4], p.start + i < p.decayEnd);
#endif
  let mi = fma(V(b1), m[i], (1.0 - b1) * gi);
  let vi = fma(V(b2), v[i], (1.0 - b2) * gi * gi);
  let denom = sqrt(vi) / sqrt(hyper[6]) + eps;
  let nw = w[i] * decay - (lr / hyper[5]) * mi / denom;
#if ${MASK}
  let keep = mask[i] != V(0.0);
  w[i] = select(V(0.0), nw, keep);
  m[i] = select(V(0.0), mi, keep);
  v[i] = select(V(0.0), vi, keep);
#else
  w[i] = nw;
  m[i] = mi;
  v[i] = vi;
#endif
}

fn reduce(lid: u32) {
  for (var s = ${WG}u / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) { red[lid] += red[lid + s]; }
  }
  workgroupBarrier();
}

@compute @workgroup_size(${WG}, 1, 1)
fn norm_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var acc = V(0.0);
  for (var i = wid.x * ${WG}u + lid; i < p.count; i += p.G * ${WG}u) {
#if ${MASK}
    let x = g[i] * mask[i];
#else
    let x = g[i];
#endif
    acc = fma(x, x, acc);
  }
  var s = hsum(acc);
  if (wid.x == 0u && lid < p.tail) {
#if ${MASK}
    let x = g_tail[lid] * mask_tail[lid];
#else
    let x = g_tail[lid];
#endif
    s = fma(x, x, s);
  }
  red[lid] = s;
  reduce(lid);
  if (lid == 0u) { partials[wid.x] = red[0]; }
}

@compute @workgroup_size(${WG}, 1, 1)
fn norm_final(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var k = lid; k < p.G; k += ${WG}u) { s += partials[k]; }
  red[lid] = s;
  reduce(lid);
  if (lid == 0u) {
    norm[0] = red[0];
    norm[1] = sqrt(red[0]);
  }
}

@compute @workgroup_size(1)
fn bias_correction() {
  // pow(0, t) is undefined in WGSL: beta = 0 means no correction (bc = 1)
  let t = f32(state[0] + 1u);
  let b1 = hyper_rw[1];
  let b2 = hyper_rw[2];
  hyper_rw[5] = select(1.0, 1.0 - pow(b1, t), b1 > 0.0);
  hyper_rw[6] = select(1.0, 1.0 - pow(b2, t), b2 > 0.0);
}
