// 2-D max pooling, NCHW, no padding:
//   x (N, C, H, W) → y (N, C, OH, OW) and argmax (N, C, OH, OW) u32,
//   OH = ⌊(H − KH) / SH⌋ + 1, OW = ⌊(W − KW) / SW⌋ + 1.
//   argmax[n, c, oh, ow] = ih·W + iw: the flat index of the maximum INSIDE ITS (n, c) INPUT PLANE.
//   Ties: the first maximum in window order (kh, then kw) wins (strict > comparison).
// Entry points:
//   main            forward: one output element per invocation
//   backward_tiles  backward when windows do not overlap (SH ≥ KH and SW ≥ KW): one invocation per
//                   output owns the SH × SW cell at its window (the last row/column of cells runs
//                   to the edge of the plane) and writes dy at the argmax, 0 elsewhere
//   backward        dx[n, c, ih, iw] = Σ dy[n, c, oh, ow] over the outputs whose window covers (ih, iw)
//             and whose argmax is (ih, iw): each input element gathers, so overlapping windows
//             (stride < kernel) need no atomics and the sum order is fixed.
// Kernel size and stride are uniforms; the only define is WG (workgroup size). Indices come from
// num_workgroups/workgroup_id (1-D grids split over x and y).

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  OH: u32, OW: u32, KH: u32, KW: u32,
  SH: u32, SW: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> argmax_in: array<u32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
}

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat_id(wid, nwg, lid);
  let ohw = p.OH * p.OW;
  if (i >= p.N * p.C * ohw) { return; }
  let plane = i / ohw;
  let pos = i % ohw;
  let oh = pos / p.OW;
  let ow = pos % p.OW;
  let xb = plane * p.H * p.W;
  let ih0 = oh * p.SH;
  let iw0 = ow * p.SW;
  var best_i = ih0 * p.W + iw0;
  var best = x[xb + best_i];
  for (var kh = 0u; kh < p.KH; kh = kh + 1u) {
    let r = (ih0 + kh) * p.W + iw0;
    for (var kw = 0u; kw < p.KW; kw = kw + 1u) {
      let v = x[xb + r + kw];
      if (v > best) { best = v; best_i = r + kw; }
    }
  }
  y[i] = best;
  argmax[i] = best_i;
}

@compute @workgroup_size(${WG}, 1, 1)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat_id(wid, nwg, lid);
  let hw = p.H * p.W;
  if (i >= p.N * p.C * hw) { return; }
  let plane = i / hw;
  let pos = i % hw;
  let ih = pos / p.W;
  let iw = pos % p.W;
  // outputs covering ih: oh·SH ≤ ih < oh·SH + KH  ⇔  ⌈(ih − KH + 1) / SH⌉ ≤ oh ≤ ⌊ih / SH⌋
  var oh0 = 0u;
  if (ih + 1u > p.KH) { oh0 = (ih + 1u - p.KH + p.SH - 1u) / p.SH; }
  let oh1 = min(p.OH, ih / p.SH + 1u);
  var ow0 = 0u;
  if (iw + 1u > p.KW) { ow0 = (iw + 1u - p.KW + p.SW - 1u) / p.SW; }
  let ow1 = min(p.OW, iw / p.SW + 1u);
  let ob = plane * p.OH * p.OW;
  var acc = 0.0;
  for (var oh = oh0; oh < oh1; oh = oh + 1u) {
    for (var ow = ow0; ow < ow1; ow = ow + 1u) {
      let o = ob + oh * p.OW + ow;
      if (argmax_in[o] == pos) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}

@compute @workgroup_size(${WG}, 1, 1)
fn backward_tiles(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat_id(wid, nwg, lid);
  let ohw = p.OH * p.OW;
  if (i >= p.N * p.C * ohw) { return; }
  let plane = i / ohw;
  let pos = i % ohw;
  let oh = pos / p.OW;
  let ow = pos % p.OW;
  let g = dy[i];
  let am = argmax_in[i];
  let ih0 = oh * p.SH;
  let iw0 = ow * p.SW;
  let ih1 = select(ih0 + p.SH, p.H, oh + 1u == p.OH);
  let iw1 = select(iw0 + p.SW, p.W, ow + 1u == p.OW);
  let xb = plane * p.H * p.W;
  for (var ih = ih0; ih < ih1; ih = ih + 1u) {
    let r = ih * p.W;
    for (var iw = iw0; iw < iw1; iw = iw + 1u) {
      dx[xb + r + iw] = select(0.0, g, r + iw == am);
    }
  }
}
