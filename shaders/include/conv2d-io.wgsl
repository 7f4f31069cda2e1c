// The uniform block and the first operands shared by conv2d.wgsl and conv-transpose2d.wgsl (the
// wrappers write the block through one function, conv2dParams in src/kernels/conv2d.ts).
// CHUNK, SPLITS and L are used by conv2d only.
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
