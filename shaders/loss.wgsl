// Losses, forward and backward fused, with per-batch statistics accumulated on the GPU.
//   softmax_ce:   logits X (B, C) f32, labels (B) u32 → dX (B, C) = (softmax(X) − onehot(label)) / B
//   mse_partial:  pred X (B, D), target T (B, D) → dX (B, D) = 2(X − T) / (B·D),
//                 partials (G) = per-workgroup Σ (X − T)²
//   mse_finalize: partials (G) → stats
//   zero_stats:   stats[:] = 0
// stats (f32, ≥ 4 entries), accumulated (+=), never overwritten except by zero_stats:
//   [0] Σ_i loss_i over the batch (CE: −log softmax(x_i)[label_i]; MSE: Σ_d (x − t)² / D)
//   [1] rows whose argmax (first maximum on ties) equals the label (CE; MSE adds nothing)
//   [2] rows seen (+= B)
//   [3] rows with a label ≥ C (CE): such a row gets loss 0, a zero gradient row and counts as wrong
// There are no float atomics: softmax_ce runs as ONE workgroup that loops over the rows and reduces
// in workgroup memory, then invocation 0 adds to stats. MSE splits the elements over G workgroups
// (partial sums), and mse_finalize (one workgroup) reduces them and adds to stats.
// Defines: WG (workgroup size, a power of two ≤ 256).

struct Params { B: u32, C: u32, G: u32, _pad: u32 }   // C is D for MSE; G = number of partials

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> T: array<f32>;
@group(0) @binding(4) var<storage, read_write> dX: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;

var<workgroup> red0: array<f32, ${WG}>;
var<workgroup> red1: array<f32, ${WG}>;
var<workgroup> red2: array<f32, ${WG}>;

// Tree reductions in workgroup memory (every invocation of the workgroup must call them).
fn reduce1(lid: u32) {
  for (var s = ${WG}u / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) { red0[lid] += red0[lid + s]; }
  }
  workgroupBarrier();
}

fn reduce3(lid: u32) {
  for (var s = ${WG}u / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) {
      red0[lid] += red0[lid + s];
      red1[lid] += red1[lid + s];
      red2[lid] += red2[lid + s];
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(${WG}, 1, 1)
fn softmax_ce(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let B = p.B;
  let C = p.C;
  let invB = 1.0 / f32(B);
  var lossSum = 0.0;
  var correct = 0.0;
  var invalid = 0.0;
  for (var r = lid; r < B; r += ${WG}u) {
    let base = r * C;
    let label = labels[r];
    // max and first argmax
    var m = X[base];
    var arg = 0u;
    for (var j = 1u; j < C; j++) {
      let x = X[base + j];
      if (x > m) { m = x; arg = j; }
    }
    var s = 0.0;
    for (var j = 0u; j < C; j++) { s += exp(X[base + j] - m); }
    if (label < C) {
      let invS = 1.0 / s;
      for (var j = 0u; j < C; j++) {
        let pr = exp(X[base + j] - m) * invS;
        dX[base + j] = (pr - select(0.0, 1.0, j == label)) * invB;
      }
      // loss = log Σ exp(x − m) + m − x[label]
      lossSum += log(s) + (m - X[base + label]);
      correct += select(0.0, 1.0, arg == label);
    } else {
      for (var j = 0u; j < C; j++) { dX[base + j] = 0.0; }
      invalid += 1.0;
    }
  }
  red0[lid] = lossSum;
  red1[lid] = correct;
  red2[lid] = invalid;
  reduce3(lid);
  if (lid == 0u) {
    stats[0] += red0[0];
    stats[1] += red1[0];
    stats[2] += f32(B);
    stats[3] += red2[0];
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn mse_partial(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lid = lid3.x;
  let n = p.B * p.C;
  let scale = 2.0 / f32(n);
  let stride = p.G * ${WG}u;
  var acc = 0.0;
  for (var i = wid.x * ${WG}u + lid; i < n; i += stride) {
    let d = X[i] - T[i];
    dX[i] = d * scale;
    acc += d * d;
  }
  red0[lid] = acc;
  reduce1(lid);
  if (lid == 0u) { partials[wid.x] = red0[0]; }
}

@compute @workgroup_size(${WG}, 1, 1)
fn mse_finalize(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var g = lid; g < p.G; g += ${WG}u) { acc += partials[g]; }
  red0[lid] = acc;
  reduce1(lid);
  if (lid == 0u) {
    stats[0] += red0[0] / f32(p.C);
    stats[2] += f32(p.B);
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn zero_stats(@builtin(local_invocation_id) lid3: vec3<u32>) {
  for (var i = lid3.x; i < arrayLength(&stats); i += ${WG}u) { stats[i] = 0.0; }
}
