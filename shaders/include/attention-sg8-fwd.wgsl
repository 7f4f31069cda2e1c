// attention.wgsl's sg8 forward kernels (included where SG8 and FWD are true; the tile
// helpers come from attention-sg8-tiles.wgsl).

// Writes rows i0..i0+7 of the output tile (lane's dims) times inv[r] into O.
fn store_o(b: u32, h: u32, i0: u32, l: u32, o: array<vec4<f32>, 8>, o2: array<vec4<f32>, 8>, inv: array<f32, 8>) {
  for (var r = 0u; r < 8u; r++) {
    let i = i0 + r;
    if (i < p.T) {
      let ob = o_row(b, i, h) / 4u;
      if (l < p.hs / 4u) { O[ob + l] = o[r] * inv[r]; }
#if ${HB2}
      if (8u + l < p.hs / 4u) { O[ob + 8u + l] = o2[r] * inv[r]; }
#endif
    }
  }
}

// Flash forward: workgroup (row tile i0 = 8·wid.x, b·H + h = wid.y); online softmax over 32-key
// tiles j0 ≤ i; O = (Σ exp(s − m)·v) / Σ exp(s − m), lse = m + log Σ exp(s − m).
@compute @workgroup_size(8, 1, 1)
fn sg8_flash_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  let qb = qkv_row(b, min(i0 + l, T - 1u), h);
  var o = zero8(); var o2 = zero8();
  var m: array<f32, 8>; var ls: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { m[r] = NEG_BIG; ls[r] = 0.0; }
  for (var j0 = 0u; j0 < min(i0 + 8u, T); j0 += 32u) {
    let jl = j0 + 4u * l;
    var s = qk8(qb, rows4(b, h, jl, p.C));
    let jv = vec4<u32>(jl, jl + 1u, jl + 2u, jl + 3u);
    for (var r = 0u; r < 8u; r++) {
      let sr = select(vec4<f32>(NEG_BIG), s[r], jv <= vec4<u32>(i0 + r)); // causal mask
      let mn = max(m[r], subgroupMax(max(max(sr.x, sr.y), max(sr.z, sr.w))));
      let corr = exp(m[r] - mn);
      s[r] = exp(sr - vec4<f32>(mn));
      ls[r] = ls[r] * corr + subgroupAdd((s[r].x + s[r].y) + (s[r].z + s[r].w));
      m[r] = mn;
      o[r] *= corr; o2[r] *= corr;
    }
    pv8(b, h, j0, 2u * p.C, l, s, &o, &o2);
  }
  var inv: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) {
    inv[r] = 1.0 / ls[r];
    if (l == 0u && i0 + r < T) { saved[stat_row(bh, i0 + r)] = m[r] + log(ls[r]); }
  }
  store_o(b, h, i0, l, o, o2, inv);
}

// Unfused scores and softmax: P rows i0..i0+7 get the raw masked scores (pass 1, with the running
// max and sum), then are normalised in place with zeros above the diagonal (pass 2). Each lane
// rereads only what it wrote.
@compute @workgroup_size(8, 1, 1)
fn sg8_unfused_scores(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  let qb = qkv_row(b, min(i0 + l, T - 1u), h);
  var m: array<f32, 8>; var ls: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { m[r] = NEG_BIG; ls[r] = 0.0; }
  for (var j0 = 0u; j0 < min(i0 + 8u, T); j0 += 32u) {
    let jl = j0 + 4u * l;
    let s = qk8(qb, rows4(b, h, jl, p.C));
    let jv = vec4<u32>(jl, jl + 1u, jl + 2u, jl + 3u);
    for (var r = 0u; r < 8u; r++) {
      let i = i0 + r;
      let sr = select(vec4<f32>(NEG_BIG), s[r], jv <= vec4<u32>(i));
      let mn = max(m[r], subgroupMax(max(max(sr.x, sr.y), max(sr.z, sr.w))));
      ls[r] = ls[r] * exp(m[r] - mn) + subgroupAdd(dot(exp(sr - vec4<f32>(mn)), vec4<f32>(1.0)));
      m[r] = mn;
      if (i < T) { for (var e = 0u; e < 4u; e++) { if (jv[e] <= i) { saved[p_row(bh, i) + jv[e]] = sr[e]; } } }
    }
  }
  for (var j0 = 0u; j0 < T; j0 += 32u) {
    for (var r = 0u; r < 8u; r++) {
      let i = i0 + r;
      if (i < T) {
        let inv = 1.0 / ls[r];
        for (var e = 0u; e < 4u; e++) {
          let j = j0 + 4u * l + e; let at = p_row(bh, i) + j;
          if (j <= i) { saved[at] = exp(saved[at] - m[r]) * inv; } else if (j < T) { saved[at] = 0.0; }
        }
      }
    }
  }
}

// Unfused O rows i0..i0+7 = P·V over the keys j ≤ i (P is zero above the diagonal).
@compute @workgroup_size(8, 1, 1)
fn sg8_unfused_pv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let bh = wid.y; let b = bh / p.H; let h = bh % p.H;
  let T = p.T; let i0 = wid.x * 8u;
  var o = zero8(); var o2 = zero8();
  for (var j0 = 0u; j0 < min(i0 + 8u, T); j0 += 32u) {
    let jv = vec4<u32>(j0 + 4u * l) + vec4<u32>(0u, 1u, 2u, 3u);
    let jc = min(jv, vec4<u32>(T - 1u));
    var pr: array<vec4<f32>, 8>;
    for (var r = 0u; r < 8u; r++) {
      let base = p_row(bh, min(i0 + r, T - 1u));
      pr[r] = select(vec4<f32>(0.0), vec4<f32>(saved[base + jc.x], saved[base + jc.y], saved[base + jc.z], saved[base + jc.w]), jv < vec4<u32>(T));
    }
    pv8(b, h, j0, 2u * p.C, l, pr, &o, &o2);
  }
  var one: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { one[r] = 1.0; }
  store_o(b, h, i0, l, o, o2, one);
}
