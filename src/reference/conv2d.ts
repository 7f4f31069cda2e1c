// CPU reference for conv2d (same signatures as src/kernels/conv2d.ts, on arrays). NCHW:
//   x (N, C, H, W), w (OC, C, KH, KW), bias (OC), y (N, OC, OH, OW),
//   OH = ⌊(H + 2·padH − KH) / strideH⌋ + 1, likewise OW.
// The *F64 functions accumulate and return float64 (finite-difference checks); the others round
// the float64 result to float32.
export type ConvPair = number | readonly [number, number];
export type ConvShape4 = readonly [number, number, number, number];

export interface Conv2dCpuOptions {
  stride?: ConvPair;
  padding?: ConvPair;
}

function pair(v: ConvPair | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Output size of a convolution along one axis. */
export function convOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** A convolution's sizes: input (N, C, H, W), filters (OC, C, KH, KW), output (OH, OW), strides, paddings. */
export interface Conv2dDims {
  N: number;
  C: number;
  H: number;
  W: number;
  OC: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  SH: number;
  SW: number;
  PH: number;
  PW: number;
}
type Geom = Conv2dDims;

function geom(xShape: ConvShape4, wShape: ConvShape4, opts: Conv2dCpuOptions): Geom {
  const [N, C, H, W] = xShape;
  const [OC, , KH, KW] = wShape;
  const [SH, SW] = pair(opts.stride, 1);
  const [PH, PW] = pair(opts.padding, 0);
  return { N, C, H, W, OC, KH, KW, SH, SW, PH, PW, OH: convOutSize(H, KH, SH, PH), OW: convOutSize(W, KW, SW, PW) };
}

/** y = conv(x, w) [+ bias] [→ relu] in float64. */
export function conv2dCpuF64(
  x: ArrayLike<number>,
  xShape: ConvShape4,
  w: ArrayLike<number>,
  wShape: ConvShape4,
  opts: Conv2dCpuOptions & { bias?: ArrayLike<number>; activation?: 'none' | 'relu' } = {},
): Float64Array {
  const g = geom(xShape, wShape, opts);
  const { N, C, H, W, OC, KH, KW, OH, OW, SH, SW, PH, PW } = g;
  const y = new Float64Array(N * OC * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < OC; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = opts.bias ? opts.bias[o]! : 0;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * SH - PH + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * SW - PW + kw;
                if (iw < 0 || iw >= W) continue;
                s += x[((n * C + c) * H + ih) * W + iw]! * w[((o * C + c) * KH + kh) * KW + kw]!;
              }
            }
          if (opts.activation === 'relu' && s < 0) s = 0;
          y[((n * OC + o) * OH + oh) * OW + ow] = s;
        }
  return y;
}

export function conv2dCpu(
  x: ArrayLike<number>,
  xShape: ConvShape4,
  w: ArrayLike<number>,
  wShape: ConvShape4,
  opts: Conv2dCpuOptions & { bias?: ArrayLike<number>; activation?: 'none' | 'relu' } = {},
): Float32Array {
  return Float32Array.from(conv2dCpuF64(x, xShape, w, wShape, opts));
}

/**
 * Calls f(g, x index, w index) for every nonzero dy[n, o, oh, ow] = g and every tap (c, kh, kw) of it
 * inside the image, in the fixed order n, o, oh, ow, c, kh, kw (the backward passes' sums).
 */
function forEachTap(d: Geom, dy: ArrayLike<number>, f: (g: number, xi: number, wi: number) => void): void {
  const { N, C, H, W, OC, KH, KW, OH, OW, SH, SW, PH, PW } = d;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < OC; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const g = dy[((n * OC + o) * OH + oh) * OW + ow]!;
          if (g === 0) continue;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * SH - PH + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * SW - PW + kw;
                if (iw < 0 || iw >= W) continue;
                f(g, ((n * C + c) * H + ih) * W + iw, ((o * C + c) * KH + kh) * KW + kw);
              }
            }
        }
}

/** dx (inputShape = (N, C, H, W)) from dy (N, OC, OH, OW) and w (OC, C, KH, KW), in float64. */
export function conv2dBackwardDataCpuF64(
  dy: ArrayLike<number>,
  w: ArrayLike<number>,
  wShape: ConvShape4,
  inputShape: ConvShape4,
  opts: Conv2dCpuOptions = {},
): Float64Array {
  const d = geom(inputShape, wShape, opts);
  const dx = new Float64Array(d.N * d.C * d.H * d.W);
  forEachTap(d, dy, (g, xi, wi) => {
    dx[xi]! += g * w[wi]!;
  });
  return dx;
}

export function conv2dBackwardDataCpu(
  dy: ArrayLike<number>,
  w: ArrayLike<number>,
  wShape: ConvShape4,
  inputShape: ConvShape4,
  opts: Conv2dCpuOptions = {},
): Float32Array {
  return Float32Array.from(conv2dBackwardDataCpuF64(dy, w, wShape, inputShape, opts));
}

/** dw (weightShape = (OC, C, KH, KW)) = Σ over batch and output positions, in float64. */
export function conv2dBackwardFilterCpuF64(
  x: ArrayLike<number>,
  xShape: ConvShape4,
  dy: ArrayLike<number>,
  weightShape: ConvShape4,
  opts: Conv2dCpuOptions = {},
): Float64Array {
  const d = geom(xShape, weightShape, opts);
  const dw = new Float64Array(d.OC * d.C * d.KH * d.KW);
  forEachTap(d, dy, (g, xi, wi) => {
    dw[wi]! += g * x[xi]!;
  });
  return dw;
}

export function conv2dBackwardFilterCpu(
  x: ArrayLike<number>,
  xShape: ConvShape4,
  dy: ArrayLike<number>,
  weightShape: ConvShape4,
  opts: Conv2dCpuOptions = {},
): Float32Array {
  return Float32Array.from(conv2dBackwardFilterCpuF64(x, xShape, dy, weightShape, opts));
}

/** db (OC) = Σ_{n, oh, ow} dy (N, OC, OH, OW). */
export function conv2dBiasGradCpu(dy: ArrayLike<number>, dyShape: ConvShape4): Float32Array {
  const [N, OC, OH, OW] = dyShape;
  const db = new Float64Array(OC);
  const hw = OH * OW;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < OC; o++) {
      const b = (n * OC + o) * hw;
      let s = 0;
      for (let i = 0; i < hw; i++) s += dy[b + i]!;
      db[o]! += s;
    }
  return Float32Array.from(db);
}
