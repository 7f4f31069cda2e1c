// 2-D convolution, NCHW, cross-correlation (as in every deep-learning library):
//   x (N, C, H, W), w (OC, C, KH, KW), bias (OC), y (N, OC, OH, OW)
//   y[n, o, oh, ow] = Σ_{c, kh, kw} x[n, c, oh·SH − PH + kh, ow·SW − PW + kw] · w[o, c, kh, kw]
//   (x is zero outside the image), OH = ⌊(H + 2·PH − KH) / SH⌋ + 1, likewise OW.
// Entry points:
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

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  OC: u32, OH: u32, OW: u32, KH: u32,
  KW: u32, SH: u32, SW: u32, PH: u32,
  PW: u32, CHUNK: u32, SPLITS: u32, L: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
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
#if ${OB16}
          let wlb = w[wl1 + k];
#endif
          let wq0 = bcast4(wla, 0u);
#else
          let wq0 = w4(wb0, k);
#endif
          a00 = fma(vec4<f32>(x0), wq0, a00);
          a10 = fma(vec4<f32>(x1), wq0, a10);
          a20 = fma(vec4<f32>(x2), wq0, a20);
          a30 = fma(vec4<f32>(x3), wq0, a30);
#if ${OB8}
#if ${SG}
          let wq1 = bcast4(wla, 1u);
#else
          let wq1 = w4(wb1, k);
#endif
          a01 = fma(vec4<f32>(x0), wq1, a01);
          a11 = fma(vec4<f32>(x1), wq1, a11);
          a21 = fma(vec4<f32>(x2), wq1, a21);
          a31 = fma(vec4<f32>(x3), wq1, a31);
#endif
#if ${OB16}
#if ${SG}
          let wq2 = bcast4(wlb, 0u);
#else
          let wq2 = w4(wb2, k);
#endif
          a02 = fma(vec4<f32>(x0), wq2, a02);
          a12 = fma(vec4<f32>(x1), wq2, a12);
          a22 = fma(vec4<f32>(x2), wq2, a22);
          a32 = fma(vec4<f32>(x3), wq2, a32);
#if ${SG}
          let wq3 = bcast4(wlb, 1u);
#else
          let wq3 = w4(wb3, k);
#endif
          a03 = fma(vec4<f32>(x0), wq3, a03);
          a13 = fma(vec4<f32>(x1), wq3, a13);
          a23 = fma(vec4<f32>(x2), wq3, a23);
          a33 = fma(vec4<f32>(x3), wq3, a33);
#endif
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
          let wq0 = w4(wb0, k);
          a00 = fma(vec4<f32>(x_at(xr, iw0 + dk, row_ok)), wq0, a00);
          a10 = fma(vec4<f32>(x_at(xr, iw1 + dk, row_ok)), wq0, a10);
          a20 = fma(vec4<f32>(x_at(xr, iw2 + dk, row_ok)), wq0, a20);
          a30 = fma(vec4<f32>(x_at(xr, iw3 + dk, row_ok)), wq0, a30);
#if ${OB8}
          let wq1 = w4(wb1, k);
          a01 = fma(vec4<f32>(x_at(xr, iw0 + dk, row_ok)), wq1, a01);
          a11 = fma(vec4<f32>(x_at(xr, iw1 + dk, row_ok)), wq1, a11);
          a21 = fma(vec4<f32>(x_at(xr, iw2 + dk, row_ok)), wq1, a21);
          a31 = fma(vec4<f32>(x_at(xr, iw3 + dk, row_ok)), wq1, a31);
#endif
#if ${OB16}
          let wq2 = w4(wb2, k);
          a02 = fma(vec4<f32>(x_at(xr, iw0 + dk, row_ok)), wq2, a02);
          a12 = fma(vec4<f32>(x_at(xr, iw1 + dk, row_ok)), wq2, a12);
          a22 = fma(vec4<f32>(x_at(xr, iw2 + dk, row_ok)), wq2, a22);
          a32 = fma(vec4<f32>(x_at(xr, iw3 + dk, row_ok)), wq2, a32);
          let wq3 = w4(wb3, k);
          a03 = fma(vec4<f32>(x_at(xr, iw0 + dk, row_ok)), wq3, a03);
          a13 = fma(vec4<f32>(x_at(xr, iw1 + dk, row_ok)), wq3, a13);
          a23 = fma(vec4<f32>(x_at(xr, iw2 + dk, row_ok)), wq3, a23);
          a33 = fma(vec4<f32>(x_at(xr, iw3 + dk, row_ok)), wq3, a33);
#endif
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

