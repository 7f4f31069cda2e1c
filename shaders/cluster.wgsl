// cluster: 1-D k-means weight sharing over the kept weights (mask ≠ 0) of one parameter view.
//   vals:   (n) f32   the view's weights (assign_nearest, reduce_partial) or gradients (reduce_partial)
//   mask:   (n) f32   0 = pruned (excluded from every cluster, written as exactly 0 by apply)
//   asg:    (n) u32   nearest centroid of each kept weight; NONE (0xffffffff) for pruned ones
//   cent:   (K) f32   the centroids (the codebook), K = 2^bits ≤ 256
//   psum:   (chunks·K) f32, pcnt: (chunks·K) u32   per-workgroup partial sums and member counts
//   sums:   (K) f32, counts: (K) u32               per-centroid sums and member counts
//   wout:   (n) f32   the view's weights, written by apply_codebook
// No float atomics: reduce_partial gives each workgroup one chunk of CHUNK consecutive elements;
// invocation lid walks elements lid, lid + RWG, ... of the chunk and adds each member to its own
// slice of K accumulators in workgroup memory (O(1) per element, no conflicts); after one barrier
// the slices are added in invocation order. reduce_combine adds the chunks' partials in chunk
// order. The order of every addition is fixed, so results are deterministic (and the CPU
// reference in src/reference/cluster.ts reproduces it). RWG shrinks as K grows (RWG·K ≤ SLOTS).
//   assign_nearest    asg[i] = argmin_c |w_i − cent[c]| (ties → lower c), NONE where mask = 0
//   reduce_partial    psum/pcnt[g, c] = Σ/# of vals[i] with asg[i] = c over chunk g
//   reduce_combine    sums/counts[c] = Σ_g psum/pcnt[g, c]
//   update_centroids  cent[c] = sums[c] / counts[c] (an empty cluster keeps its centroid)
//   sgd_centroids     cent[c] −= lr · sums[c] (sums = per-centroid sum of member gradients)
//   apply_codebook    wout[i] = cent[asg[i]] where mask ≠ 0, else 0
// n, K, chunks and lr are uniforms; one pipeline per entry point serves every view.
// Defines: WG (workgroup size of the per-element and per-centroid passes), RWG (reduce_partial
// workgroup size), SLOTS (accumulators per reduce_partial workgroup, ≥ RWG·K), CHUNK (elements per
// reduce_partial workgroup). Views longer than 65535 workgroups use a 2-D grid (flat index below).

struct Params {
  n: u32,
  K: u32,
  chunks: u32,
  _p0: u32,
  lr: f32,
  _p1: f32,
  _p2: f32,
  _p3: f32,
}

const NONE = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> vals: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> asg: array<u32>;
@group(0) @binding(4) var<storage, read_write> cent: array<f32>;
@group(0) @binding(5) var<storage, read_write> psum: array<f32>;
@group(0) @binding(6) var<storage, read_write> pcnt: array<u32>;
@group(0) @binding(7) var<storage, read_write> sums: array<f32>;
@group(0) @binding(8) var<storage, read_write> counts: array<u32>;
@group(0) @binding(9) var<storage, read_write> wout: array<f32>;

// reduce_partial: one slice of K accumulators per invocation (RWG·K ≤ SLOTS)
var<workgroup> acc_s: array<f32, ${SLOTS}>;
var<workgroup> acc_n: array<u32, ${SLOTS}>;

#include "nearest-centroid.wgsl"

fn flat(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

@compute @workgroup_size(${WG}, 1, 1)
fn assign_nearest(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg) * ${WG}u + lid;
  if (i >= p.n) { return; }
  if (mask[i] == 0.0) {
    asg[i] = NONE;
    return;
  }
  asg[i] = nearest_centroid(vals[i], p.K);
}

@compute @workgroup_size(${RWG}, 1, 1)
fn reduce_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let g = flat(wid, nwg);
  if (g >= p.chunks) { return; }
  let K = p.K;
  // invocation lid accumulates elements start + lid + j·RWG into its own slice acc[lid·K .. +K)
  let base = lid * K;
  for (var c = 0u; c < K; c++) {
    acc_s[base + c] = 0.0;
    acc_n[base + c] = 0u;
  }
  let start = g * ${CHUNK}u;
  let end = min(start + ${CHUNK}u, p.n);
  for (var i = start + lid; i < end; i += ${RWG}u) {
    let a = asg[i];
    if (a < K) {
      acc_s[base + a] += vals[i];
      acc_n[base + a] += 1u;
    }
  }
  workgroupBarrier();
  // the chunk's partial of centroid c: the slices added in invocation order
  for (var c = lid; c < K; c += ${RWG}u) {
    var s = 0.0;
    var k = 0u;
    for (var t = 0u; t < ${RWG}u; t++) {
      s += acc_s[t * K + c];
      k += acc_n[t * K + c];
    }
    psum[g * K + c] = s;
    pcnt[g * K + c] = k;
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn reduce_combine(@builtin(local_invocation_index) lid: u32) {
  let K = p.K;
  for (var c = lid; c < K; c += ${WG}u) {
    var s = 0.0;
    var k = 0u;
    for (var g = 0u; g < p.chunks; g++) {
      s += psum[g * K + c];
      k += pcnt[g * K + c];
    }
    sums[c] = s;
    counts[c] = k;
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn update_centroids(@builtin(local_invocation_index) lid: u32) {
  for (var c = lid; c < p.K; c += ${WG}u) {
    let k = counts[c];
    if (k > 0u) { cent[c] = sums[c] / f32(k); }
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn sgd_centroids(@builtin(local_invocation_index) lid: u32) {
  for (var c = lid; c < p.K; c += ${WG}u) {
    cent[c] = cent[c] - p.lr * sums[c];
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn apply_codebook(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg) * ${WG}u + lid;
  if (i >= p.n) { return; }
  let a = asg[i];
  var v = 0.0;
  if (mask[i] != 0.0 && a < p.K) { v = cent[a]; }
  wout[i] = v;
}
