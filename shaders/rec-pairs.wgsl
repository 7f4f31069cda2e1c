// rec-pairs: (user, item) pair kernels of the BPR loss and of the NCF (NeuMF) tower.
//   A batch has R user rows; row r belongs to user perm[p.base + r] (≥ p.U: padding). Pair m
//   belongs to row m / p.per and item pitems[m]; with p.per = 0 the pairs are dense: row m / p.N,
//   item m % p.N (every item of every row: the full ranking). An item ≥ p.N is a padding pair.
//   sample (one invocation per (r, k), k < p.K): the k-th (positive, negative) pair of row r:
//           pitems[2(r·K + k)] = a training item of the user, uniform (integer hash of seed, user, 2k),
//           pitems[2(r·K + k) + 1] = an item not among the user's training items (up to 8 hashed
//           tries of (seed, user, 2k + 1, try); the last try is kept if all 8 hit the user's items);
//           padding rows and users without items: both N. p.flags & 4 (popular negatives): a try is
//           the item of a hashed training interaction, items[h % rowptr[U]] (probability ∝ popularity).
//   bpr (one invocation per row r): with d_k = s[2(rK + k)] − s[2(rK + k) + 1],
//           loss[base + r] = (1/K)·Σ_k softplus(−d_k),  out[pos] = −scale·σ(−d_k)/K, out[neg] = −out[pos]
//           (= ∂(scale·Σ_r loss_r)/∂s); padding pairs: 0.
//   bpr_dense (one workgroup per row): the same pairs read from a dense (R, N) score matrix x, the
//           gradient written into the dense out (R, N) (0 except at the sampled items, summed when
//           an item is drawn twice, in k order): BPR for rec:mf / rec:dae.
//   pair_relu (one invocation per (m, c), C columns): out[m, c] = relu(x[row, c] + y[item, c])
//           — NeuMF's first MLP layer, [u ‖ v]·W1 + c1 = (u·W1u + c1) + v·W1v, factored.
//   pair_gmf (one invocation per (m, c)): out[m, c] = x[row, c]·y[item, c]   (u ⊙ v)
//   pair_mul (one invocation per (m, c)): out[m, c] = x[m, c]·y[row, c]     (dG ⊙ u: the item side)
//   pair_score (one invocation per pair): out[m] = Σ_c x[m, c]·y[c] + Σ_j z[m, j]·w[j] + bias[item]
//           (C = p.C, J = p.J; 0 for a padding pair)
//   pair_score1 (one invocation per dense pair m = r·N + i; a one-layer tower fused, nothing
//           materialised): out[m] = Σ_c vg[c]·x[r, c]·y[i, c] + Σ_j vm[j]·relu(z[r, j] + w[i, j]) + bias[i]
//           with x = Ue, y = V (C = p.C columns), z = P, w = Q (J = p.J columns) — the full ranking of
//           rec:ncf-D-H without the (R·N, H) hidden layer in memory.
//   segment_sum (one invocation per (r, c)): out[r, c] (+)= Σ_{m of row r} x[m, c]·(y[item, c] if
//           p.flags & 1) — the pairs of a row are consecutive (per of them); p.flags & 2: accumulate.
// Sums run in a fixed order: the same bits on every run.
// Defines: WG (power of two, ≤ 256).

struct Params { R: u32, M: u32, N: u32, C: u32, per: u32, base: u32, U: u32, K: u32, J: u32, flags: u32, scale: f32, _p: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> z: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> pitems: array<u32>;
@group(0) @binding(7) var<storage, read> perm: array<u32>;
@group(0) @binding(8) var<storage, read> rowptr: array<u32>;
@group(0) @binding(9) var<storage, read> items: array<u32>;
@group(0) @binding(10) var<storage, read_write> out: array<f32>;
@group(0) @binding(11) var<storage, read_write> loss: array<f32>;
@group(0) @binding(12) var<uniform> seed: vec4<u32>;
@group(0) @binding(13) var<storage, read> vg: array<f32>;
@group(0) @binding(14) var<storage, read> vm: array<f32>;

fn hash32(v: u32) -> u32 {
  var h = v;
  h = (h ^ (h >> 16u)) * 0x85ebca6bu;
  h = (h ^ (h >> 13u)) * 0xc2b2ae35u;
  return h ^ (h >> 16u);
}

fn draw(u: u32, j: u32) -> u32 {
  return hash32(hash32(seed.x ^ hash32(u)) ^ j);
}

fn has_item(lo: u32, hi: u32, i: u32) -> bool {
  for (var j = lo; j < hi; j++) { if (items[j] == i) { return true; } }
  return false;
}

// The k-th pair of user u (lo..hi its training items): vec2(positive, negative).
fn pair_of(u: u32, k: u32, lo: u32, hi: u32) -> vec2<u32> {
  let pos = items[lo + draw(u, 2u * k) % (hi - lo)];
  var neg = 0u;
  for (var t = 0u; t < 8u; t++) {
    let h = draw(u, (2u * k + 1u) ^ (t << 24u));
    if ((p.flags & 4u) != 0u) { neg = items[h % rowptr[p.U]]; } else { neg = h % p.N; }
    if (!has_item(lo, hi, neg)) { break; }
  }
  return vec2<u32>(pos, neg);
}

fn user_range(r: u32) -> vec3<u32> {
  let u = perm[p.base + r];
  var lo = 0u;
  var hi = 0u;
  if (u < p.U) { lo = rowptr[u]; hi = rowptr[u + 1u]; }
  return vec3<u32>(u, lo, hi);
}

fn flat(wid: vec3<u32>, nwg: vec3<u32>, t: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${WG}u + t;
}

@compute @workgroup_size(${WG}, 1, 1)
fn sample(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) t: u32) {
  let e = flat(wid, nwg, t);
  if (e >= p.R * p.K) { return; }
  let ur = user_range(e / p.K);
  var pr = vec2<u32>(p.N, p.N);
  if (ur.z > ur.y) { pr = pair_of(ur.x, e % p.K, ur.y, ur.z); }
  pitems[2u * e] = pr.x;
  pitems[2u * e + 1u] = pr.y;
}

