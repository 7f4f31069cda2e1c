// CPU reference for convTranspose2d (src/kernels/conv-transpose2d.ts), NCHW, PyTorch's layout:
//   x (N, C, H, W), w (C, OC, KH, KW), bias (OC), y (N, OC, OH, OW), OH = (H − 1)·SH − 2·PH + KH + OPH.
// Written as a scatter (every input element adds its kernel-sized stamp to the output), the form of
// the definition, unlike the GPU kernel's gather. Accumulates in float64; convTranspose2dCpu rounds
// to float32.
export type ConvTPair = number | readonly [number, number];

export interface ConvTranspose2dCpuOptions {
  stride?: ConvTPair;
  padding?: ConvTPair;
  outputPadding?: ConvTPair;
  bias?: ArrayLike<number>;
  activation?: 'none' | 'relu';
}

const pair = (v: ConvTPair | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** The output shape (N, OC, OH, OW) of a transposed convolution. */
export function convTranspose2dOutShape(
  xShape: readonly number[],
  wShape: readonly number[],
  opts: ConvTranspose2dCpuOptions = {},
): [number, number, number, number] {
  const [SH, SW] = pair(opts.stride, 1),
    [PH, PW] = pair(opts.padding, 0),
    [OPH, OPW] = pair(opts.outputPadding, 0);
  return [xShape[0]!, wShape[1]!, (xShape[2]! - 1) * SH - 2 * PH + wShape[2]! + OPH, (xShape[3]! - 1) * SW - 2 * PW + wShape[3]! + OPW];
}

export function convTranspose2dCpuF64(
  x: ArrayLike<number>,
  xShape: readonly number[],
  w: ArrayLike<number>,
  wShape: readonly number[],
  opts: ConvTranspose2dCpuOptions = {},
): Float64Array {
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [, OC, KH, KW] = wShape as [number, number, number, number];
  const [SH, SW] = pair(opts.stride, 1),
    [PH, PW] = pair(opts.padding, 0);
  const [, , OH, OW] = convTranspose2dOutShape(xShape, wShape, opts);
  const y = new Float64Array(N * OC * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let iy = 0; iy < H; iy++) {
        for (let ix = 0; ix < W; ix++) {
          const v = x[((n * C + c) * H + iy) * W + ix]!;
          for (let oc = 0; oc < OC; oc++) {
            for (let ky = 0; ky < KH; ky++) {
              const oy = iy * SH - PH + ky;
              if (oy < 0 || oy >= OH) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ox = ix * SW - PW + kx;
                if (ox < 0 || ox >= OW) continue;
                y[((n * OC + oc) * OH + oy) * OW + ox] += v * w[((c * OC + oc) * KH + ky) * KW + kx]!;
              }
            }
          }
        }
      }
    }
  }
  if (opts.bias || opts.activation === 'relu') {
    for (let i = 0; i < y.length; i++) {
      let v = y[i]! + (opts.bias ? opts.bias[Math.floor(i / (OH * OW)) % OC]! : 0);
      if (opts.activation === 'relu') v = Math.max(v, 0);
      y[i] = v;
    }
  }
  return y;
}

export function convTranspose2dCpu(
  x: ArrayLike<number>,
  xShape: readonly number[],
  w: ArrayLike<number>,
  wShape: readonly number[],
  opts: ConvTranspose2dCpuOptions = {},
): Float32Array {
  return Float32Array.from(convTranspose2dCpuF64(x, xShape, w, wShape, opts));
}
