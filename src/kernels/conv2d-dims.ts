// The argument checks and geometry of conv2d's wrappers (kernels/conv2d.ts, which re-exports this
// file): stride and padding pairs, the output size, the (N, C, H, W) × (OC, C, KH, KW) geometry of
// each pass, and the weight shape of a filter gradient.
import type { Tensor } from '../gpu/tensor.js';
import type { Conv2dDims } from '../reference/conv2d.js';
import { checkArgs, fail } from './args.js';

/** A per-axis value: one number for both axes, or [h, w]. */
export type Conv2dPair = number | readonly [number, number];

export interface Conv2dGeometryOptions {
  /** Step between windows, default 1. */
  stride?: Conv2dPair;
  /** Zeros added on each side, default 0. */
  padding?: Conv2dPair;
}

export interface Conv2dOptions extends Conv2dGeometryOptions {
  bias?: Tensor;
  activation?: 'none' | 'relu';
}

/** The operand layouts of the convolution passes, as checkArgs states them. */
export const NCHW = { rank: 4, dtype: 'f32', what: '(N, C, H, W)' } as const;
export const OIHW = { rank: 4, dtype: 'f32', what: '(OC, C, KH, KW)' } as const;
export const NOHW = { rank: 4, dtype: 'f32', what: '(N, OC, OH, OW)' } as const;

export function pairOf(op: string, name: string, v: Conv2dPair | undefined, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min;
  const what = min > 0 ? 'a positive integer' : 'a non-negative integer';
  if (typeof v === 'number') {
    if (!ok(v)) fail(op, `${name} must be ${what} or a pair [h, w] of them, got ${v}`);
    return [v, v];
  }
  if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) {
    fail(op, `${name} must be ${what} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}

/** Output size along one axis (may be < 1 when the kernel does not fit). */
export function conv2dOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * Validates the geometry of a convolution of an input (N, C, H, W) with a kernel (OC, C, KH, KW)
 * and returns every size. `xName`/`wName` name the arguments in errors.
 */
export function geometry(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  opts: Conv2dGeometryOptions,
  xName: string,
  wName: string,
): Conv2dDims {
  const [SH, SW] = pairOf(op, 'stride', opts.stride, 1, 1);
  const [PH, PW] = pairOf(op, 'padding', opts.padding, 0, 0);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [OC, WC, KH, KW] = wShape as [number, number, number, number];
  if (WC !== C) {
    fail(op, `${wName} must have shape [OC, C, KH, KW] with C = ${C} input channels (${xName} is [${xShape}]), got [${wShape}]`);
  }
  if (KH > H + 2 * PH || KW > W + 2 * PW) {
    fail(
      op,
      `kernel ${KH}x${KW} (${wName} [${wShape}]) is larger than the padded input ` +
        `${H + 2 * PH}x${W + 2 * PW} (${xName} [${xShape}] with padding [${PH}, ${PW}])`,
    );
  }
  return { N, C, H, W, OC, KH, KW, SH, SW, PH, PW, OH: conv2dOutputSize(H, KH, SH, PH), OW: conv2dOutputSize(W, KW, SW, PW) };
}

export function activationOf(op: string, a: unknown): 'none' | 'relu' {
  const act = a ?? 'none';
  if (act !== 'none' && act !== 'relu') fail(op, `activation must be 'none' or 'relu', got '${String(act)}'`);
  return act;
}

/** Checks x, w (and bias, activation, stride, padding) of a forward convolution. */
export function conv2dDims(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Conv2dDims {
  const op = 'conv2d';
  checkArgs(op, { x: { t: x, ...NCHW }, w: { t: w, ...OIHW } });
  const d = geometry(op, x.shape, w.shape, opts, 'x', 'w');
  checkArgs(op, {
    x: { t: x },
    w: { t: w },
    bias: { t: opts.bias || undefined, rank: 1, dtype: 'f32', shape: [d.OC], what: '(OC)', optional: true },
  });
  activationOf(op, opts.activation);
  return d;
}

/** Throws unless `v` is 4 positive integers. */
export function shape4(op: string, name: string, v: readonly number[], what: string): void {
  if (!Array.isArray(v) || v.length !== 4 || v.some((d) => !Number.isInteger(d) || d < 1)) {
    fail(op, `${name} must be 4 positive integers ${what}, got ${JSON.stringify(v)}`);
  }
}

/** Checks dy and w against the input shape (N, C, H, W) of a convolution's data gradient. */
export function conv2dBackwardDataDims(dy: Tensor, w: Tensor, inputShape: readonly number[], opts: Conv2dGeometryOptions = {}): Conv2dDims {
  const op = 'conv2dBackwardData';
  shape4(op, 'inputShape', inputShape, '(N, C, H, W)');
  checkArgs(op, { dy: { t: dy, ...NOHW }, w: { t: w, ...OIHW } });
  const d = geometry(op, inputShape, w.shape, opts, 'inputShape', 'w');
  checkArgs(op, { dy: { t: dy, shape: [d.N, d.OC, d.OH, d.OW] } });
  return d;
}

/** Checks x and dy against the kernel shape (OC, C, KH, KW) of a convolution's filter gradient. */
export function conv2dBackwardFilterDims(x: Tensor, dy: Tensor, weightShape: readonly number[], opts: Conv2dGeometryOptions = {}): Conv2dDims {
  const op = 'conv2dBackwardFilter';
  shape4(op, 'weightShape', weightShape, '(OC, C, KH, KW)');
  checkArgs(op, { x: { t: x, ...NCHW }, dy: { t: dy, ...NOHW } });
  const d = geometry(op, x.shape, weightShape, opts, 'x', 'weightShape');
  checkArgs(op, { dy: { t: dy, shape: [d.N, d.OC, d.OH, d.OW] } });
  return d;
}

export interface Conv2dFilterGradOptions extends Conv2dGeometryOptions {
  /** (KH, KW) of the kernel; with it the weight shape is (dy channels, x channels, KH, KW). */
  kernelSize?: Conv2dPair;
  /** The full weight shape (OC, C, KH, KW); give this or kernelSize. */
  weightShape?: readonly number[];
}

/** The weight shape (OC, C, KH, KW) of a filter gradient from `weightShape` or `kernelSize`. */
export function conv2dWeightShape(x: Tensor, dy: Tensor, opts: Conv2dFilterGradOptions): [number, number, number, number] {
  const op = 'conv2dBackwardFilter';
  checkArgs(op, { x: { t: x, rank: 4, what: '(N, C, H, W)' }, dy: { t: dy, rank: 4, what: '(N, OC, OH, OW)' } });
  if (opts.weightShape !== undefined && opts.kernelSize !== undefined) fail(op, 'give weightShape or kernelSize, not both');
  if (opts.weightShape !== undefined) {
    const s = opts.weightShape;
    if (!Array.isArray(s) || s.length !== 4 || s.some((v) => !Number.isInteger(v) || v < 1)) {
      fail(op, `weightShape must be 4 positive integers (OC, C, KH, KW), got ${JSON.stringify(s)}`);
    }
    return [s[0]!, s[1]!, s[2]!, s[3]!];
  }
  if (opts.kernelSize === undefined) fail(op, 'needs kernelSize [KH, KW] or weightShape (OC, C, KH, KW)');
  const [KH, KW] = pairOf(op, 'kernelSize', opts.kernelSize, 1, 1);
  return [dy.shape[1]!, x.shape[1]!, KH, KW];
}
