// rank-topk: full-catalogue ranking of R rows of scores (users × items), the recommender's metric.
//   scores: (R, N) f32, row-major; row r belongs to user rows[p.base + r].
//   rows:   (≥ base + R) u32 user ids; a user ≥ p.U marks a padding row (nothing excluded, all out
//           entries empty).
//   rowptr: (U + 1) u32, cols: (rowptr[U]) u32 — CSR of the items each user must not be recommended
//           (those seen in training, and validation when testing).
//   out_idx, out_val: (≥ (base + R)·k) — row r's top k at (base + r)·k: item indices by score
//           descending, ties lower index first; an empty entry (fewer than k rankable items) is
//           index 0xffffffff with value -inf.
// Order: a NaN score or -inf never ranks; excluded items are set to −FLT_MAX (stands for −inf) by `exclude`.
//   exclude   one invocation per row: scores[r, cols[rowptr[u] ..]] = -inf (rows of different users
//             never share a score, so no races)
//   topk      one workgroup of WG invocations per row: invocation t scans items t, t + WG, ...
//             keeping its own top k sorted in private memory (an item enters only when it beats the
//             current k-th, strictly: in scan order equal scores keep the lower index first), then
//             log2(WG) rounds of pairwise merges in workgroup memory.
// Defines: WG (power of two, ≤ 64), KMAX (largest k: size of the private and shared lists).

struct Params { R: u32, N: u32, k: u32, base: u32, U: u32, _p0: u32, _p1: u32, _p2: u32 }

const NONE = 0xffffffffu;
const NEG_INF = -3.4028234663852886e38;   // stands for -inf: WGSL has no inf literal

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> scores: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<u32>;
@group(0) @binding(3) var<storage, read> rowptr: array<u32>;
@group(0) @binding(4) var<storage, read> cols: array<u32>;
@group(0) @binding(5) var<storage, read_write> out_idx: array<u32>;
@group(0) @binding(6) var<storage, read_write> out_val: array<f32>;

var<workgroup> sv: array<f32, ${WG} * ${KMAX}>;
var<workgroup> si: array<u32, ${WG} * ${KMAX}>;

@compute @workgroup_size(64, 1, 1)
fn exclude(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (r >= p.R) { return; }
  let u = rows[p.base + r];
  if (u >= p.U) { return; }
  let row = r * p.N;
  for (var j = rowptr[u]; j < rowptr[u + 1u]; j++) {
    let c = cols[j];
    if (c < p.N) { scores[row + c] = NEG_INF; }
  }
}

// (a, ia) ranks before (b, ib): greater score, or equal score and lower index
fn before(a: f32, ia: u32, b: f32, ib: u32) -> bool {
  return a > b || (a == b && ia < ib);
}

@compute @workgroup_size(${WG}, 1, 1)
fn topk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let r = wid.y * nwg.x + wid.x;   // uniform over the workgroup
  if (r >= p.R) { return; }
  let k = p.k;
  var lv: array<f32, ${KMAX}>;
  var li: array<u32, ${KMAX}>;
  for (var s = 0u; s < k; s++) { lv[s] = NEG_INF; li[s] = NONE; }
  let padding = rows[p.base + r] >= p.U;
  if (!padding) {
    let row = r * p.N;
    var kth = NEG_INF;   // value of the current k-th entry (an item enters only when above it)
    for (var j = t; j < p.N; j += ${WG}u) {
      let v = scores[row + j];
      if (v > kth) {   // false for NaN and -inf
        var s = k - 1u;
        while (s > 0u && lv[s - 1u] < v) {
          lv[s] = lv[s - 1u]; li[s] = li[s - 1u];
          s--;
        }
        lv[s] = v; li[s] = j;
        kth = lv[k - 1u];
      }
    }
  }
  for (var s = 0u; s < k; s++) { sv[t * ${KMAX}u + s] = lv[s]; si[t * ${KMAX}u + s] = li[s]; }
  workgroupBarrier();
  // merge list t with list t + stride into list t
  for (var stride = 1u; stride < ${WG}u; stride *= 2u) {
    if (t % (2u * stride) == 0u) {
      let a = t * ${KMAX}u;
      let b = (t + stride) * ${KMAX}u;
      var x = 0u;
      var y = 0u;
      for (var s = 0u; s < k; s++) {
        let va = sv[a + x]; let ia = si[a + x];
        let vb = sv[b + y]; let ib = si[b + y];
        // an empty entry (NONE) never ranks before a real one
        if (ib == NONE || (ia != NONE && before(va, ia, vb, ib))) { lv[s] = va; li[s] = ia; x++; }
        else { lv[s] = vb; li[s] = ib; y++; }
      }
      for (var s = 0u; s < k; s++) { sv[a + s] = lv[s]; si[a + s] = li[s]; }
    }
    workgroupBarrier();
  }
  if (t < k) {
    let o = (p.base + r) * k + t;
    out_idx[o] = si[t];
    out_val[o] = select(sv[t], NEG_INF, si[t] == NONE);
  }
}

// topk_rounds: the same result by k rounds of a workgroup argmax, each over the items ranked after
// the previous round's pick (value descending, then index ascending): no private arrays (lavapipe
// spills dynamically indexed ones to memory), k·log2(WG) barriers per row.
var<workgroup> rv: array<f32, ${WG}>;
var<workgroup> ri: array<u32, ${WG}>;

@compute @workgroup_size(${WG}, 1, 1)
fn topk_rounds(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let r = wid.y * nwg.x + wid.x;   // uniform over the workgroup
  if (r >= p.R) { return; }
  let padding = rows[p.base + r] >= p.U;
  let row = r * p.N;
  var pv = 0.0;
  var pi = NONE;   // NONE before the first round: no bound
  for (var s = 0u; s < p.k; s++) {
    var bv = NEG_INF;
    var bi = NONE;
    if (!padding && (s == 0u || pi != NONE)) {
      for (var j = t; j < p.N; j += ${WG}u) {
        let v = scores[row + j];
        let ok = v > NEG_INF && (s == 0u || v < pv || (v == pv && j > pi));
        if (ok && (bi == NONE || v > bv)) { bv = v; bi = j; }   // j ascends: equal values keep the first
      }
    }
    rv[t] = bv;
    ri[t] = bi;
    workgroupBarrier();
    for (var h = ${WG}u / 2u; h > 0u; h /= 2u) {
      if (t < h) {
        let ov = rv[t + h];
        let oi = ri[t + h];
        if (oi != NONE && (ri[t] == NONE || before(ov, oi, rv[t], ri[t]))) { rv[t] = ov; ri[t] = oi; }
      }
      workgroupBarrier();
    }
    pv = rv[0];
    pi = ri[0];
    if (t == 0u) {
      let o = (p.base + r) * p.k + s;
      out_idx[o] = pi;
      out_val[o] = select(pv, NEG_INF, pi == NONE);
    }
    workgroupBarrier();
  }
}
