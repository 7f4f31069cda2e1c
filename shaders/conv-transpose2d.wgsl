// 2-D transposed convolution (the data gradient of conv2d), NCHW:
//   x (N, C, H, W), w (C, OC, KH, KW) (PyTorch's ConvTranspose2d layout), bias (OC), y (N, OC, OH, OW),
//   OH = (H − 1)·SH − 2·PH + KH + OPH, likewise OW (OPH < SH: the output padding).
//   y[n, oc, oy, ox] = bias[oc] + Σ_{c, ky, kx} x[n, c, iy, ix] · w[c, oc, ky, kx]
//     over iy = (oy + PH − ky) / SH, ix = (ox + PW − kx) / SW where the division is exact and in range.
// main: 4 output channels at one output position per invocation (a gather: no atomics, a fixed
//   summation order: c, ky, kx; the x load is shared by the 4 channels).
// Defines: WG (workgroup size), BIAS, RELU. Indices come from num_workgroups/workgroup_id (1-D grids
// split over x and y).

#include "conv2d-io.wgsl"
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  // one invocation: 4 output channels (oc0 .. oc0 + 3) at one output position, sharing the x loads
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
  let ohw = p.OH * p.OW;
  let ocb = (p.OC + 3u) / 4u;
  if (i >= p.N * ocb * ohw) { return; }
  let n = i / (ocb * ohw);
  let oc0 = ((i / ohw) % ocb) * 4u;
  let oy = (i / p.OW) % p.OH;
  let ox = i % p.OW;
  let kk = p.KH * p.KW;
  // w rows of the 4 channels (clamped: the extra channels of the last block read a valid row, never stored)
  let o1 = min(oc0 + 1u, p.OC - 1u) - oc0;
  let o2 = min(oc0 + 2u, p.OC - 1u) - oc0;
  let o3 = min(oc0 + 3u, p.OC - 1u) - oc0;
  // ky ≡ (oy + PH) mod SH; iy = (oy + PH − ky) / SH
  let ty = oy + p.PH;
  let tx = ox + p.PW;
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < p.C; c++) {
    let xbase = (n * p.C + c) * p.H * p.W;
    let wbase = (c * p.OC + oc0) * kk;
    for (var ky = ty % p.SH; ky < p.KH && ky <= ty; ky += p.SH) {
      let iy = (ty - ky) / p.SH;
      if (iy >= p.H) { continue; }
      for (var kx = tx % p.SW; kx < p.KW && kx <= tx; kx += p.SW) {
        let ix = (tx - kx) / p.SW;
        if (ix >= p.W) { continue; }
        let xv = x[xbase + iy * p.W + ix];
        let k = wbase + ky * p.KW + kx;
        acc += xv * vec4<f32>(w[k], w[k + o1 * kk], w[k + o2 * kk], w[k + o3 * kk]);
      }
    }
  }
  for (var j = 0u; j < 4u; j++) {
    let oc = oc0 + j;
    if (oc >= p.OC) { break; }
    var v = acc[j];
#if ${BIAS}
    v += bias[oc];
#endif
#if ${RELU}
    v = max(v, 0.0);
#endif
    y[((n * p.OC + oc) * p.OH + oy) * p.OW + ox] = v;
  }
}
