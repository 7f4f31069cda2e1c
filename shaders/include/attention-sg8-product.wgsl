// Template (attention-sg8-tiles.wgsl, attention-sg8-bwd.wgsl): a product tile of two row operands.
// {{FN}}: s[r][e] = {{SCALE}}·{{A}}[row r of the lanes' A rows]·{{B}}[bb[e]] over the head dims; the A row of
// this lane starts at float index ab, its 4 B rows (the lane's 4 columns of the tile) at bb.
fn {{FN}}(ab: u32, bb: vec4<u32>) -> array<vec4<f32>, 8> {
  var s = zero8();
  let a4 = ab / 4u; let b4 = bb / vec4<u32>(4u);
  for (var d = 0u; d < p.hs / 4u; d++) {
    let k0 = {{B}}[b4.x + d]; let k1 = {{B}}[b4.y + d]; let k2 = {{B}}[b4.z + d]; let k3 = {{B}}[b4.w + d];
    let b0 = vec4<f32>(k0.x, k1.x, k2.x, k3.x); let b1 = vec4<f32>(k0.y, k1.y, k2.y, k3.y);
    let b2 = vec4<f32>(k0.z, k1.z, k2.z, k3.z); let b3 = vec4<f32>(k0.w, k1.w, k2.w, k3.w);
    let a = {{A}}[a4 + d] * {{SCALE}};
    for (var r = 0u; r < 8u; r++) { s[r] = fma_row(subgroupShuffle(a, r), b0, b1, b2, b3, s[r]); }
  }
  return s;
}