// dx[n, c, ih, iw] = Σ_{o, kh, kw} dy[n, o, oh, ow] · w[o, c, kh, kw] over the taps with
// ih + PH = oh·SH + kh and iw + PW = ow·SW + kw. A 4 (input channels, workgroup_id.z) × 4 (input
// columns) block per invocation; the 4 columns are iw = r + SW·(m0 + t), t < 4, all of residue r
// modulo SW, so they share the same taps kw ≡ r + PW (mod SW) and read 4 neighbouring dy columns.
// No division inside the loops.
@compute @workgroup_size(${WG}, 1, 1)
fn backward_data(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat_id(wid, nwg, lid);
  let quads = ((p.W + p.SW - 1u) / p.SW + 3u) / 4u; // column quads per residue class
  let per_row = quads * p.SW;
  if (i >= p.N * p.H * per_row) { return; }
  let k = i % per_row;
  let r = k / quads;
  let m0 = (k % quads) * 4u;
  let row = i / per_row; // n·H + ih
  let ih = row % p.H;
  let n = row / p.H;
  let c0 = wid.z * 4u;
  let kk = p.KH * p.KW;
  let ckk = p.C * kk;
  let c0k = c0 * kk;
  let c1 = min(c0 + 1u, p.C - 1u) * kk;
  let c2 = min(c0 + 2u, p.C - 1u) * kk;
  let c3 = min(c0 + 3u, p.C - 1u) * kk;
  let ohw = p.OH * p.OW;
  // rows: kh ≡ th (mod SH), oh = (th − kh) / SH, 0 ≤ oh < OH
  let th = ih + p.PH;
  var kh_first = th % p.SH;
  var oh_first = i32(th / p.SH);
  if (oh_first >= i32(p.OH)) {
    let skip = u32(oh_first) - p.OH + 1u;
    kh_first = kh_first + skip * p.SH;
    oh_first = oh_first - i32(skip);
  }
  // columns: kw ≡ r + PW (mod SW), ow_t = m0 + t + d with d = (r + PW − kw) / SW
  let tw = r + p.PW;
  let m = i32(m0);
  // step s (kw = tw % SW + s·SW, d = tw / SW − s) reaches a dy column of some t iff
  // 0 ≤ m + d + 3 and m + d ≤ OW − 1: skip the steps before that and stop after it
  let s_lo = max(0, m + i32(tw / p.SW) - i32(p.OW) + 1);
  let kw_first = tw % p.SW + u32(s_lo) * p.SW;
  let d_first = i32(tw / p.SW) - s_lo;
  let d_min = -m - 3;
  var a0 = vec4<f32>(0.0); // input column of t = 0, channels c0..c0+3
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var o = 0u; o < p.OC; o = o + 1u) {
    let dyo = (n * p.OC + o) * ohw;
    let wo = o * ckk;
    var oh = oh_first;
    for (var kh = kh_first; kh < p.KH && oh >= 0; kh = kh + p.SH) {
      let dyr = dyo + u32(oh) * p.OW;
      let wr = wo + kh * p.KW;
      // sliding window: column t reads dy column m + d + t, and d drops by 1 per tap
      var d = d_first;
      var g1 = dy_row(dyr, m + d + 1);
      var g2 = dy_row(dyr, m + d + 2);
      var g3 = dy_row(dyr, m + d + 3);
      for (var kw = kw_first; kw < p.KW && d >= d_min; kw = kw + p.SW) {
        let kx = wr + kw;
        let wv = vec4<f32>(w[c0k + kx], w[c1 + kx], w[c2 + kx], w[c3 + kx]);
        let g0 = dy_row(dyr, m + d);
        a0 = fma(vec4<f32>(g0), wv, a0);
        a1 = fma(vec4<f32>(g1), wv, a1);
        a2 = fma(vec4<f32>(g2), wv, a2);
        a3 = fma(vec4<f32>(g3), wv, a3);
        g3 = g2;
        g2 = g1;
        g1 = g0;
        d = d - 1;
      }
      oh = oh - 1;
    }
  }
  let hw = p.H * p.W;
  let xb = (n * p.C + c0) * hw + ih * p.W;
  let outs = min(4u, p.C - c0);
  store_dx(xb, r + m0 * p.SW, a0, a1, a2, a3, 0u);
  if (outs > 1u) { store_dx(xb + hw, r + m0 * p.SW, a0, a1, a2, a3, 1u); }
  if (outs > 2u) { store_dx(xb + 2u * hw, r + m0 * p.SW, a0, a1, a2, a3, 2u); }
  if (outs > 3u) { store_dx(xb + 3u * hw, r + m0 * p.SW, a0, a1, a2, a3, 3u); }
}

