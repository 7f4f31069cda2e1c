// Shared by cluster.wgsl (assign_nearest) and qat.wgsl (snap): the index of the codebook value
// nearest to x among cent[0..K), ties to the lower index. One rule for both, so the indices QAT
// snaps to are the ones the compressed export writes. Needs a binding `cent: array<f32>`.
fn nearest_centroid(x: f32, K: u32) -> u32 {
  var best = 0u;
  var bd = abs(x - cent[0]);
  for (var c = 1u; c < K; c++) {
    let d = abs(x - cent[c]);
    if (d < bd) {
      bd = d;
      best = c;
    }
  }
  return best;
}
