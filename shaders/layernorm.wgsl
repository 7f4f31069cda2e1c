// Layer normalisation over the last dimension, forward and backward.
//   x, y, dy, dx: (N, C); gamma, beta, dgamma, dbeta: (C); mean, rstd: (N)
//   forward:  mean = Σx/C, rstd = 1/sqrt(Σ(x − mean)²/C + eps), y = (x − mean)·rstd·γ + β
//   backward: x̂ = (x − mean)·rstd, g = dy·γ,
//             dx (=, or += with ACCUM) rstd·(g − mean(g) − x̂·mean(g·x̂))
//             dγ = Σ_n dy·x̂, dβ = Σ_n dy in two fixed-order stages (no atomics):
//             bw_partial: chunk k of R rows → partial[k] = (Σ dy·x̂, Σ dy) over its rows
//             bw_final:   dγ, dβ = Σ_k partial[k], k ascending
// forward and bw_dx run one invocation per row (no barriers, no private arrays: the row is read
// again from memory for each pass); bw_partial one per (chunk, column item), bw_final one per
// column item. With VEC4 a column item is a vec4 (C % 4 == 0); p.CW = C/4, else p.CW = C.
// Defines: VEC4, ACCUM (bool), WG (workgroup size).

struct Params { N: u32, CW: u32, C: u32, R: u32, G: u32, eps: f32, _p0: u32, _p1: u32 }

#if ${VEC4}
alias F = vec4<f32>;
fn hsum(v: F) -> f32 { return (v.x + v.y) + (v.z + v.w); }
#else
alias F = f32;
fn hsum(v: F) -> f32 { return v; }
#endif

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<F>;
@group(0) @binding(2) var<storage, read> gamma: array<F>;
@group(0) @binding(3) var<storage, read> beta: array<F>;
@group(0) @binding(4) var<storage, read_write> y: array<F>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(7) var<storage, read> dy: array<F>;
@group(0) @binding(8) var<storage, read_write> dx: array<F>;
@group(0) @binding(9) var<storage, read_write> partial: array<F>;   // (G, 2, CW)
@group(0) @binding(10) var<storage, read_write> dgamma: array<F>;
@group(0) @binding(11) var<storage, read_write> dbeta: array<F>;
@group(0) @binding(12) var<storage, read> mean_in: array<f32>;
@group(0) @binding(13) var<storage, read> rstd_in: array<f32>;

fn flat(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${WG}u + lid;
}

@compute @workgroup_size(${WG}, 1, 1)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let n = flat(wid, nwg, lid);
  if (n >= p.N) { return; }
  let base = n * p.CW;
  let invC = 1.0 / f32(p.C);
  var s = F(0.0);
  for (var c = 0u; c < p.CW; c++) { s += x[base + c]; }
  let mu = hsum(s) * invC;
  var q = F(0.0);
  for (var c = 0u; c < p.CW; c++) {
    let d = x[base + c] - F(mu);
    q = fma(d, d, q);
  }
  let r = 1.0 / sqrt(hsum(q) * invC + p.eps);
  for (var c = 0u; c < p.CW; c++) {
    y[base + c] = fma((x[base + c] - F(mu)) * r, gamma[c], beta[c]);
  }
  mean[n] = mu;
  rstd[n] = r;
}

@compute @workgroup_size(${WG}, 1, 1)
fn bw_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let n = flat(wid, nwg, lid);
  if (n >= p.N) { return; }
  let base = n * p.CW;
  let mu = mean_in[n];
  let r = rstd_in[n];
  var sg = F(0.0);
  var sgx = F(0.0);
  for (var c = 0u; c < p.CW; c++) {
    let g = dy[base + c] * gamma[c];
    sg += g;
    sgx = fma(g, (x[base + c] - F(mu)) * r, sgx);
  }
  let invC = 1.0 / f32(p.C);
  let a = hsum(sg) * invC;
  let b = hsum(sgx) * invC;
  for (var c = 0u; c < p.CW; c++) {
    let xh = (x[base + c] - F(mu)) * r;
    let v = r * (dy[base + c] * gamma[c] - F(a) - xh * b);
#if ${ACCUM}
    dx[base + c] += v;
#else
    dx[base + c] = v;
#endif
  }
}

@compute @workgroup_size(${WG}, 1, 1)
fn bw_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.G * p.CW) { return; }
  let k = i / p.CW;
  let c = i - k * p.CW;
  let n0 = k * p.R;
  let n1 = min(n0 + p.R, p.N);
  var sg = F(0.0);
  var sb = F(0.0);
  for (var n = n0; n < n1; n++) {
    let d = dy[n * p.CW + c];
    sg = fma(d, (x[n * p.CW + c] - F(mean_in[n])) * rstd_in[n], sg);
    sb += d;
  }
  partial[(2u * k) * p.CW + c] = sg;
  partial[(2u * k + 1u) * p.CW + c] = sb;
}

@compute @workgroup_size(${WG}, 1, 1)
fn bw_final(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let c = flat(wid, nwg, lid);
  if (c >= p.CW) { return; }
  var sg = F(0.0);
  var sb = F(0.0);
  for (var k = 0u; k < p.G; k++) {
    sg += partial[(2u * k) * p.CW + c];
    sb += partial[(2u * k + 1u) * p.CW + c];
  }
  dgamma[c] = sg;
  dbeta[c] = sb;
}
