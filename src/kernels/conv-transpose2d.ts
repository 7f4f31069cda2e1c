// convTranspose2d (shaders/conv-transpose2d.wgsl), NCHW, PyTorch's ConvTranspose2d:
//   x (N, C, H, W), w (C, OC, KH, KW), bias (OC), y (N, OC, OH, OW),
//   OH = (H − 1)·SH − 2·PH + KH + OPH (output padding OPH < SH), likewise OW.
// It is the data gradient of conv2d with the same w read as (OC_conv = C, C_conv = OC), so its own
// gradients are conv2d kernels (src/kernels/conv2d.ts):
//   convTranspose2dBackwardData:   dx = conv2d(dy, w, stride, padding)          (no bias)
//   convTranspose2dBackwardFilter: dw = conv2dBackwardFilter(x ← dy, dy ← x)
//   bias gradient:                 conv2dBiasGrad(dy)
import type { Gpu } from '../gpu/device.js';
import { bindGroup, checkWorkgroups, grid, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { conv2d, conv2dBackwardFilter, conv2dParams, type Conv2dDims, type Conv2dPair } from './conv2d.js';
import { checkArgs, fail } from './args.js';

export interface ConvTranspose2dOptions {
  /** Step between input positions in the output, default 1. */
  stride?: Conv2dPair;
  /** Rows/columns cut from each side of the full output, default 0. */
  padding?: Conv2dPair;
  /** Rows/columns added at the bottom/right, < stride, default 0. */
  outputPadding?: Conv2dPair;
  bias?: Tensor;
  activation?: 'none' | 'relu';
}

/** Conv2dDims of the convolution this transposes, plus the output padding. */
export interface ConvTranspose2dDims extends Conv2dDims {
  OPH: number;
  OPW: number;
}

export const CONV_T_WG = 64;

function pairOf(op: string, name: string, v: Conv2dPair | undefined, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min;
  const [a, b] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  if (!ok(a) || !ok(b))
    fail(op, `${name} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  return [a, b];
}

/** Validates the geometry of x (N, C, H, W) and w (C, OC, KH, KW); returns every size. */
export function convTranspose2dGeometry(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  opts: ConvTranspose2dOptions = {},
): ConvTranspose2dDims {
  const [SH, SW] = pairOf(op, 'stride', opts.stride, 1, 1);
  const [PH, PW] = pairOf(op, 'padding', opts.padding, 0, 0);
  const [OPH, OPW] = pairOf(op, 'outputPadding', opts.outputPadding, 0, 0);
  if (OPH >= SH || OPW >= SW) fail(op, `outputPadding [${OPH}, ${OPW}] must be smaller than the stride [${SH}, ${SW}]`);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [WC, OC, KH, KW] = wShape as [number, number, number, number];
  if (WC !== C) fail(op, `w must have shape [C, OC, KH, KW] with C = ${C} input channels (x is [${xShape}]), got [${wShape}]`);
  if (PH >= KH || PW >= KW) fail(op, `padding [${PH}, ${PW}] must be smaller than the kernel ${KH}x${KW}`);
  const OH = (H - 1) * SH - 2 * PH + KH + OPH,
    OW = (W - 1) * SW - 2 * PW + KW + OPW;
  if (OH < 1 || OW < 1) fail(op, `the output ${OH}x${OW} is empty (x [${xShape}], w [${wShape}], stride [${SH}, ${SW}], padding [${PH}, ${PW}])`);
  return { N, C, H, W, OC, KH, KW, OH, OW, SH, SW, PH, PW, OPH, OPW };
}

/** Checks x, w, bias and the options of a transposed convolution; returns the sizes. */
export function convTranspose2dDims(x: Tensor, w: Tensor, opts: ConvTranspose2dOptions = {}): ConvTranspose2dDims {
  const op = 'convTranspose2d';
  checkArgs(op, { x: { t: x, rank: 4, dtype: 'f32', what: '(N, C, H, W)' }, w: { t: w, rank: 4, dtype: 'f32', what: '(C, OC, KH, KW)' } });
  const d = convTranspose2dGeometry(op, x.shape, w.shape, opts);
  checkArgs(op, { x: { t: x }, w: { t: w }, bias: { t: opts.bias, rank: 1, dtype: 'f32', shape: [d.OC], what: '(OC)', optional: true } });
  const act = opts.activation ?? 'none';
  if (act !== 'none' && act !== 'relu') fail(op, `activation must be 'none' or 'relu', got '${String(act)}'`);
  return d;
}

/** Dispatch records for y (N, OC, OH, OW) = convTranspose(x, w) [+ bias] [→ relu]. */
export async function convTranspose2d(gpu: Gpu, x: Tensor, w: Tensor, y: Tensor, opts: ConvTranspose2dOptions = {}): Promise<Dispatch[]> {
  const d = convTranspose2dDims(x, w, opts);
  checkArgs('convTranspose2d', {
    x: { t: x },
    w: { t: w },
    bias: { t: opts.bias, optional: true },
    y: { t: y, rank: 4, dtype: 'f32', shape: [d.N, d.OC, d.OH, d.OW], what: '(N, OC, OH, OW)', out: true },
  });
  const relu = opts.activation === 'relu';
  const pipeline = await pipelines(gpu).get('conv-transpose2d', { WG: CONV_T_WG, BIAS: !!opts.bias, RELU: relu });
  const label = `convTranspose2d ${d.N}x${d.C}x${d.H}x${d.W} k${d.OC}x${d.KH}x${d.KW} s${d.SH},${d.SW} p${d.PH},${d.PW}${opts.bias ? ' +b' : ''}${relu ? ' relu' : ''}`;
  const p = conv2dParams(gpu, 'convTranspose2d.params', d);
  const workgroups = grid(gpu, Math.ceil((d.N * Math.ceil(d.OC / 4) * d.OH * d.OW) / CONV_T_WG));
  checkWorkgroups(gpu, label, workgroups);
  return [{ label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, [p, x, w, y, opts.bias]), workgroups, owned: [p] }];
}

/** Dispatch records for dx (N, C, H, W) from dy (N, OC, OH, OW): the forward conv2d of dy with w. */
export async function convTranspose2dBackwardData(
  gpu: Gpu,
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  opts: ConvTranspose2dOptions = {},
): Promise<Dispatch[]> {
  const op = 'convTranspose2dBackwardData';
  checkArgs(op, {
    w: { t: w, rank: 4, dtype: 'f32', what: '(C, OC, KH, KW)' },
    dx: { t: dx, rank: 4, dtype: 'f32', what: '(N, C, H, W)', out: true },
  });
  const d = convTranspose2dGeometry(op, dx.shape, w.shape, opts);
  checkArgs(op, { dy: { t: dy, rank: 4, dtype: 'f32', shape: [d.N, d.OC, d.OH, d.OW], what: '(N, OC, OH, OW)' }, dx: { t: dx, out: true } });
  return conv2d(gpu, dy, w, dx, { stride: [d.SH, d.SW], padding: [d.PH, d.PW] });
}

/** Dispatch records for dw (C, OC, KH, KW) from the input x and dy: conv2d's filter gradient with roles swapped. */
export async function convTranspose2dBackwardFilter(
  gpu: Gpu,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  opts: ConvTranspose2dOptions = {},
): Promise<Dispatch[]> {
  const op = 'convTranspose2dBackwardFilter';
  checkArgs(op, {
    x: { t: x, rank: 4, dtype: 'f32', what: '(N, C, H, W)' },
    dw: { t: dw, rank: 4, dtype: 'f32', what: '(C, OC, KH, KW)', out: true },
  });
  const d = convTranspose2dGeometry(op, x.shape, dw.shape, opts);
  checkArgs(op, { dy: { t: dy, rank: 4, dtype: 'f32', shape: [d.N, d.OC, d.OH, d.OW], what: '(N, OC, OH, OW)' }, dw: { t: dw, out: true } });
  return conv2dBackwardFilter(gpu, dy, x, dw, { stride: [d.SH, d.SW], padding: [d.PH, d.PW] });
}
