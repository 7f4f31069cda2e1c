// The shipped byte model's forward pass in integers (issue 22; the TypeScript twin is
// src/codec/pretrained/bytemlp.ts, which this must match to the bit). One workgroup per row (one
// context of CTX bytes, newest first) → 256 integer logits in 1/256 nat:
//   acc1[j] = bias[j] + Σ_p tables[(p·256 + ctx[p])·H + j]      h1 = clamp(acc1 >> R1, 0, 255)
//   acc2[j] = bias[H + j] + Σ_i w2[j·H + i]·h1[i]              h2 = min(255, h1 + (max(acc2, 0) >> S2))
//   acc3[k] = bias[2H + k] + Σ_i w3[k·H + i]·h2[i]             out[row, k] = acc3 >> R3
// Only i32/u32 arithmetic (exact in WGSL). Overflow bound: |acc| < 2^25 for CTX·D ≤ 256, H ≤ 256
// (levels in [−127, 127], activations in [0, 255], biases |b| ≤ 2^24). A negative shift is a left shift.
// Defines: WG (workgroup size).

struct Params { R: u32, CTX: u32, H: u32, S2: u32, R1: i32, R3: i32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ctx: array<u32>;      // (R, CTX) bytes as u32
@group(0) @binding(2) var<storage, read> tables: array<i32>;   // (CTX, 256, H)
@group(0) @binding(3) var<storage, read> w2: array<i32>;       // (H, H)
@group(0) @binding(4) var<storage, read> w3: array<i32>;       // (256, H)
@group(0) @binding(5) var<storage, read> bias: array<i32>;     // b1 (H) | b2 (H) | b3 (256)
@group(0) @binding(6) var<storage, read_write> out: array<i32>; // (R, 256)

var<workgroup> h1: array<i32, 256>;
var<workgroup> h2: array<i32, 256>;

fn shift(x: i32, r: i32) -> i32 {
  if (r >= 0) { return x >> u32(r); }
  return x << u32(-r);
}

@compute @workgroup_size(${WG})
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  let live = row < p.R;   // every invocation reaches the barriers; dead rows write nothing
  let r = min(row, p.R - 1u);
  let H = p.H;
  for (var j = lid; j < H; j += ${WG}u) {
    var acc = bias[j];
    for (var q = 0u; q < p.CTX; q++) {
      acc += tables[(q * 256u + (ctx[r * p.CTX + q] & 255u)) * H + j];
    }
    h1[j] = clamp(shift(acc, p.R1), 0, 255);
  }
  workgroupBarrier();
  for (var j = lid; j < H; j += ${WG}u) {
    var acc = bias[H + j];
    let base = j * H;
    for (var i = 0u; i < H; i++) { acc += w2[base + i] * h1[i]; }
    h2[j] = min(255, h1[j] + (max(acc, 0) >> p.S2));
  }
  workgroupBarrier();
  for (var k = lid; k < 256u; k += ${WG}u) {
    var acc = bias[2u * H + k];
    let base = k * H;
    for (var i = 0u; i < H; i++) { acc += w3[base + i] * h2[i]; }
    if (live) { out[r * 256u + k] = shift(acc, p.R3); }
  }
}
