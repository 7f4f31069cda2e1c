// qat: quantisation-aware training (straight-through estimator) over one parameter view.
//   w:      (n) f32   the view's weights: latent on entry to snap, the codebook values after it
//   mask:   (n) f32   0 = pruned (excluded from the codebook, written as exactly 0)
//   latent: (n) f32   snap saves the latent weights here; restore copies them back into w
//   cent:   (K) f32   the layer's codebook, K = 2^bits ≤ 256
//   asg:    (n) u32   snap: the codebook index of each kept weight, NONE (0xffffffff) where pruned
// A QAT step is  snap · forward · backward · restore · update: the forward and backward see the
// snapped weights, the gradient with respect to them updates the latent weights (STE).
//   snap         latent[i] = w[i]; w[i] = cent[argmin_c |w[i] − cent[c]|] (ties → lower c; the same
//                include as cluster.wgsl's assign_nearest, so the file's indices equal asg), 0 if pruned
//   restore      w[i] = latent[i]; with dampening λ > 0 first g[i] += λ·(latent[i] − w[i]): the gradient
//                of λ/2·(latent − snapped)², which pulls each latent weight towards its codebook value so
//                that it stops oscillating across a bin boundary (Nagel et al. 2022)
//   init_linear  one workgroup: cent[k] = lo + (hi − lo)·k/(K − 1) over [lo, hi] = the range of the
//                kept weights ((lo + hi)/2 for K = 1; all 0 when nothing is kept). Min and max do not
//                depend on the order of the reduction, so the result is deterministic.
// n and K are uniforms; one pipeline per entry point serves every view. Views longer than 65535
// workgroups use a 2-D grid (flat index below). Define: WG (workgroup size).

struct Params {
  n: u32,
  K: u32,
  _p0: u32,
  damp: f32,
}

const NONE = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> latent: array<f32>;
@group(0) @binding(4) var<storage, read_write> cent: array<f32>;
@group(0) @binding(5) var<storage, read_write> asg: array<u32>;
@group(0) @binding(6) var<storage, read_write> g: array<f32>;

var<workgroup> lo_s: array<f32, ${WG}>;
var<workgroup> hi_s: array<f32, ${WG}>;
var<workgroup> any_s: array<u32, ${WG}>;

#include "nearest-centroid.wgsl"

fn flat(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

@compute @workgroup_size(${WG}, 1, 1)
fn snap(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg) * ${WG}u + lid;
  if (i >= p.n) { return; }
  let x = w[i];
  latent[i] = x;
  if (mask[i] == 0.0) {
    w[i] = 0.0;
    asg[i] = NONE;
    return;
  }
  let best = nearest_centroid(x, p.K);
  w[i] = cent[best];
  asg[i] = best;
}

@compute @workgroup_size(${WG}, 1, 1)
fn restore(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg) * ${WG}u + lid;
  if (i >= p.n) { return; }
  w[i] = latent[i];
}

@compute @workgroup_size(${WG}, 1, 1)
fn restore_damped(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg) * ${WG}u + lid;
  if (i >= p.n) { return; }
  let x = latent[i];
  g[i] = g[i] + p.damp * (x - w[i]);
  w[i] = x;
}

@compute @workgroup_size(${WG}, 1, 1)
fn init_linear(@builtin(local_invocation_index) lid: u32) {
  var lo = 0.0;
  var hi = 0.0;
  var seen = 0u;
  for (var i = lid; i < p.n; i += ${WG}u) {
    if (mask[i] == 0.0) { continue; }
    let x = w[i];
    if (seen == 0u) {
      lo = x;
      hi = x;
      seen = 1u;
    } else {
      lo = min(lo, x);
      hi = max(hi, x);
    }
  }
  lo_s[lid] = lo;
  hi_s[lid] = hi;
  any_s[lid] = seen;
  workgroupBarrier();
  for (var s = ${WG}u / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      let o = lid + s;
      if (any_s[o] != 0u) {
        if (any_s[lid] == 0u) {
          lo_s[lid] = lo_s[o];
          hi_s[lid] = hi_s[o];
          any_s[lid] = 1u;
        } else {
          lo_s[lid] = min(lo_s[lid], lo_s[o]);
          hi_s[lid] = max(hi_s[lid], hi_s[o]);
        }
      }
    }
    workgroupBarrier();
  }
  let a = lo_s[0];
  let b = hi_s[0];
  let kept = any_s[0];
  for (var k = lid; k < p.K; k += ${WG}u) {
    var v = 0.0;
    if (kept != 0u) {
      if (p.K == 1u) {
        v = (a + b) * 0.5;
      } else {
        v = a + (b - a) * f32(k) / f32(p.K - 1u);
      }
    }
    cent[k] = v;
  }
}
