// 2-D convolution, NCHW, cross-correlation (as in every deep-learning library):
//   x (N, C, H, W), w (OC, C, KH, KW), bias (OC), y (N, OC, OH, OW)
//   y[n, o, oh, ow] = Σ_{c, kh, kw} x[n, c, oh·SH − PH + kh, ow·SW − PW + kw] · w[o, c, kh, kw]
//   (x is zero outside the image), OH = ⌊(H + 2·PH − KH) / SH⌋ + 1, likewise OW.
// Entry points (backward_data: include/conv2d-backward-data.wgsl; the gradients of w and bias:
// include/conv2d-filter.wgsl):
//   main            y = conv(x, w) [+ bias] [→ relu]         OB (4/8/16) output channels × 4 columns
//                   per invocation; with SG (8-lane subgroups: CPU drivers) each lane loads the
//                   weights of 1-2 channels and the others get them by subgroupBroadcast; with FLIP
//                   (and SG) it computes the stride-1 backward data as a forward convolution of dy
//                   with the flipped, channel-transposed kernel, skipping kernel rows that fall in
//                   the zero padding for a whole subgroup (subgroupAny)
//   backward_data   dx (N, C, H, W) from dy and w             4 input channels per invocation
//   filter_sg       (SG) filter gradient partial sums: 4 columns × 8/16 output channels per lane,
//                   dy values by subgroupBroadcast
//   filter_partial  dw (OC, C, KH, KW) partial sums over one chunk of the N·OH·OW output positions,
//                   a 4 (output channels) × 4 (flattened c, kh, kw) block per invocation,
//                   written to part[s, o, c, kh, kw] (s = chunk)
//   bias_partial    db partial sums: part[s, o] = Σ over chunk s of the positions of dy[·, o, ·, ·]
//   reduce          out[i] = Σ_s part[s·L + i], i < L (second stage of filter/bias)
// No workgroup memory, no barriers, no float atomics: each output element has one owner, the
// weight-sharing reduction is two-stage (chunks, then a sum over chunks). Out-of-range output
// channels/columns of a block read clamped (valid) addresses and are never stored. Every
// invocation index comes from num_workgroups/workgroup_id (1-D grids split over x and y).
// Stride and padding are uniforms; the defines are BIAS, RELU, OB8, OB16 (channel block of main:
// 4, 8 or 16), SG (subgroups), FLIP (bool) and WG (workgroup size). The wrapper picks SG on
// adapters with 8-lane subgroups (lavapipe); OB by the channel count.

#if ${SG}
enable subgroups;
// FLIP skips padding rows with subgroupAny inside loops whose bounds the analysis cannot prove uniform
diagnostic(off, subgroup_uniformity);
#endif

#include "conv2d-io.wgsl"
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> part: array<f32>;
@group(0) @binding(8) var<storage, read> part_in: array<f32>;
@group(0) @binding(9) var<storage, read_write> red_out: array<f32>;

fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
}

// x[xr + iw] when the row is inside the image and 0 ≤ iw < W, else 0 (xr: start of an image row)
fn x_at(xr: u32, iw: i32, row_ok: bool) -> f32 {
  return select(0.0, x[xr + u32(clamp(iw, 0, i32(p.W) - 1))], row_ok && u32(iw) < p.W);
}

// weights w[base.x + k], w[base.y + k], ... of 4 output channels (base: row offsets, uniform)
fn w4(base: vec4<u32>, k: u32) -> vec4<f32> {
  return vec4<f32>(w[base.x + k], w[base.y + k], w[base.z + k], w[base.w + k]);
}

// row offsets o·C·KH·KW of output channels o0 .. o0 + 3, clamped to the last channel
fn w_rows(o0: u32, ckk: u32) -> vec4<u32> {
  let last = p.OC - 1u;
  return vec4<u32>(min(o0, last), min(o0 + 1u, last), min(o0 + 2u, last), min(o0 + 3u, last)) * ckk;
}

