// topk-mask: mask = 1.0 for exactly k elements with the largest |w|, 0.0 for the others.
//   w, mask: (n) f32 buffers of the same layout; only the elements listed in `blocks` are read and
//            written (the concatenation of the views, cut into blocks of ≤ BLOCK elements).
//            w is read as u32 bits (no float ops, NaN bits intact), and also as w4 (vec4<u32>, the
//            same binding rounded down to whole vec4s) for the 16-byte-aligned body of each block:
//            lavapipe runs one vec4 load per lane much faster than four scalar ones.
//   blocks:  (nblocks) vec2<u32> = (element offset in w and mask, length), in index order.
//   kbuf:    u32[1] = k (clamped to n_total).  st: u32[16] state.  hist: u32[2048] histogram.
//   eq:      (nblocks) u32, per-block count of elements equal to the threshold.
// Order: by the u32 bit pattern of |w| (w's bits with the sign bit cleared), which is monotonic in
// |w| for non-negative floats. Denormals are exact; NaN's bits lie above +Inf, so |NaN| counts as
// the largest value (NaNs are kept first). Ties at the threshold are kept lowest index first
// (index = position in the concatenation of the blocks), so exactly k elements are kept.
// No sort: radix select, 3 passes of 11 + 10 + 10 bits over the 31 value bits.
//   init                  st = (prefix 0, remaining k), clear hist          (1 workgroup)
//   hist   (pass p)       per-block histogram of digit p of the elements whose higher digits match
//                         the prefix, in workgroup memory, merged into hist with atomics
//   select (pass p)       picks the digit holding the remaining-k-th largest, appends it to the
//                         prefix, subtracts the larger digits' counts from remaining k, clears hist
//   count_eq              eq[b] = #(|w| bits == threshold) in block b
//   boundary              finds the block where the remaining-k-th equal element lies
//   mask                  keep bits > T; keep bits == T in blocks before the boundary block; in the
//                         boundary block keep the first `remaining` of them (per-invocation scan)
// Every value (k, prefix, threshold) stays in GPU buffers: the whole sequence records into one
// command encoder with no readback.
// Defines: WG (workgroup size of the per-block passes, ≤ 256).

struct Params {
  shift: u32,    // digit p = (bits >> shift) & dmask
  dmask: u32,
  pmask: u32,    // bits above digit p (those fixed by earlier passes)
  nbins: u32,    // dmask + 1
  nblocks: u32,
  n_total: u32,
  _p0: u32,
  _p1: u32,
}

// state slots
const PREFIX = 0u;     // prefix of the threshold; the threshold T after the last select
const REMAIN = 1u;     // remaining k; after the last select: how many elements == T to keep
const BB = 2u;         // boundary block
const BB_KEEP = 3u;    // elements == T kept in the boundary block (0: none)

const SEL_WG = 256u;
const ABS = 0x7fffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<storage, read> blocks: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> kbuf: array<u32>;
@group(0) @binding(5) var<storage, read_write> st: array<u32>;
@group(0) @binding(6) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> eq: array<u32>;
@group(0) @binding(8) var<storage, read> w4: array<vec4<u32>>;

var<workgroup> lh: array<atomic<u32>, 2048>;
var<workgroup> part: array<u32, 256>;
var<workgroup> wcount: atomic<u32>;
var<workgroup> wu: vec4<u32>;

fn block_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

// [lo, end) = [lo, a.x) ∪ 4·[a.x/4, a.y/4) ∪ [a.y, end): a head and a tail of < 4 elements around
// the vec4-aligned body
fn aligned(lo: u32, end: u32) -> vec2<u32> {
  let a0 = min((lo + 3u) & ~3u, end);
  return vec2<u32>(a0, max(end & ~3u, a0));
}

