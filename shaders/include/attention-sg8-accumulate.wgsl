// Template (attention-sg8-tiles.wgsl, attention-sg8-bwd.wgsl): a row-output tile update.
// {{FN}}: acc[r] (the lane's dims) += Σ_sl (w[r] of lane sl) · {{SRC}} rows j0 + 4sl.. ({{ROWS}}, + off).
fn {{FN}}(b: u32, h: u32, j0: u32, off: u32, l: u32, w: array<vec4<f32>, 8>, acc: ptr<function, array<vec4<f32>, 8>>, acc2: ptr<function, array<vec4<f32>, 8>>) {
  for (var sl = 0u; sl < 8u; sl++) {
    let rb = {{ROWS}}(b, h, j0 + 4u * sl, off);
    let v0 = {{SRC}}[v4_lo(rb.x, l)]; let v1 = {{SRC}}[v4_lo(rb.y, l)]; let v2 = {{SRC}}[v4_lo(rb.z, l)]; let v3 = {{SRC}}[v4_lo(rb.w, l)];
#if ${HB2}
    let w0 = {{SRC}}[v4_hi(rb.x, l)]; let w1 = {{SRC}}[v4_hi(rb.y, l)]; let w2 = {{SRC}}[v4_hi(rb.z, l)]; let w3 = {{SRC}}[v4_hi(rb.w, l)];
#endif
    for (var r = 0u; r < 8u; r++) {
      let pb = subgroupShuffle(w[r], sl);
      (*acc)[r] = fma_row(pb, v0, v1, v2, v3, (*acc)[r]);
#if ${HB2}
      (*acc2)[r] = fma_row(pb, w0, w1, w2, w3, (*acc2)[r]);
#endif
    }
  }
}
