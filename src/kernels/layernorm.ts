// Layer normalisation over the last dimension   (shaders/layernorm.wgsl)
//   layerNorm:         x (N, C), gamma (C), beta (C) → y (N, C), mean (N), rstd (N)
//                      y = (x − mean)·rstd·γ + β, rstd = 1/sqrt(var + eps) (biased variance)
//   layerNormBackward: x, dy (N, C), gamma (C), mean, rstd (N) → dx (N, C) (= or +=),
//                      dgamma, dbeta (C) (=)
// dgamma and dbeta are reduced in two fixed-order stages (chunks of LAYERNORM_ROWS rows, then the
// chunks in order): no atomics, the same bits on every run. The backward's scratch (partial sums
// (G, 2, C), G = ceil(N / LAYERNORM_ROWS)) is returned in the plan for the caller to keep.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { checkArgs, fail, finite } from './args.js';

export const LAYERNORM_WG = 64;
/** Rows per partial sum of dgamma/dbeta (stage 1). */
export const LAYERNORM_ROWS = 32;
export const LAYERNORM_EPS = 1e-5;

/** Checks x (N, C), gamma (C) and beta (C, optional); returns (N, C). */
export function layerNormDims(x: Tensor, gamma: Tensor, beta?: Tensor, op = 'layerNorm'): { N: number; C: number } {
  checkArgs(op, { x: { t: x, rank: 2, dtype: 'f32', what: '(N, C)' } });
  const [N, C] = x.shape as [number, number];
  checkArgs(op, { gamma: { t: gamma, dtype: 'f32', shape: [C] }, beta: { t: beta, dtype: 'f32', shape: [C], optional: true } });
  return { N, C };
}

function params(gpu: Gpu, label: string, N: number, C: number, eps: number): GPUBuffer {
  const CW = C % 4 === 0 ? C / 4 : C;
  const G = Math.ceil(N / LAYERNORM_ROWS);
  return uniformParams(gpu, label, [
    ['u32', N],
    ['u32', CW],
    ['u32', C],
    ['u32', LAYERNORM_ROWS],
    ['u32', G],
    ['f32', eps],
  ]);
}

function pipe(gpu: Gpu, C: number, accum: boolean, entry: string): Promise<GPUComputePipeline> {
  return pipelines(gpu).get('layernorm', { VEC4: C % 4 === 0, ACCUM: accum, WG: LAYERNORM_WG }, entry);
}

export interface LayerNormOptions {
  /** Added to the variance; default LAYERNORM_EPS (1e-5, as PyTorch). */
  eps?: number;
}

/** Dispatch record: y = layernorm(x)·γ + β, saving mean and rstd for the backward. */
export async function layerNorm(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  y: Tensor,
  mean: Tensor,
  rstd: Tensor,
  opts: LayerNormOptions = {},
): Promise<Dispatch[]> {
  const op = 'layerNorm';
  const { N, C } = layerNormDims(x, gamma, beta, op);
  if (beta === undefined) fail(op, `beta must be a Tensor (${C})`);
  checkArgs(op, {
    x: { t: x },
    gamma: { t: gamma },
    beta: { t: beta },
    y: { t: y, dtype: 'f32', shape: [N, C], out: true },
    mean: { t: mean, dtype: 'f32', shape: [N], out: true },
    rstd: { t: rstd, dtype: 'f32', shape: [N], out: true },
  });
  const eps = opts.eps ?? LAYERNORM_EPS;
  finite(op, 'eps', eps);
  if (eps <= 0) fail(op, `eps must be > 0, got ${eps}`);
  const pipeline = await pipe(gpu, C, false, 'forward');
  const u = params(gpu, 'layerNorm.params', N, C, eps);
  const label = `layerNorm ${N}x${C}`;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [u, x, gamma, beta, y, mean, rstd]),
      workgroups: grid(gpu, Math.ceil(N / LAYERNORM_WG)),
      owned: [u],
    },
  ];
}

export interface LayerNormBackwardArgs {
  x: Tensor;
  gamma: Tensor;
  /** (N) from the forward. */
  mean: Tensor;
  /** (N) from the forward. */
  rstd: Tensor;
  dy: Tensor;
  /** (N, C): written, or added to with `accumulate` (a residual stream's gradient). */
  dx: Tensor;
  dgamma: Tensor;
  dbeta: Tensor;
  accumulate?: boolean;
  /** Scratch from an earlier plan, reused when large enough. */
  scratch?: readonly Tensor[];
}

export interface LayerNormBackwardPlan {
  dispatches: Dispatch[];
  /** [partial sums (G·2·C) f32]; the caller disposes it. */
  scratch: Tensor[];
}

/** Dispatch records (3): dx per row, then dgamma/dbeta partial sums per chunk of rows, then their sum. */
export async function layerNormBackward(gpu: Gpu, a: LayerNormBackwardArgs): Promise<LayerNormBackwardPlan> {
  const op = 'layerNormBackward';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { x, gamma, mean, rstd, dy, dx, dgamma, dbeta }');
  const { N, C } = layerNormDims(a.x, a.gamma, undefined, op);
  const f32 = (t: Tensor, shape: number[], out = false) => ({ t, dtype: 'f32' as const, shape, out });
  checkArgs(op, {
    x: { t: a.x },
    gamma: { t: a.gamma },
    mean: f32(a.mean, [N]),
    rstd: f32(a.rstd, [N]),
    dy: f32(a.dy, [N, C]),
    dx: f32(a.dx, [N, C], true),
    dgamma: f32(a.dgamma, [C], true),
    dbeta: f32(a.dbeta, [C], true),
  });
  const G = Math.ceil(N / LAYERNORM_ROWS);
  const need = G * 2 * C;
  const old = a.scratch?.[0];
  const partial =
    old && !old.isDisposed && old.dtype === 'f32' && old.size >= need && old.gpu === gpu
      ? old
      : createTensor(gpu, [need], undefined, { label: 'layerNormBackward.partial' });
  const accum = !!a.accumulate;
  const [pd, pp, pf] = await Promise.all(['bw_dx', 'bw_partial', 'bw_final'].map((e) => pipe(gpu, C, accum, e)));
  const u = params(gpu, 'layerNormBackward.params', N, C, LAYERNORM_EPS);
  const CW = C % 4 === 0 ? C / 4 : C;
  const tag = `${N}x${C}`;
  const rec = (name: string, pipeline: GPUComputePipeline, b: (Tensor | GPUBuffer | undefined)[], items: number, owned?: GPUBuffer[]): Dispatch => {
    const label = `layerNormBackward.${name} ${tag}`;
    return { label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, b), workgroups: grid(gpu, Math.ceil(items / LAYERNORM_WG)), owned };
  };
  const _ = undefined;
  return {
    dispatches: [
      rec('dx', pd!, [u, a.x, a.gamma, _, _, _, _, a.dy, a.dx, _, _, _, a.mean, a.rstd], N, [u]),
      rec('partial', pp!, [u, a.x, _, _, _, _, _, a.dy, _, partial, _, _, a.mean, a.rstd], G * CW),
      rec('final', pf!, [u, _, _, _, _, _, _, _, _, partial, a.dgamma, a.dbeta], CW),
    ],
    scratch: [partial],
  };
}