@compute @workgroup_size(SEL_WG, 1, 1)
fn init(@builtin(local_invocation_index) lid: u32) {
  for (var i = lid; i < 2048u; i += SEL_WG) { atomicStore(&hist[i], 0u); }
  if (lid == 0u) {
    let k = min(kbuf[0], p.n_total);
    // k = 0: an impossible prefix (no |w| bits have the top bit), so nothing is counted or kept.
    st[PREFIX] = select(0u, 0xffffffffu, k == 0u);
    st[REMAIN] = k;
    st[BB] = 0xffffffffu;
    st[BB_KEEP] = 0u;
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn hist_pass(@builtin(local_invocation_index) lid: u32,
             @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = block_index(wid, nwg);
  for (var i = lid; i < p.nbins; i += ${WG}u) { atomicStore(&lh[i], 0u); }
  if (lid == 0u) { wu = vec4<u32>(st[PREFIX], 0u, 0u, 0u); }
  let prefix = workgroupUniformLoad(&wu).x;
  if (b < p.nblocks) {
    let blk = blocks[b];
    let end = blk.x + blk.y;
    let shift = p.shift;
    let dmask = p.dmask;
    let pmask = p.pmask;
    let a = aligned(blk.x, end);
    let a0 = a.x;
    let a1 = a.y;
    if (blk.x + lid < a0) {
      let v = w[blk.x + lid] & ABS;
      if ((v & pmask) == prefix) { atomicAdd(&lh[(v >> shift) & dmask], 1u); }
    }
    if (a1 + lid < end) {
      let v = w[a1 + lid] & ABS;
      if ((v & pmask) == prefix) { atomicAdd(&lh[(v >> shift) & dmask], 1u); }
    }
    let pm4 = vec4<u32>(pmask);
    let pf4 = vec4<u32>(prefix);
    for (var q = a0 / 4u + lid; q < a1 / 4u; q += ${WG}u) {
      let v = w4[q] & vec4<u32>(ABS);
      let hit = (v & pm4) == pf4;
      if (any(hit)) {
        let d = (v >> vec4<u32>(shift)) & vec4<u32>(dmask);
        if (hit.x) { atomicAdd(&lh[d.x], 1u); }
        if (hit.y) { atomicAdd(&lh[d.y], 1u); }
        if (hit.z) { atomicAdd(&lh[d.z], 1u); }
        if (hit.w) { atomicAdd(&lh[d.w], 1u); }
      }
    }
  }
  workgroupBarrier();
  for (var i = lid; i < p.nbins; i += ${WG}u) {
    let c = atomicLoad(&lh[i]);
    if (c != 0u) { atomicAdd(&hist[i], c); }
  }
}

@compute @workgroup_size(SEL_WG, 1, 1)
fn select_digit(@builtin(local_invocation_index) lid: u32) {
  // invocation lid owns `per` digits, in descending order: lid 0 the largest ones
  let per = p.nbins / SEL_WG;
  let top = p.nbins - 1u - lid * per;
  var s = 0u;
  for (var j = 0u; j < per; j++) { s += atomicLoad(&hist[top - j]); }
  part[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    let rem = st[REMAIN];
    if (rem != 0u) {
      var acc = 0u;
      var owner = SEL_WG - 1u;
      for (var t = 0u; t < SEL_WG; t++) {
        if (acc + part[t] >= rem) { owner = t; break; }
        acc += part[t];
      }
      let otop = p.nbins - 1u - owner * per;
      var digit = otop - (per - 1u);
      for (var j = 0u; j < per; j++) {
        let c = atomicLoad(&hist[otop - j]);
        if (acc + c >= rem) { digit = otop - j; break; }
        acc += c;
      }
      st[PREFIX] = st[PREFIX] | (digit << p.shift);
      st[REMAIN] = rem - acc;
    }
  }
  storageBarrier();
  for (var j = 0u; j < per; j++) { atomicStore(&hist[top - j], 0u); }
}

@compute @workgroup_size(${WG}, 1, 1)
fn count_eq(@builtin(local_invocation_index) lid: u32,
            @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = block_index(wid, nwg);
  if (lid == 0u) {
    atomicStore(&wcount, 0u);
    wu = vec4<u32>(st[PREFIX], 0u, 0u, 0u);
  }
  let t = workgroupUniformLoad(&wu).x;
  if (b < p.nblocks) {
    let blk = blocks[b];
    let end = blk.x + blk.y;
    var c = 0u;
    let a = aligned(blk.x, end);
    let a0 = a.x;
    let a1 = a.y;
    if (blk.x + lid < a0) { c += select(0u, 1u, (w[blk.x + lid] & ABS) == t); }
    if (a1 + lid < end) { c += select(0u, 1u, (w[a1 + lid] & ABS) == t); }
    var c4 = vec4<u32>(0u);
    let t4 = vec4<u32>(t);
    for (var q = a0 / 4u + lid; q < a1 / 4u; q += ${WG}u) {
      c4 += select(vec4<u32>(0u), vec4<u32>(1u), (w4[q] & vec4<u32>(ABS)) == t4);
    }
    c += c4.x + c4.y + c4.z + c4.w;
    if (c != 0u) { atomicAdd(&wcount, c); }
  }
  workgroupBarrier();
  if (lid == 0u && b < p.nblocks) { eq[b] = atomicLoad(&wcount); }
}

@compute @workgroup_size(SEL_WG, 1, 1)
fn boundary(@builtin(local_invocation_index) lid: u32) {
  // invocation lid sums eq over a contiguous range of blocks
  let nb = p.nblocks;
  let per = (nb + SEL_WG - 1u) / SEL_WG;
  let lo = min(lid * per, nb);
  let hi = min(lo + per, nb);
  var s = 0u;
  for (var b = lo; b < hi; b++) { s += eq[b]; }
  part[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    let r = st[REMAIN];
    var bb = 0xffffffffu;
    var keep = 0u;
    if (r != 0u) {
      var acc = 0u;
      var owner = SEL_WG - 1u;
      for (var t = 0u; t < SEL_WG; t++) {
        if (acc + part[t] >= r) { owner = t; break; }
        acc += part[t];
      }
      let olo = min(owner * per, nb);
      let ohi = min(olo + per, nb);
      for (var b = olo; b < ohi; b++) {
        let c = eq[b];
        if (acc + c >= r) { bb = b; keep = r - acc; break; }
        acc += c;
      }
      // every equal element of the boundary block is kept: no per-element ranks are needed there
      if (bb != 0xffffffffu && keep == eq[bb]) { bb = bb + 1u; keep = 0u; }
    }
    st[BB] = bb;
    st[BB_KEEP] = keep;
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn mask_pass(@builtin(local_invocation_index) lid: u32,
             @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = block_index(wid, nwg);
  if (lid == 0u) { wu = vec4<u32>(st[PREFIX], st[BB], st[BB_KEEP], 0u); }
  let s = workgroupUniformLoad(&wu);
  let t = s.x;
  if (b < p.nblocks) {
    let blk = blocks[b];
    if (b == s.y && s.z != 0u) {
      // the boundary block: invocation lid owns a contiguous range; ranks of the elements == T
      // come from an exclusive scan of the per-invocation counts
      let per = (blk.y + ${WG}u - 1u) / ${WG}u;
      let lo = blk.x + min(lid * per, blk.y);
      let hi = blk.x + min(lid * per + per, blk.y);
      var c = 0u;
      for (var i = lo; i < hi; i++) { c += select(0u, 1u, (w[i] & ABS) == t); }
      part[lid] = c;
      workgroupBarrier();
      if (lid == 0u) {
        var acc = 0u;
        for (var j = 0u; j < ${WG}u; j++) { let x = part[j]; part[j] = acc; acc += x; }
      }
      workgroupBarrier();
      var rank = part[lid];
      for (var i = lo; i < hi; i++) {
        let v = w[i] & ABS;
        var keep = v > t;
        if (v == t) { keep = rank < s.z; rank += 1u; }
        mask[i] = select(0.0, 1.0, keep);
      }
    } else {
      let all_eq = b < s.y;
      let end = blk.x + blk.y;
      let a = aligned(blk.x, end);
      let a0 = a.x;
      let a1 = a.y;
      if (blk.x + lid < a0) {
        let v = w[blk.x + lid] & ABS;
        mask[blk.x + lid] = select(0.0, 1.0, v > t || (all_eq && v == t));
      }
      if (a1 + lid < end) {
        let v = w[a1 + lid] & ABS;
        mask[a1 + lid] = select(0.0, 1.0, v > t || (all_eq && v == t));
      }
      let t4 = vec4<u32>(t);
      let eq4 = vec4<bool>(all_eq);
      for (var q = a0 / 4u + lid; q < a1 / 4u; q += ${WG}u) {
        let v = w4[q] & vec4<u32>(ABS);
        let m = select(vec4<f32>(0.0), vec4<f32>(1.0), (v > t4) | (eq4 & (v == t4)));
        let i = 4u * q;
        mask[i] = m.x;
        mask[i + 1u] = m.y;
        mask[i + 2u] = m.z;
        mask[i + 3u] = m.w;
      }
    }
  }
}
