// rec-softmax: the multinomial (full softmax) loss of a batch of users over every item, and the
// row scatter that moves the batch's user gradients into the full user table.
//   s:      (B, N) scores of the batch; row b belongs to user perm[p.base + b] (≥ p.U: padding)
//   rowptr: (U + 1) u32, items: u32 — CSR of each user's training items (distinct within a user;
//           an item ≥ N is ignored in the gradient and the positive mean, not in n)
//   softmax_xent (one workgroup per row): with P = softmax(s[b]) and the user's n items I,
//           loss[base + b] = logsumexp(s[b]) − (1/n)·Σ_{i ∈ I} s[b, i]
//           ds[b, j]       = scale·(P_j − [j ∈ I]/n)        (= ∂(scale·Σ_b loss_b)/∂s[b, j])
//           a padding row (or a user with no items) gets ds = 0 and loss 0.
//   scatter_rows (one invocation per element): dtable[perm[base + b], c] = drows[b, c]
//   clear_rows   (one invocation per element): dtable[perm[base + b], c] = 0
//           (the users of one batch are distinct, so rows never collide)
//   multi_hot (one workgroup per row): ds[b, :] = the user's items as a normalised multi-hot row,
//           1/n' at each kept item (n' kept), 0 elsewhere; an item is dropped (denoising) when
//           hash(seed.x, user, item) < p.drop (p.drop = 0: none); the input of rec:dae
//   gather_rows  (one invocation per element): rows_out[b, c] = table[perm[base + b], c] (0 for
//           padding) — the embedding lookup without the embedding kernel's row-count limit
// Reductions run in a fixed tree order: the same bits on every run.
// Defines: WG (power of two, ≤ 256).

struct Params { B: u32, N: u32, base: u32, U: u32, C: u32, scale: f32, drop: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read> rowptr: array<u32>;
@group(0) @binding(4) var<storage, read> items: array<u32>;
@group(0) @binding(5) var<storage, read_write> ds: array<f32>;
@group(0) @binding(6) var<storage, read_write> loss: array<f32>;
@group(0) @binding(7) var<storage, read> drows: array<f32>;
@group(0) @binding(8) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(9) var<storage, read> table: array<f32>;
@group(0) @binding(10) var<storage, read_write> rows_out: array<f32>;
@group(0) @binding(11) var<uniform> seed: vec4<u32>;

var<workgroup> red: array<f32, ${WG}>;

fn reduce_max(t: u32, v: f32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var h = ${WG}u / 2u; h > 0u; h /= 2u) {
    if (t < h) { red[t] = max(red[t], red[t + h]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(t: u32, v: f32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var h = ${WG}u / 2u; h > 0u; h /= 2u) {
    if (t < h) { red[t] = red[t] + red[t + h]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(${WG}, 1, 1)
fn softmax_xent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) t: u32) {
  let b = wid.y * nwg.x + wid.x;   // uniform over the workgroup
  if (b >= p.B) { return; }
  let row = b * p.N;
  let u = perm[p.base + b];
  var lo = 0u;
  var hi = 0u;
  if (u < p.U) { lo = rowptr[u]; hi = rowptr[u + 1u]; }
  if (hi <= lo) {
    for (var j = t; j < p.N; j += ${WG}u) { ds[row + j] = 0.0; }
    if (t == 0u) { loss[p.base + b] = 0.0; }
    return;
  }
  var m = -3.4028234663852886e38;
  for (var j = t; j < p.N; j += ${WG}u) { m = max(m, s[row + j]); }
  m = reduce_max(t, m);
  var z = 0.0;
  for (var j = t; j < p.N; j += ${WG}u) { z += exp(s[row + j] - m); }
  z = reduce_sum(t, z);
  let n = f32(hi - lo);
  var pos = 0.0;
  for (var j = lo + t; j < hi; j += ${WG}u) { let i = items[j]; if (i < p.N) { pos += s[row + i]; } }
  pos = reduce_sum(t, pos);
  let inv = p.scale / z;
  for (var j = t; j < p.N; j += ${WG}u) { ds[row + j] = exp(s[row + j] - m) * inv; }
  storageBarrier();
  workgroupBarrier();
  for (var j = lo + t; j < hi; j += ${WG}u) {
    let i = items[j];
    if (i < p.N) { ds[row + i] = ds[row + i] - p.scale / n; }
  }
  if (t == 0u) { loss[p.base + b] = m + log(z) - pos / n; }
}

@compute @workgroup_size(${WG}, 1, 1)
fn scatter_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) t: u32) {
  let e = (wid.y * nwg.x + wid.x) * ${WG}u + t;
  if (e >= p.B * p.C) { return; }
  let b = e / p.C;
  let u = perm[p.base + b];
  if (u >= p.U) { return; }
  dtable[u * p.C + e % p.C] = drows[e];
}

@compute @workgroup_size(${WG}, 1, 1)
fn clear_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) t: u32) {
  let e = (wid.y * nwg.x + wid.x) * ${WG}u + t;
  if (e >= p.B * p.C) { return; }
  let b = e / p.C;
  let u = perm[p.base + b];
  if (u >= p.U) { return; }
  dtable[u * p.C + e % p.C] = 0.0;
}

@compute @workgroup_size(${WG}, 1, 1)
fn gather_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let e = (wid.y * nwg.x + wid.x) * ${WG}u + t;
  if (e >= p.B * p.C) { return; }
  let u = perm[p.base + e / p.C];
  var x = 0.0;
  if (u < p.U) { x = table[u * p.C + e % p.C]; }
  rows_out[e] = x;
}

fn hash32(x: u32) -> u32 {
  var h = x;
  h = (h ^ (h >> 16u)) * 0x85ebca6bu;
  h = (h ^ (h >> 13u)) * 0xc2b2ae35u;
  return h ^ (h >> 16u);
}

fn kept(u: u32, i: u32) -> bool {
  return hash32(hash32(seed.x ^ hash32(u)) ^ i) >= p.drop;
}

@compute @workgroup_size(${WG}, 1, 1)
fn multi_hot(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) t: u32) {
  let b = wid.y * nwg.x + wid.x;   // uniform over the workgroup
  if (b >= p.B) { return; }
  let row = b * p.N;
  for (var j = t; j < p.N; j += ${WG}u) { ds[row + j] = 0.0; }
  let u = perm[p.base + b];
  var lo = 0u;
  var hi = 0u;
  if (u < p.U) { lo = rowptr[u]; hi = rowptr[u + 1u]; }
  var c = 0.0;
  for (var j = lo + t; j < hi; j += ${WG}u) { if (items[j] < p.N && kept(u, items[j])) { c += 1.0; } }
  let n = reduce_sum(t, c);
  storageBarrier();
  workgroupBarrier();
  if (n == 0.0) { return; }
  for (var j = lo + t; j < hi; j += ${WG}u) {
    let i = items[j];
    if (i < p.N && kept(u, i)) { ds[row + i] = 1.0 / n; }
  }
}
