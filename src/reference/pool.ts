// CPU reference for max pooling (same signatures as src/kernels/pool.ts, on arrays). NCHW, no
// padding: x (N, C, H, W) → y, argmax (N, C, OH, OW), OH = ⌊(H − KH) / SH⌋ + 1, likewise OW.
// argmax = ih·W + iw, the flat index inside the (n, c) input plane; ties: first maximum in window
// order (kh, then kw).
export type PoolPair = number | readonly [number, number];
export type PoolShape4 = readonly [number, number, number, number];

export interface MaxPool2dCpuOptions {
  /** Window size, default 2. */
  kernel?: PoolPair;
  /** Step, default the kernel size. */
  stride?: PoolPair;
}

function pair(v: PoolPair | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export function poolGeometry(xShape: PoolShape4, opts: MaxPool2dCpuOptions = {}) {
  const [N, C, H, W] = xShape;
  const [KH, KW] = pair(opts.kernel) ?? [2, 2];
  const [SH, SW] = pair(opts.stride) ?? [KH, KW];
  return { N, C, H, W, KH, KW, SH, SW, OH: Math.floor((H - KH) / SH) + 1, OW: Math.floor((W - KW) / SW) + 1 };
}

export function maxPool2dCpu(x: ArrayLike<number>, xShape: PoolShape4, opts: MaxPool2dCpuOptions = {}): { y: Float32Array; argmax: Uint32Array } {
  const { N, C, H, W, KH, KW, SH, SW, OH, OW } = poolGeometry(xShape, opts);
  const y = new Float32Array(N * C * OH * OW);
  const argmax = new Uint32Array(y.length);
  for (let pl = 0; pl < N * C; pl++) {
    const xb = pl * H * W;
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let bi = oh * SH * W + ow * SW;
        let best = x[xb + bi]!;
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const idx = (oh * SH + kh) * W + ow * SW + kw;
            const v = x[xb + idx]!;
            if (v > best) {
              best = v;
              bi = idx;
            }
          }
        const o = (pl * OH + oh) * OW + ow;
        y[o] = best;
        argmax[o] = bi;
      }
  }
  return { y, argmax };
}

/** dx (inputShape) = scatter-add of dy into the argmax positions, in float64. */
export function maxPool2dBackwardCpuF64(
  dy: ArrayLike<number>,
  argmax: ArrayLike<number>,
  inputShape: PoolShape4,
  opts: MaxPool2dCpuOptions = {},
): Float64Array {
  const { N, C, H, W, OH, OW } = poolGeometry(inputShape, opts);
  const dx = new Float64Array(N * C * H * W);
  for (let pl = 0; pl < N * C; pl++) {
    for (let o = 0; o < OH * OW; o++) {
      const i = pl * OH * OW + o;
      dx[pl * H * W + argmax[i]!]! += dy[i]!;
    }
  }
  return dx;
}

export function maxPool2dBackwardCpu(
  dy: ArrayLike<number>,
  argmax: ArrayLike<number>,
  inputShape: PoolShape4,
  opts: MaxPool2dCpuOptions = {},
): Float32Array {
  return Float32Array.from(maxPool2dBackwardCpuF64(dy, argmax, inputShape, opts));
}

/** Forward max pooling in float64 (for finite differences): the pooled values only. */
export function maxPool2dCpuF64(x: ArrayLike<number>, xShape: PoolShape4, opts: MaxPool2dCpuOptions = {}): Float64Array {
  const { N, C, H, W, KH, KW, SH, SW, OH, OW } = poolGeometry(xShape, opts);
  const y = new Float64Array(N * C * OH * OW);
  for (let pl = 0; pl < N * C; pl++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity;
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const v = x[pl * H * W + (oh * SH + kh) * W + ow * SW + kw]!;
            if (v > best) best = v;
          }
        y[(pl * OH + oh) * OW + ow] = best;
      }
  return y;
}
