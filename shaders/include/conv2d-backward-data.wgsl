// conv2d.wgsl's backward_data entry point (input gradient, any stride) and its helpers.

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
