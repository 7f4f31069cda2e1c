// conv2d.wgsl's weight and bias gradients: filter_partial, filter_sg (SG), bias_partial and the
// second stage, reduce.

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

// The output positions q = (n·OH + oh)·OW + ow of chunk s: [q0, q1).
fn chunk_range(s: u32) -> vec2<u32> {
  let q0 = s * p.CHUNK;
  return vec2<u32>(q0, min(p.N * p.OH * p.OW, q0 + p.CHUNK));
}

// (n, oh, ow) of position q, and of the position after (n, oh, ow): the chunk walks without divisions.
fn position(q: u32) -> vec3<u32> {
  let ohw = p.OH * p.OW;
  return vec3<u32>(q / ohw, (q % ohw) / p.OW, q % p.OW);
}
fn next_position(a: vec3<u32>) -> vec3<u32> {
  if (a.z + 1u < p.OW) { return vec3<u32>(a.x, a.y, a.z + 1u); }
  if (a.y + 1u < p.OH) { return vec3<u32>(a.x, a.y + 1u, 0u); }
  return vec3<u32>(a.x + 1u, 0u, 0u);
}

// the columns j0 .. j0 + 3
fn columns4(j0: u32, ckk: u32, kk: u32, hw: u32) -> array<vec3<i32>, 4> {
  return array<vec3<i32>, 4>(column(j0, ckk, kk, hw), column(j0 + 1u, ckk, kk, hw), column(j0 + 2u, ckk, kk, hw), column(j0 + 3u, ckk, kk, hw));
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
  let cl = columns4(j0, ckk, kk, hw);
  let xo0 = u32(cl[0].x); let xo1 = u32(cl[1].x); let xo2 = u32(cl[2].x); let xo3 = u32(cl[3].x);
  let kh0 = cl[0].y; let kh1 = cl[1].y; let kh2 = cl[2].y; let kh3 = cl[3].y;
  let kw0 = cl[0].z; let kw1 = cl[1].z; let kw2 = cl[2].z; let kw3 = cl[3].z;
  let d1 = (min(o0 + 1u, p.OC - 1u) - o0) * ohw;
  let d2 = (min(o0 + 2u, p.OC - 1u) - o0) * ohw;
  let d3 = (min(o0 + 3u, p.OC - 1u) - o0) * ohw;
  let qr = chunk_range(s);
  var at = position(qr.x);
  var a0 = vec4<f32>(0.0); // column j0 + 0, output channels o0..o0+3
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var q = qr.x; q < qr.y; q = q + 1u) {
    let n = at.x; let oh = at.y; let ow = at.z;
    let db = (n * p.OC + o0) * ohw + oh * p.OW + ow;
    let g = vec4<f32>(dy[db], dy[db + d1], dy[db + d2], dy[db + d3]);
    let xn = n * p.C * hw;
    let ih = i32(oh * p.SH);
    let iw = i32(ow * p.SW);
    a0 = fma(g, vec4<f32>(x_pad(xn + xo0, ih + kh0, iw + kw0)), a0);
    a1 = fma(g, vec4<f32>(x_pad(xn + xo1, ih + kh1, iw + kw1)), a1);
    a2 = fma(g, vec4<f32>(x_pad(xn + xo2, ih + kh2, iw + kw2)), a2);
    a3 = fma(g, vec4<f32>(x_pad(xn + xo3, ih + kh3, iw + kw3)), a3);
    at = next_position(at);
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
  let cl = columns4(j0, ckk, kk, hw);
  // dy rows of this lane's channels (clamped: channels past OC are computed, never stored)
  let dl0 = min(o0 + sl, p.OC - 1u) * ohw;
  let dl1 = min(o0 + 8u + sl, p.OC - 1u) * ohw;
  let qr = chunk_range(s);
  var at = position(qr.x);
  var a00 = vec4<f32>(0.0); var a10 = vec4<f32>(0.0); var a20 = vec4<f32>(0.0); var a30 = vec4<f32>(0.0);
  var a01 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
  var a02 = vec4<f32>(0.0); var a12 = vec4<f32>(0.0); var a22 = vec4<f32>(0.0); var a32 = vec4<f32>(0.0);
  var a03 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var a23 = vec4<f32>(0.0); var a33 = vec4<f32>(0.0);
  for (var q = qr.x; q < qr.y; q = q + 1u) {
    let n = at.x; let oh = at.y; let ow = at.z;
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
    let x0 = x_sel(xn + u32(cl[0].x), ih + cl[0].y, iw + cl[0].z);
    let x1 = x_sel(xn + u32(cl[1].x), ih + cl[1].y, iw + cl[1].z);
    let x2 = x_sel(xn + u32(cl[2].x), ih + cl[2].y, iw + cl[2].z);
    let x3 = x_sel(xn + u32(cl[3].x), ih + cl[3].y, iw + cl[3].z);
#include "conv2d-fma-quad.wgsl" Q=0 W=g0
#include "conv2d-fma-quad.wgsl" Q=1 W=g1
#if ${OB16}
#include "conv2d-fma-quad.wgsl" Q=2 W=g2
#include "conv2d-fma-quad.wgsl" Q=3 W=g3
#endif
    at = next_position(at);
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
  let qr = chunk_range(s);
  let q0 = qr.x;
  let q1 = qr.y;
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
