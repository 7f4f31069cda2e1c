// maxPool2d (shaders/pool.wgsl), NCHW, no padding:
//   x (N, C, H, W) → y (N, C, OH, OW) f32 and argmax (N, C, OH, OW) u32,
//   OH = ⌊(H − KH) / SH⌋ + 1, likewise OW; kernel default 2, stride default = kernel.
//   argmax = ih·W + iw, the flat index of the maximum inside its own (n, c) input plane
//   (so it fits any batch size); ties: the first maximum in window order (kh, then kw).
// maxPool2dBackward: dx (N, C, H, W) = Σ dy over the outputs whose argmax is that element.
//   Overlapping windows (stride < kernel): entry point `backward`, each input element gathers from
//   the windows covering it (no atomics, fixed order). Otherwise `backward_tiles`: each output
//   writes the cell of the plane it owns (cheaper: no per-element divisions).
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, fail } from './args.js';

/** A per-axis value: one number for both axes, or [h, w]. */
export type MaxPool2dPair = number | readonly [number, number];

export interface MaxPool2dOptions {
  /** Window size, default 2. */
  kernel?: MaxPool2dPair;
  /** Step between windows, default the kernel size. */
  stride?: MaxPool2dPair;
}

export interface MaxPool2dDims {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  OH: number;
  OW: number;
}

export const POOL_WG = 64;

function pairOf(op: string, name: string, v: MaxPool2dPair | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (typeof v === 'number') {
    if (!ok(v)) fail(op, `${name} must be a positive integer or a pair [h, w] of them, got ${v}`);
    return [v, v];
  }
  if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) {
    fail(op, `${name} must be a positive integer or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}

/** Validates the pooling geometry of an input of shape (N, C, H, W); `xName` names it in errors. */
export function maxPool2dGeometry(op: string, xShape: readonly number[], opts: MaxPool2dOptions = {}, xName = 'x'): MaxPool2dDims {
  const [KH, KW] = pairOf(op, 'kernel', opts.kernel) ?? [2, 2];
  const [SH, SW] = pairOf(op, 'stride', opts.stride) ?? [KH, KW];
  const [N, C, H, W] = xShape as [number, number, number, number];
  if (KH > H || KW > W) {
    fail(op, `kernel ${KH}x${KW} is larger than the input ${H}x${W} (${xName} [${xShape}])`);
  }
  return { N, C, H, W, KH, KW, SH, SW, OH: Math.floor((H - KH) / SH) + 1, OW: Math.floor((W - KW) / SW) + 1 };
}

/** Checks x (N, C, H, W) and the options; returns the sizes. */
export function maxPool2dDims(x: Tensor, opts: MaxPool2dOptions = {}): MaxPool2dDims {
  checkArgs('maxPool2d', { x: { t: x, rank: 4, dtype: 'f32', what: '(N, C, H, W)' } });
  return maxPool2dGeometry('maxPool2d', x.shape, opts);
}

/** Checks dy and argmax against the input shape (N, C, H, W) of a max pooling's gradient. */
export function maxPool2dBackwardDims(dy: Tensor, argmax: Tensor, inputShape: readonly number[], opts: MaxPool2dOptions = {}): MaxPool2dDims {
  const op = 'maxPool2dBackward';
  if (!Array.isArray(inputShape) || inputShape.length !== 4 || inputShape.some((v) => !Number.isInteger(v) || v < 1)) {
    fail(op, `inputShape must be 4 positive integers (N, C, H, W), got ${JSON.stringify(inputShape)}`);
  }
  const d = maxPool2dGeometry(op, inputShape, opts, 'inputShape');
  const out = [d.N, d.C, d.OH, d.OW];
  checkArgs(op, {
    dy: { t: dy, rank: 4, what: '(N, C, OH, OW)', dtype: 'f32', shape: out },
    argmax: { t: argmax, rank: 4, what: '(N, C, OH, OW)', dtype: 'u32', shape: out },
  });
  return d;
}

function params(gpu: Gpu, label: string, d: MaxPool2dDims): GPUBuffer {
  return uniformParams(gpu, label, [
    ['u32', d.N],
    ['u32', d.C],
    ['u32', d.H],
    ['u32', d.W],
    ['u32', d.OH],
    ['u32', d.OW],
    ['u32', d.KH],
    ['u32', d.KW],
    ['u32', d.SH],
    ['u32', d.SW],
    ['u32', 0],
    ['u32', 0],
  ]);
}

const dimsLabel = (d: MaxPool2dDims) => `${d.N}x${d.C}x${d.H}x${d.W} k${d.KH}x${d.KW} s${d.SH},${d.SW}`;

/** Dispatch records for y, argmax (N, C, OH, OW) = max pooling of x (N, C, H, W). */
export async function maxPool2d(gpu: Gpu, x: Tensor, y: Tensor, argmax: Tensor, opts: MaxPool2dOptions = {}): Promise<Dispatch[]> {
  const op = 'maxPool2d';
  const d = maxPool2dDims(x, opts);
  const out = [d.N, d.C, d.OH, d.OW];
  checkArgs(op, {
    x: { t: x },
    y: { t: y, rank: 4, what: '(N, C, OH, OW)', dtype: 'f32', shape: out },
    argmax: { t: argmax, rank: 4, what: '(N, C, OH, OW)', dtype: 'u32', shape: out },
  });
  const pipeline = await pipelines(gpu).get('pool', { WG: POOL_WG });
  const label = `maxPool2d ${dimsLabel(d)}`;
  const p = params(gpu, 'maxPool2d.params', d);
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [p, x, y, argmax]),
      workgroups: grid(gpu, Math.ceil((d.N * d.C * d.OH * d.OW) / POOL_WG)),
      owned: [p],
    },
  ];
}

/** Dispatch records for dx (N, C, H, W) from dy and argmax (N, C, OH, OW). */
export async function maxPool2dBackward(gpu: Gpu, dy: Tensor, argmax: Tensor, dx: Tensor, opts: MaxPool2dOptions = {}): Promise<Dispatch[]> {
  const op = 'maxPool2dBackward';
  checkArgs(op, { dx: { t: dx, rank: 4, dtype: 'f32', what: '(N, C, H, W)' } });
  const d = maxPool2dBackwardDims(dy, argmax, dx.shape, opts);
  checkArgs(op, { dy: { t: dy }, dx: { t: dx } });
  // Windows that do not overlap: each output scatters into its own cell (no conflicts).
  const tiles = d.SH >= d.KH && d.SW >= d.KW;
  const pipeline = await pipelines(gpu).get('pool', { WG: POOL_WG }, tiles ? 'backward_tiles' : 'backward');
  const label = `maxPool2d.backward${tiles ? '_tiles' : ''} ${dimsLabel(d)}`;
  const p = params(gpu, 'maxPool2d.backward.params', d);
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [p, undefined, undefined, undefined, dy, argmax, dx]),
      workgroups: grid(gpu, Math.ceil((d.N * d.C * (tiles ? d.OH * d.OW : d.H * d.W)) / POOL_WG)),
      owned: [p],
    },
  ];
}
