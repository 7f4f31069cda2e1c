// The shipped byte model's forward pass in integers (issue 22; the TypeScript twin is
// src/reference/bytemlp.ts, which this must match to the bit). One workgroup per ROWS rows (each
// context of CTX bytes, newest first) → 256 integer logits in 1/256 nat:
//   acc1[j] = bias[j] + Σ_p tables[(p·256 + ctx[p])·H + j]      h1 = clamp(acc1 >> R1, 0, 255)
//   acc2[j] = bias[H + j] + Σ_i w2[j·H + i]·h1[i]              h2 = min(255, h1 + (max(acc2, 0) >> S2))
//   acc3[k] = bias[2H + k] + Σ_i w3[k·H + i]·h2[i]             out[row, k] = acc3 >> R3
// Only i32/u32 arithmetic (exact in WGSL). Overflow bound: |acc| < 2^25 for CTX·D ≤ 256, H ≤ 256
// (levels in [−127, 127], activations in [0, 255], biases |b| ≤ 2^24). A negative shift is a left shift.
// Defines: WG (workgroup size), HROWS = ROWS·256, JROWS = ceil(256 / WG)·ROWS, ROWS (rows per workgroup: each weight read serves ROWS rows).

struct Params { R: u32, CTX: u32, H: u32, S2: u32, R1: i32, R3: i32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ctx: array<u32>;      // (R, CTX) bytes as u32
@group(0) @binding(2) var<storage, read> tables: array<i32>;   // (CTX, 256, H)
@group(0) @binding(3) var<storage, read> w2: array<i32>;       // (H, H)
@group(0) @binding(4) var<storage, read> w3: array<i32>;       // (256, H)
@group(0) @binding(5) var<storage, read> bias: array<i32>;     // b1 (H) | b2 (H) | b3 (256)
@group(0) @binding(6) var<storage, read_write> out: array<i32>; // (R, 256)

// h holds h1 (ROWS, 256), then h2 in place: each thread keeps its rows' new values in registers
// (JPT = ceil(256 / WG) columns per thread at most) until every thread has read h1.
var<workgroup> h: array<i32, ${HROWS}>;

fn shift(x: i32, r: i32) -> i32 {
  if (r >= 0) { return x >> u32(r); }
  return x << u32(-r);
}

@compute @workgroup_size(${WG})
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x) * ${ROWS}u;   // this workgroup's rows: first .. first + ROWS
  let H = p.H;
  for (var j = lid; j < H; j += ${WG}u) {
    for (var k = 0u; k < ${ROWS}u; k++) {
      let r = min(first + k, p.R - 1u);   // rows past R repeat the last (written nowhere)
      var acc = bias[j];
      for (var q = 0u; q < p.CTX; q++) {
        acc += tables[(q * 256u + (ctx[r * p.CTX + q] & 255u)) * H + j];
      }
      h[k * 256u + j] = clamp(shift(acc, p.R1), 0, 255);
    }
  }
  workgroupBarrier();
  var keep: array<i32, ${JROWS}>;   // (JPT, ROWS): this thread's h2 values
  var jj = 0u;
  for (var j = lid; j < H; j += ${WG}u) {
    var acc: array<i32, ${ROWS}>;
    for (var k = 0u; k < ${ROWS}u; k++) { acc[k] = bias[H + j]; }
    let base = j * H;
    for (var i = 0u; i < H; i++) {
      let w = w2[base + i];
      for (var k = 0u; k < ${ROWS}u; k++) { acc[k] += w * h[k * 256u + i]; }
    }
    for (var k = 0u; k < ${ROWS}u; k++) { keep[jj * ${ROWS}u + k] = min(255, h[k * 256u + j] + (max(acc[k], 0) >> p.S2)); }
    jj++;
  }
  workgroupBarrier();
  jj = 0u;
  for (var j = lid; j < H; j += ${WG}u) {
    for (var k = 0u; k < ${ROWS}u; k++) { h[k * 256u + j] = keep[jj * ${ROWS}u + k]; }
    jj++;
  }
  workgroupBarrier();
  for (var o = lid; o < 256u; o += ${WG}u) {
    var acc: array<i32, ${ROWS}>;
    for (var k = 0u; k < ${ROWS}u; k++) { acc[k] = bias[2u * H + o]; }
    let base = o * H;
    for (var i = 0u; i < H; i++) {
      let w = w3[base + i];
      for (var k = 0u; k < ${ROWS}u; k++) { acc[k] += w * h[k * 256u + i]; }
    }
    for (var k = 0u; k < ${ROWS}u; k++) {
      if (first + k < p.R) { out[(first + k) * 256u + o] = shift(acc[k], p.R3); }
    }
  }
}
