// 2-D transposed convolution (the data gradient of conv2d), NCHW:
//   x (N, C, H, W), w (C, OC, KH, KW) (PyTorch's ConvTranspose2d layout), bias (OC), y (N, OC, OH, OW),
//   OH = (H − 1)·SH − 2·PH + KH + OPH, likewise OW (OPH < SH: the output padding).
//   y[n, oc, oy, ox] = bias[oc] + Σ_{c, ky, kx} x[n, c, iy, ix] · w[c, oc, ky, kx]
//     over iy = (oy + PH − ky) / SH, ix = (ox + PW − kx) / SW where the division is exact and in range.
// main: one output element per invocation (a gather: no atomics, a fixed summation order: c, ky, kx).
// Defines: WG (workgroup size), BIAS, RELU. Indices come from num_workgroups/workgroup_id (1-D grids
// split over x and y).

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  OC: u32, OH: u32, OW: u32, KH: u32,
  KW: u32, SH: u32, SW: u32, PH: u32,
  PW: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
  let ohw = p.OH * p.OW;
  if (i >= p.N * p.OC * ohw) { return; }
  let n = i / (p.OC * ohw);
  let oc = (i / ohw) % p.OC;
  let oy = (i / p.OW) % p.OH;
  let ox = i % p.OW;
  // ky ≡ (oy + PH) mod SH; iy = (oy + PH − ky) / SH
  let ty = oy + p.PH;
  let tx = ox + p.PW;
  var acc = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let xbase = (n * p.C + c) * p.H * p.W;
    let wbase = (c * p.OC + oc) * p.KH * p.KW;
    for (var ky = ty % p.SH; ky < p.KH && ky <= ty; ky += p.SH) {
      let iy = (ty - ky) / p.SH;
      if (iy >= p.H) { continue; }
      for (var kx = tx % p.SW; kx < p.KW && kx <= tx; kx += p.SW) {
        let ix = (tx - kx) / p.SW;
        if (ix >= p.W) { continue; }
        acc += x[xbase + iy * p.W + ix] * w[wbase + ky * p.KW + kx];
      }
    }
  }
#if ${BIAS}
  acc += bias[oc];
#endif
#if ${RELU}
  acc = max(acc, 0.0);
#endif
  y[i] = acc;
}