fn softplus_neg(d: f32) -> f32 {
  return max(-d, 0.0) + log(1.0 + exp(-abs(d)));
}

fn sigmoid_neg(d: f32) -> f32 {
  if (d >= 0.0) { let e = exp(-d); return e / (1.0 + e); }
  return 1.0 / (1.0 + exp(d));
}

@compute @workgroup_size(${WG}, 1, 1)
fn bpr(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) t: u32) {
  let r = flat(wid, nwg, t);
  if (r >= p.R) { return; }
  var l = 0.0;
  let inv = 1.0 / f32(p.K);
  for (var k = 0u; k < p.K; k++) {
    let m = 2u * (r * p.K + k);
    if (pitems[m] >= p.N || pitems[m + 1u] >= p.N) { out[m] = 0.0; out[m + 1u] = 0.0; continue; }
    let d = x[m] - x[m + 1u];
    l += softplus_neg(d) * inv;
    let g = p.scale * sigmoid_neg(d) * inv;
    out[m] = -g;
    out[m + 1u] = g;
  }
  loss[p.base + r] = l;
}

@compute @workgroup_size(${WG}, 1, 1)
fn bpr_dense(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) t: u32) {
  let r = wid.y * nwg.x + wid.x;   // uniform over the workgroup
  if (r >= p.R) { return; }
  let row = r * p.N;
  for (var j = t; j < p.N; j += ${WG}u) { out[row + j] = 0.0; }
  storageBarrier();
  workgroupBarrier();
  if (t != 0u) { return; }
  let ur = user_range(r);
  var l = 0.0;
  if (ur.z > ur.y) {
    let inv = 1.0 / f32(p.K);
    for (var k = 0u; k < p.K; k++) {
      let pr = pair_of(ur.x, k, ur.y, ur.z);
      let d = x[row + pr.x] - x[row + pr.y];
      l += softplus_neg(d) * inv;
      let g = p.scale * sigmoid_neg(d) * inv;
      out[row + pr.x] = out[row + pr.x] - g;
      out[row + pr.y] = out[row + pr.y] + g;
    }
  }
  loss[p.base + r] = l;
}

// (row, item) of pair m.
fn pair_at(m: u32) -> vec2<u32> {
  if (p.per == 0u) { return vec2<u32>(m / p.N, m % p.N); }
  return vec2<u32>(m / p.per, pitems[m]);
}

@compute @workgroup_size(${WG}, 1, 1)
fn pair_relu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) t: u32) {
  let e = flat(wid, nwg, t);
  if (e >= p.M * p.C) { return; }
  let c = e % p.C;
  let ri = pair_at(e / p.C);
  var v = x[ri.x * p.C + c];
  if (ri.y < p.N) { v += y[ri.y * p.C + c]; }
  out[e] = max(v, 0.0);
}

@compute @workgroup_size(${WG}, 1, 1)
fn pair_gmf(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) t: u32) {
  let e = flat(wid, nwg, t);
  if (e >= p.M * p.C) { return; }
  let c = e % p.C;
  let ri = pair_at(e / p.C);
  var v = 0.0;
  if (ri.y < p.N) { v = x[ri.x * p.C + c] * y[ri.y * p.C + c]; }
  out[e] = v;
}

@compute @workgroup_size(${WG}, 1, 1)
fn pair_mul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) t: u32) {
  let e = flat(wid, nwg, t);
  if (e >= p.M * p.C) { return; }
  let ri = pair_at(e / p.C);
  out[e] = x[e] * y[ri.x * p.C + e % p.C];
}

@compute @workgroup_size(${WG}, 1, 1)
fn pair_score(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) t: u32) {
  let m = flat(wid, nwg, t);
  if (m >= p.M) { return; }
  let ri = pair_at(m);
  if (ri.y >= p.N) { out[m] = 0.0; return; }
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += x[m * p.C + c] * y[c]; }
  var h = 0.0;
  for (var j = 0u; j < p.J; j++) { h += z[m * p.J + j] * w[j]; }
  out[m] = s + h + bias[ri.y];
}

@compute @workgroup_size(${WG}, 1, 1)
fn pair_score1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let m = flat(wid, nwg, t);
  if (m >= p.M) { return; }
  let r = m / p.N;
  let i = m % p.N;
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += vg[c] * x[r * p.C + c] * y[i * p.C + c]; }
  var h = 0.0;
  for (var j = 0u; j < p.J; j++) { h += vm[j] * max(z[r * p.J + j] + w[i * p.J + j], 0.0); }
  out[m] = s + h + bias[i];
}

@compute @workgroup_size(${WG}, 1, 1)
fn segment_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let e = flat(wid, nwg, t);
  if (e >= p.R * p.C) { return; }
  let r = e / p.C;
  let c = e % p.C;
  var acc = 0.0;
  for (var j = 0u; j < p.per; j++) {
    let m = r * p.per + j;
    var v = x[m * p.C + c];
    if ((p.flags & 1u) != 0u) {
      let i = pitems[m];
      if (i < p.N) { v *= y[i * p.C + c]; } else { v = 0.0; }
    }
    acc += v;
  }
  if ((p.flags & 2u) != 0u) { acc += out[e]; }
  out[e] = acc;
}
