// Fused SGD step with momentum and L2 weight decay over a flat parameter arena:
//   w, g, v, mask: (n) f32; hyper: f32 [lr, momentum, l2, clip] in a storage buffer (per-step
//   values written on the GPU by a scheduler); counts and decayEnd in the uniform.
//   CLIP: g ← g·min(1, clip/(‖g‖ + 1e-6)) first when clip > 0, ‖g‖ = norm[1] from gradNorm
//   (shaders/adamw.wgsl)
//   g' = g + l2·w   for element e < decayEnd (weights first in the arena), g' = g after (biases: λ = 0)
//   v  = momentum·v + g'
//   w  = (w − lr·v)·mask      (MASK; a masked weight (mask = 0) is written as exactly 0.0)
// With VEC4 each invocation updates one vec4 (4 elements; ~4x faster on lavapipe than scalar);
// the wrapper binds the first `body` elements (a multiple of 4 and of the offset alignment) as
// vec4 arrays and dispatches the remaining < 64 elements with VEC4 = false on the tail ranges.
// `start` is the element index of item 0 of the bound ranges (for the decayEnd test). The flat
// item index comes from workgroup_id/num_workgroups so the dispatch can use a 2-D grid.
// Defines: MASK, VEC4, CLIP (bool), WG (workgroup size).

struct Params { count: u32, decayEnd: u32, start: u32, _pad: u32 }   // count: items (vec4 or f32)

#if ${VEC4}
alias V = vec4<f32>;
#else
alias V = f32;
#endif

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<V>;
@group(0) @binding(3) var<storage, read> g: array<V>;
@group(0) @binding(4) var<storage, read_write> v: array<V>;
#if ${MASK}
@group(0) @binding(5) var<storage, read> mask: array<V>;
#endif
#if ${CLIP}
@group(0) @binding(6) var<storage, read> norm: array<f32>;
#endif

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
  if (i >= p.count) { return; }
  let lr = hyper[0];
  let mu = hyper[1];
#if ${VEC4}
  let e = vec4<u32>(p.start + i * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  let l2 = select(V(0.0), V(hyper[2]), e < vec4<u32>(p.decayEnd));
#else
  let l2 = select(0.0, hyper[2], p.start + i < p.decayEnd);
#endif
  let wi = w[i];
#if ${CLIP}
  let clip = hyper[3];
  let gi = g[i] * select(1.0, min(1.0, clip / (norm[1] + 1e-6)), clip > 0.0);
#else
  let gi = g[i];
#endif
  let vi = fma(V(mu), v[i], fma(l2, wi, gi));
  v[i] = vi;
  let nw = fma(V(-lr), vi, wi);
#if ${MASK}
  let m = mask[i];
  w[i] = select(V(0.0), nw * m, m != V(0.0));
#else
  w[i] = nw;
#endif
}