// dy[dyr + ow] when 0 ≤ ow < OW, else 0 (dyr: start of a dy row)
fn dy_row(dyr: u32, ow: i32) -> f32 {
  return select(0.0, dy[dyr + u32(clamp(ow, 0, i32(p.OW) - 1))], u32(ow) < p.OW);
}

// dx[b + iw] for the columns iw = iw0 + t·SW < W of channel c0 + j (component j)
fn store_dx(b: u32, iw0: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>, j: u32) {
  if (iw0 < p.W) { dx[b + iw0] = a0[j]; }
  if (iw0 + p.SW < p.W) { dx[b + iw0 + p.SW] = a1[j]; }
  if (iw0 + 2u * p.SW < p.W) { dx[b + iw0 + 2u * p.SW] = a2[j]; }
  if (iw0 + 3u * p.SW < p.W) { dx[b + iw0 + 3u * p.SW] = a3[j]; }
}

// x at (plane base xc, row ih, column iw), zero outside the image
fn x_pad(xc: u32, ih: i32, iw: i32) -> f32 {
  if (u32(ih) >= p.H || u32(iw) >= p.W) { return 0.0; }
  return x[xc + u32(ih) * p.W + u32(iw)];
}

// column j = (c, kh, kw) of dw → (c·H·W, kh − PH, kw − PW), j clamped to the last column
fn column(j_in: u32, ckk: u32, kk: u32, hw: u32) -> vec3<i32> {
  let j = min(j_in, ckk - 1u);
  let r = j % kk;
  return vec3<i32>(i32((j / kk) * hw), i32(r / p.KW) - i32(p.PH), i32(r % p.KW) - i32(p.PW));
}

// part[s, o, j] (j = flattened (c, kh, kw)) = Σ over output positions q in chunk s
//   of dy[n, o, oh, ow] · x[n, c, oh·SH − PH + kh, ow·SW − PW + kw]; chunk s = [s·CHUNK, (s+1)·CHUNK)
//   of the positions q = (n·OH + oh)·OW + ow.
@compute @workgroup_size(${WG}, 1, 1)
fn filter_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat_id(wid, nwg, lid);
  let kk = p.KH * p.KW;
  let ckk = p.C * kk;
  let jb_count = (ckk + 3u) / 4u;
  let ob_count = (p.OC + 3u) / 4u;
  if (i >= p.SPLITS * ob_count * jb_count) { return; }
  let jb = i % jb_count;
  let rest = i / jb_count;
  let ob = rest % ob_count;
  let s = rest / ob_count;
  let j0 = jb * 4u;
  let o0 = ob * 4u;
  let hw = p.H * p.W;
  let ohw = p.OH * p.OW;
  // the 4 columns: plane offset c·H·W and tap offsets (kh − PH, kw − PW); past C·KH·KW clamped
  let cl0 = column(j0, ckk, kk, hw);
  let cl1 = column(j0 + 1u, ckk, kk, hw);
  let cl2 = column(j0 + 2u, ckk, kk, hw);
  let cl3 = column(j0 + 3u, ckk, kk, hw);
  let xo0 = u32(cl0.x); let xo1 = u32(cl1.x); let xo2 = u32(cl2.x); let xo3 = u32(cl3.x);
  let kh0 = cl0.y; let kh1 = cl1.y; let kh2 = cl2.y; let kh3 = cl3.y;
  let kw0 = cl0.z; let kw1 = cl1.z; let kw2 = cl2.z; let kw3 = cl3.z;
  let d1 = (min(o0 + 1u, p.OC - 1u) - o0) * ohw;
  let d2 = (min(o0 + 2u, p.OC - 1u) - o0) * ohw;
  let d3 = (min(o0 + 3u, p.OC - 1u) - o0) * ohw;
  let total = p.N * ohw;
  let q0 = s * p.CHUNK;
  let q1 = min(total, q0 + p.CHUNK);
  var n = q0 / ohw;
  var oh = (q0 % ohw) / p.OW;
  var ow = q0 % p.OW;
  var a0 = vec4<f32>(0.0); // column j0 + 0, output channels o0..o0+3
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var q = q0; q < q1; q = q + 1u) {
    let db = (n * p.OC + o0) * ohw + oh * p.OW + ow;
    let g = vec4<f32>(dy[db], dy[db + d1], dy[db + d2], dy[db + d3]);
    let xn = n * p.C * hw;
    let ih = i32(oh * p.SH);
    let iw = i32(ow * p.SW);
    a0 = fma(g, vec4<f32>(x_pad(xn + xo0, ih + kh0, iw + kw0)), a0);
    a1 = fma(g, vec4<f32>(x_pad(xn + xo1, ih + kh1, iw + kw1)), a1);
    a2 = fma(g, vec4<f32>(x_pad(xn + xo2, ih + kh2, iw + kw2)), a2);
    a3 = fma(g, vec4<f32>(x_pad(xn + xo3, ih + kh3, iw + kw3)), a3);
    ow = ow + 1u;
    if (ow == p.OW) {
      ow = 0u;
      oh = oh + 1u;
      if (oh == p.OH) { oh = 0u; n = n + 1u; }
    }
  }
  // part[s, o, j]
  let base = (s * p.OC + o0) * ckk + j0;
  let cols = min(4u, ckk - j0);
  let outs = min(4u, p.OC - o0);
  store_cols(base, cols, a0.x, a1.x, a2.x, a3.x);
  if (outs > 1u) { store_cols(base + ckk, cols, a0.y, a1.y, a2.y, a3.y); }
  if (outs > 2u) { store_cols(base + 2u * ckk, cols, a0.z, a1.z, a2.z, a3.z); }
  if (outs > 3u) { store_cols(base + 3u * ckk, cols, a0.w, a1.w, a2.w, a3.w); }
}