#if ${SG}
// the 4 weights of channels o + 4h .. o + 4h + 3 at one tap, from the 8 lanes' loads v (lane l
// loaded channel o + l): register extracts instead of 4 loads
fn bcast4(v: f32, h: u32) -> vec4<f32> {
  if (h == 0u) {
    return vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
  }
  return vec4<f32>(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}
#endif

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>
#if ${SG}
        , @builtin(subgroup_invocation_id) sl: u32
#endif
        ) {
  // A block of OB output channels (OB = 4, 8 with OB8, 16 with OB16; workgroup_id.z, so weight
  // loads are uniform) × 4 neighbouring output columns per invocation. i → (n, oh, column quad).
  // Accumulator a{t}{q}: output column ow0 + t, channels o0 + 4q .. o0 + 4q + 3. Bigger blocks
  // reuse every x value (a gather on lavapipe) for more channels: 4·OB FMAs per x load.
  let quads = (p.OW + 3u) / 4u;
  let count = p.N * p.OH * quads;
  // no early return: with SG every lane of a subgroup must reach the broadcasts
  let live = flat_id(wid, nwg, lid) < count;
  let i = min(flat_id(wid, nwg, lid), count - 1u);
#if ${FLIP}
  // samples vary fastest: the 8 lanes of a subgroup (N % 8 == 0) share the output row and the
  // column quad, so a kernel row that falls in the zero padding for all of them is skipped
  let n = i % p.N;
  let rq = i / p.N;
  let ow0 = (rq % quads) * 4u;
  let oh = rq / quads;
#else
  let ow0 = (i % quads) * 4u;
  let row = i / quads; // n·OH + oh
  let oh = row % p.OH;
  let n = row / p.OH;
#endif
#if ${OB16}
  let o0 = wid.z * 16u;
#elif ${OB8}
  let o0 = wid.z * 8u;
#else
  let o0 = wid.z * 4u;
#endif
  let ckk = p.C * p.KH * p.KW;
  let kk = p.KH * p.KW;
  // weight rows of the output channels (clamped: rows past OC are computed, never stored)
#if ${FLIP}
  // backward data as a forward convolution of dy: weight (out o, in c, kh, kw) is
  // w[c, o, KH − 1 − kh, KW − 1 − kw] of the original (C_in = OC here, OC_out = C): row stride kk
  let wstride = kk;
#else
  let wstride = ckk;
#endif
  let wb0 = w_rows(o0, wstride);
  let wb1 = w_rows(o0 + 4u, wstride);
  let wb2 = w_rows(o0 + 8u, wstride);
  let wb3 = w_rows(o0 + 12u, wstride);
#if ${SG}
  // lane sl loads the weights of channels o0 + sl and o0 + 8 + sl (clamped)
  let wl0 = min(o0 + sl, p.OC - 1u) * wstride;
  let wl1 = min(o0 + 8u + sl, p.OC - 1u) * wstride;
#endif
  let ihb = i32(oh * p.SH) - i32(p.PH);
  let iw0 = i32(ow0 * p.SW) - i32(p.PW);
  let iw1 = iw0 + i32(p.SW);
  let iw2 = iw1 + i32(p.SW);
  let iw3 = iw2 + i32(p.SW);
  let hw = p.H * p.W;
  var a00 = vec4<f32>(0.0); var a10 = vec4<f32>(0.0); var a20 = vec4<f32>(0.0); var a30 = vec4<f32>(0.0);
  var a01 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
  var a02 = vec4<f32>(0.0); var a12 = vec4<f32>(0.0); var a22 = vec4<f32>(0.0); var a32 = vec4<f32>(0.0);
  var a03 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var a23 = vec4<f32>(0.0); var a33 = vec4<f32>(0.0);
  // Loops with uniform bounds (taps outside the image read 0): the weight index is then uniform,
  // which lavapipe turns into one scalar load instead of a gather.
  for (var c = 0u; c < p.C; c = c + 1u) {
    let xc = (n * p.C + c) * hw;
#if ${FLIP}
    let wc = c * p.OC * kk + kk - 1u;
#else
    let wc = c * kk;
#endif
    for (var kh = 0u; kh < p.KH; kh = kh + 1u) {
      let ih = ihb + i32(kh);
      let row_ok = u32(ih) < p.H;
#if ${FLIP}
      if (!subgroupAny(row_ok)) { continue; }
#endif
      let xr = xc + u32(clamp(ih, 0, i32(p.H) - 1)) * p.W;
#if ${FLIP}
      let wr = wc - kh * p.KW;
#else
      let wr = wc + kh * p.KW;
#endif
      if (p.SW == 1u) {
        // stride 1: the 4 columns see a sliding window, one new x value per tap
        var x0 = x_at(xr, iw0, row_ok);
        var x1 = x_at(xr, iw0 + 1, row_ok);
        var x2 = x_at(xr, iw0 + 2, row_ok);
        for (var kw = 0u; kw < p.KW; kw = kw + 1u) {
#if ${FLIP}
          let k = wr - kw;
#else
          let k = wr + kw;
#endif
          let x3 = x_at(xr, iw3 + i32(kw), row_ok);
#if ${SG}
          let wla = w[wl0 + k];
          let wq0 = bcast4(wla, 0u);
#if ${OB8}
          let wq1 = bcast4(wla, 1u);
#endif
#if ${OB16}
          let wlb = w[wl1 + k];
          let wq2 = bcast4(wlb, 0u);
          let wq3 = bcast4(wlb, 1u);
#endif
#else
#include "conv2d-main-weights.wgsl"
#endif
#include "conv2d-main-fma.wgsl"
          x0 = x1;
          x1 = x2;
          x2 = x3;
        }
      } else {
        for (var kw = 0u; kw < p.KW; kw = kw + 1u) {
#if ${FLIP}
          let k = wr - kw;
#else
          let k = wr + kw;
#endif
          let dk = i32(kw);
          let x0 = x_at(xr, iw0 + dk, row_ok);
          let x1 = x_at(xr, iw1 + dk, row_ok);
          let x2 = x_at(xr, iw2 + dk, row_ok);
          let x3 = x_at(xr, iw3 + dk, row_ok);
#include "conv2d-main-weights.wgsl"
#include "conv2d-main-fma.wgsl"
        }
      }
    }
  }
  if (!live) { return; }
  let ohw = p.OH * p.OW;
  let yb = (n * p.OC + o0) * ohw + oh * p.OW + ow0;
  let cols = min(4u, p.OW - ow0);
  store_quad(yb + 0u * ohw, ohw, cols, o0 + 0u, a00, a10, a20, a30);
#if ${OB8}
  store_quad(yb + 4u * ohw, ohw, cols, o0 + 4u, a01, a11, a21, a31);
#endif
#if ${OB16}
  store_quad(yb + 8u * ohw, ohw, cols, o0 + 8u, a02, a12, a22, a32);
  store_quad(yb + 12u * ohw, ohw, cols, o0 + 12u, a03, a13, a23, a33);
#endif
}

