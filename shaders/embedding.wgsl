// Token + position embedding and its deterministic backward (no float atomics, fixed sum order).
//   tokens (N) u32, table (V, C), pos (T, C), out / dout (N, C); row n uses position n mod T.
//   forward:    out[n, :] = table[tokens[n], :] (0 when tokens[n] ≥ V) + pos[n mod T, :] (POS)
//   backward:   dtable[v, :] (=, or += with ACCUM) Σ_{n : tokens[n] = v, ascending n} dout[n, :]
//               dpos[t, :]   (=, or += with ACCUM) Σ_{b = 0, 1, ...} dout[b·T + t, :]
// dtable is a segmented sum over a stable counting sort of the tokens, in four passes:
//   bw_count:   one workgroup per chunk k of WG tokens: cnt[k, v] = occurrences of v in chunk k,
//               rank[n] = occurrences of tokens[n] earlier in its chunk
//   bw_scan:    one workgroup: cnt[k, v] ← occurrences of v in chunks before k (exclusive prefix
//               over k), start[v] = Σ_{v' < v} total[v'] (start[V] = tokens < V)
//   bw_scatter: sorted[start[v] + cnt[k, v] + rank[n]] = n, so each bucket lists n ascending
//   bw_table:   workgroup (v, column block): sums dout over sorted[start[v] .. start[v + 1])
// Tokens ≥ V contribute nothing. Every order is fixed by the data, never by scheduling, so the
// same inputs give the same bits on every run.
// With VEC4 a column item is a vec4 (C % 4 == 0); p.CW = C/4, else p.CW = C.
// Defines: VEC4, POS, ACCUM (bool), WG (workgroup size; also the chunk length of bw_count).

struct Params { N: u32, CW: u32, T: u32, V: u32, G: u32, _p0: u32, _p1: u32, _p2: u32 }   // G: chunks

#if ${VEC4}
alias F = vec4<f32>;
#else
alias F = f32;
#endif

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<F>;
@group(0) @binding(3) var<storage, read> pos: array<F>;
@group(0) @binding(4) var<storage, read_write> out: array<F>;
@group(0) @binding(5) var<storage, read_write> cnt: array<u32>;     // (G, V)
@group(0) @binding(6) var<storage, read_write> rank: array<u32>;    // (N)
@group(0) @binding(7) var<storage, read_write> start: array<u32>;   // (V + 1)
@group(0) @binding(8) var<storage, read_write> sorted: array<u32>;  // (N)
@group(0) @binding(9) var<storage, read> dout: array<F>;
@group(0) @binding(10) var<storage, read_write> dtable: array<F>;
@group(0) @binding(11) var<storage, read_write> dpos: array<F>;

var<workgroup> tk: array<u32, ${WG}>;
var<workgroup> scan: array<u32, ${WG}>;

// one invocation per row: one token load and one modulo per row, not per element (integer
// division has no SIMD form on CPU drivers)
@compute @workgroup_size(${WG}, 1, 1)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let n = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (n >= p.N) { return; }
  let t = tokens[n];
  let o = n * p.CW;
  let tb = t * p.CW;
  let pb = (n % p.T) * p.CW;
  for (var c = 0u; c < p.CW; c++) {
    var x = F(0.0);
    if (t < p.V) { x = table[tb + c]; }
#if ${POS}
    x += pos[pb + c];
#endif
    out[o + c] = x;
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn bw_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let k = wid.y * nwg.x + wid.x;   // uniform over the workgroup
  if (k >= p.G) { return; }
  let n = k * ${WG}u + lid;
  var t = 0xffffffffu;
  if (n < p.N) { t = tokens[n]; }
  tk[lid] = t;
  for (var v = lid; v < p.V; v += ${WG}u) { cnt[k * p.V + v] = 0u; }
  workgroupBarrier();
  storageBarrier();
  if (t >= p.V) { return; }
  var before = 0u;
  for (var j = 0u; j < lid; j++) { before += select(0u, 1u, tk[j] == t); }
  rank[n] = before;
  if (before == 0u) {
    // the first occurrence in the chunk writes the chunk's count
    var c = 1u;
    for (var j = lid + 1u; j < ${WG}u; j++) { c += select(0u, 1u, tk[j] == t); }
    cnt[k * p.V + t] = c;
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn bw_scan(@builtin(local_invocation_index) lid: u32) {
  // per vocabulary entry: exclusive prefix over chunks, total into start[v]
  for (var v = lid; v < p.V; v += ${WG}u) {
    var run = 0u;
    for (var k = 0u; k < p.G; k++) {
      let c = cnt[k * p.V + v];
      cnt[k * p.V + v] = run;
      run += c;
    }
    start[v] = run;
  }
  storageBarrier();
  // exclusive scan of the totals over v, WG entries at a time (Hillis–Steele in workgroup memory)
  var carry = 0u;
  for (var base = 0u; base < p.V; base += ${WG}u) {
    let v = base + lid;
    var x = 0u;
    if (v < p.V) { x = start[v]; }
    scan[lid] = x;
    workgroupBarrier();
    for (var s = 1u; s < ${WG}u; s = s << 1u) {
      var y = 0u;
      if (lid >= s) { y = scan[lid - s]; }
      workgroupBarrier();
      scan[lid] += y;
      workgroupBarrier();
    }
    if (v < p.V) { start[v] = carry + scan[lid] - x; }
    carry += scan[${WG}u - 1u];
    workgroupBarrier();
  }
  if (lid == 0u) { start[p.V] = carry; }
}

@compute @workgroup_size(${WG}, 1, 1)
fn bw_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let k = wid.y * nwg.x + wid.x;
  let n = k * ${WG}u + lid;
  if (n >= p.N) { return; }
  let t = tokens[n];
  if (t >= p.V) { return; }
  sorted[start[t] + cnt[k * p.V + t] + rank[n]] = n;
}

// workgroup (column block, v): WG columns of one vocabulary row
@compute @workgroup_size(${WG}, 1, 1)
fn bw_table(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let v = wid.y;
  let c = wid.x * ${WG}u + lid;
  if (c >= p.CW) { return; }
  var s = F(0.0);
  let end = start[v + 1u];
  for (var j = start[v]; j < end; j++) { s += dout[sorted[j] * p.CW + c]; }
#if ${ACCUM}
  dtable[v * p.CW + c] += s;
#else
  dtable[v * p.CW + c] = s;
#endif
}

@compute @workgroup_size(${WG}, 1, 1)
fn bw_pos(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (i >= p.T * p.CW) { return; }
  let t = i / p.CW;
  let c = i - t * p.CW;
  let step = p.T * p.CW;
  var s = F(0.0);
  for (var j = i; j < p.N * p.CW; j += step) { s += dout[j]; }
#if ${ACCUM}
  dpos[t * p.CW + c] += s;
#else
  dpos[t * p.CW + c] = s;
#endif
}