#if ${SG}
// x at plane offset xo (c·H·W of the sample included), row ih, column iw; 0 outside the image
fn x_sel(xo: u32, ih: i32, iw: i32) -> f32 {
  let ok = u32(ih) < p.H && u32(iw) < p.W;
  return select(0.0, x[xo + u32(clamp(ih, 0, i32(p.H) - 1)) * p.W + u32(clamp(iw, 0, i32(p.W) - 1))], ok);
}

// filter_partial for CPU drivers with 8-lane subgroups: one workgroup = one subgroup; lane l owns
// 4 consecutive flattened columns j = (c, kh, kw) (jb = workgroup_id.x·8 + l) × OB output
// channels (block workgroup_id.y; 8, or 16 with OB16); workgroup_id.z is the chunk s of output
// positions. Per position, lane l loads dy of channels o0 + l (and o0 + 8 + l) and every lane
// gets all OB values by subgroupBroadcast: 4·OB FMAs per 4 x loads + 1-2 dy loads.
// part[s, o, j] as in filter_partial.
@compute @workgroup_size(8, 1, 1)
fn filter_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sl: u32) {
  let kk = p.KH * p.KW;
  let ckk = p.C * kk;
  let jb = wid.x * 8u + sl;
  let j0 = jb * 4u;
#if ${OB16}
  let o0 = wid.y * 16u;
#else
  let o0 = wid.y * 8u;
#endif
  let s = wid.z;
  let hw = p.H * p.W;
  let ohw = p.OH * p.OW;
  let cl0 = column(j0, ckk, kk, hw);
  let cl1 = column(j0 + 1u, ckk, kk, hw);
  let cl2 = column(j0 + 2u, ckk, kk, hw);
  let cl3 = column(j0 + 3u, ckk, kk, hw);
  // dy rows of this lane's channels (clamped: channels past OC are computed, never stored)
  let dl0 = min(o0 + sl, p.OC - 1u) * ohw;
  let dl1 = min(o0 + 8u + sl, p.OC - 1u) * ohw;
  let total = p.N * ohw;
  let q0 = s * p.CHUNK;
  let q1 = min(total, q0 + p.CHUNK);
  var n = q0 / ohw;
  var oh = (q0 % ohw) / p.OW;
  var ow = q0 % p.OW;
  var a00 = vec4<f32>(0.0); var a10 = vec4<f32>(0.0); var a20 = vec4<f32>(0.0); var a30 = vec4<f32>(0.0);
  var a01 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
  var a02 = vec4<f32>(0.0); var a12 = vec4<f32>(0.0); var a22 = vec4<f32>(0.0); var a32 = vec4<f32>(0.0);
  var a03 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var a23 = vec4<f32>(0.0); var a33 = vec4<f32>(0.0);
  for (var q = q0; q < q1; q = q + 1u) {
    let pos = oh * p.OW + ow;
    let dn = n * p.OC * ohw + pos;
    let ga = dy[dn + dl0];
    let g0 = bcast4(ga, 0u);
    let g1 = bcast4(ga, 1u);
#if ${OB16}
    let gb = dy[dn + dl1];
    let g2 = bcast4(gb, 0u);
    let g3 = bcast4(gb, 1u);
#endif
    let xn = n * p.C * hw;
    let ih = i32(oh * p.SH);
    let iw = i32(ow * p.SW);
    let xv = vec4<f32>(x_sel(xn + u32(cl0.x), ih + cl0.y, iw + cl0.z), x_sel(xn + u32(cl1.x), ih + cl1.y, iw + cl1.z),
                       x_sel(xn + u32(cl2.x), ih + cl2.y, iw + cl2.z), x_sel(xn + u32(cl3.x), ih + cl3.y, iw + cl3.z));
    a00 = fma(vec4<f32>(xv.x), g0, a00);
    a10 = fma(vec4<f32>(xv.y), g0, a10);
    a20 = fma(vec4<f32>(xv.z), g0, a20);
    a30 = fma(vec4<f32>(xv.w), g0, a30);
    a01 = fma(vec4<f32>(xv.x), g1, a01);
    a11 = fma(vec4<f32>(xv.y), g1, a11);
    a21 = fma(vec4<f32>(xv.z), g1, a21);
    a31 = fma(vec4<f32>(xv.w), g1, a31);
#if ${OB16}
    a02 = fma(vec4<f32>(xv.x), g2, a02);
    a12 = fma(vec4<f32>(xv.y), g2, a12);
    a22 = fma(vec4<f32>(xv.z), g2, a22);
    a32 = fma(vec4<f32>(xv.w), g2, a32);
    a03 = fma(vec4<f32>(xv.x), g3, a03);
    a13 = fma(vec4<f32>(xv.y), g3, a13);
    a23 = fma(vec4<f32>(xv.z), g3, a23);
    a33 = fma(vec4<f32>(xv.w), g3, a33);
#endif
    ow = ow + 1u;
    if (ow == p.OW) {
      ow = 0u;
      oh = oh + 1u;
      if (oh == p.OH) { oh = 0u; n = n + 1u; }
    }
  }
  if (j0 >= ckk) { return; }
  let base = s * p.OC * ckk + j0;
  let cols = min(4u, ckk - j0);
  store_block(base, ckk, cols, o0 + 0u, a00, a10, a20, a30);
  store_block(base, ckk, cols, o0 + 4u, a01, a11, a21, a31);
#if ${OB16}
  store_block(base, ckk, cols, o0 + 8u, a02, a12, a22, a32);
  store_block(base, ckk, cols, o0 + 12u, a03, a13, a23, a33);
#endif
}