// the 4 channels o .. o + 3 (those below OC) of one channel quad: channel o + j is component j
fn store_quad(b: u32, ohw: u32, cols: u32, o: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>) {
  if (o >= p.OC) { return; }
  store_y(b, cols, o, a0, a1, a2, a3, 0u);
  if (o + 1u < p.OC) { store_y(b + ohw, cols, o, a0, a1, a2, a3, 1u); }
  if (o + 2u < p.OC) { store_y(b + 2u * ohw, cols, o, a0, a1, a2, a3, 2u); }
  if (o + 3u < p.OC) { store_y(b + 3u * ohw, cols, o, a0, a1, a2, a3, 3u); }
}

// y[b + t] for the `cols` output columns of channel o0 + j (component j of the accumulators)
fn store_y(b: u32, cols: u32, o0: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>, j: u32) {
  var v = vec4<f32>(a0[j], a1[j], a2[j], a3[j]);
#if ${BIAS}
  v += vec4<f32>(bias[o0 + j]);
#endif
#if ${RELU}
  v = max(v, vec4<f32>(0.0));
#endif
  y[b] = v.x;
  if (cols > 1u) { y[b + 1u] = v.y; }
  if (cols > 2u) { y[b + 2u] = v.z; }
  if (cols > 3u) { y[b + 3u] = v.w; }
}

#include "conv2d-backward-data.wgsl"

#include "conv2d-filter.wgsl"
