// Shared by attention.wgsl and attention-decode.wgsl: the uniform block (binding 0) and the row
// index helpers of the (B·T, 3C) qkv layout.
struct Params {
  B: u32, T: u32, C: u32, H: u32,
  hs: u32,
  Tk: u32,     // key rows per batch row in the key source: T (qkv), or Tmax of the caches
  scale: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

const NEG_BIG = -3.0e38;

// Index of q[b·T + i, head h, 0] in qkv (k: + C, v: + 2C).
fn qkv_row(b: u32, i: u32, h: u32) -> u32 { return (b * p.T + i) * 3u * p.C + h * p.hs; }
// Index of O[b·T + i, head h, 0] (also dO).
fn o_row(b: u32, i: u32, h: u32) -> u32 { return (b * p.T + i) * p.C + h * p.hs; }
// Row (b, h, i) of the (B, H, T) statistics.
fn stat_row(bh: u32, i: u32) -> u32 { return bh * p.T + i; }
// Index of P[b, h, i, 0] (also dS).
fn p_row(bh: u32, i: u32) -> u32 { return (bh * p.T + i) * p.T; }