// part[base + o'·ckk + t] for the 4 channels o' = o .. o + 3 below OC and the `cols` columns t:
// a{t} holds column t, its component e channel o + e
fn store_block(base: u32, ckk: u32, cols: u32, o: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>) {
  for (var e = 0u; e < 4u; e = e + 1u) {
    if (o + e >= p.OC) { return; }
    store_cols(base + (o + e) * ckk, cols, a0[e], a1[e], a2[e], a3[e]);
  }
}
#endif

fn store_cols(base: u32, cols: u32, v0: f32, v1: f32, v2: f32, v3: f32) {
  part[base] = v0;
  if (cols > 1u) { part[base + 1u] = v1; }
  if (cols > 2u) { part[base + 2u] = v2; }
  if (cols > 3u) { part[base + 3u] = v3; }
}

// part[s, o] = Σ over output positions q in chunk s of dy[n, o, oh, ow] (q as in filter_partial)
@compute @workgroup_size(${WG}, 1, 1)
fn bias_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat_id(wid, nwg, lid);
  if (i >= p.SPLITS * p.OC) { return; }
  let o = i % p.OC;
  let s = i / p.OC;
  let ohw = p.OH * p.OW;
  let total = p.N * ohw;
  let q0 = s * p.CHUNK;
  let q1 = min(total, q0 + p.CHUNK);
  var n = q0 / ohw;
  var r = q0 % ohw;
  var acc = 0.0;
  var q = q0;
  while (q < q1) {
    // a contiguous run inside one (n, o) plane
    let run = min(q1 - q, ohw - r);
    let b = (n * p.OC + o) * ohw + r;
    for (var t = 0u; t < run; t = t + 1u) { acc += dy[b + t]; }
    q = q + run;
    r = 0u;
    n = n + 1u;
  }
  part[s * p.OC + o] = acc;
}

// red_out[i] = Σ_{s < SPLITS} part_in[s·L + i]
@compute @workgroup_size(${WG}, 1, 1)
fn reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat_id(wid, nwg, lid);
  if (i >= p.L) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.SPLITS; s = s + 1u) { acc += part_in[s * p.L + i]; }
  red_out[i] = acc;
}
