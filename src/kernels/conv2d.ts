// conv2d (shaders/conv2d.wgsl), NCHW, cross-correlation:
//   x (N, C, H, W), w (OC, C, KH, KW), bias (OC), y (N, OC, OH, OW),
//   OH = ⌊(H + 2·padH − KH) / strideH⌋ + 1, likewise OW. Stride and padding are uniforms.
// conv2d:               y = conv(x, w) [+ bias] [→ relu]                       entry point main
// conv2dBackwardData:   dx (N, C, H, W) from dy (N, OC, OH, OW) and w           backward_data
// conv2dBackwardFilter: dw (OC, C, KH, KW) = Σ_{n, oh, ow} dy ⊗ x-patch         filter_partial (+ reduce)
// conv2dBiasGrad:       db (OC) = Σ_{n, oh, ow} dy                              bias_partial (+ reduce)
// On adapters with 8-lane subgroups (CPU drivers: lavapipe) the forward kernel takes 8 or 16 output
// channels per invocation with weights shared by subgroupBroadcast, the filter gradient uses
// filter_sg, and the stride-1 data gradient runs the forward kernel on dy with the flipped kernel
// (FLIP). SLIMGPU_CONV_SG=0 forces the portable kernels, SLIMGPU_CONV_OB=4|8|16 the channel block.
// The two reductions are two-stage: partial sums over chunks of the N·OH·OW output positions into
// a scratch buffer (owned by the second record), then a sum over chunks; with one chunk the first
// stage writes the result directly.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, checkWorkgroups, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { STORAGE, type Tensor } from '../gpu/tensor.js';
import { hasSubgroups8 } from './matmul.js';
import type { Conv2dDims } from '../reference/conv2d.js';
import { checkArgs } from './args.js';
import {
  activationOf,
  conv2dBackwardDataDims,
  conv2dBackwardFilterDims,
  conv2dDims,
  NCHW,
  NOHW,
  OIHW,
  type Conv2dGeometryOptions,
  type Conv2dOptions,
} from './conv2d-dims.js';

export {
  conv2dBackwardDataDims,
  conv2dBackwardFilterDims,
  conv2dDims,
  conv2dOutputSize,
  conv2dWeightShape,
  type Conv2dFilterGradOptions,
  type Conv2dGeometryOptions,
  type Conv2dOptions,
  type Conv2dPair,
} from './conv2d-dims.js';
export type { Conv2dDims };

export const CONV2D_WG = 64;
/** Invocations the first stage of a reduction aims for (keeps both lavapipe threads busy). */
const REDUCE_TARGET_INVOCATIONS = 2048;
/** Fewest output positions per chunk (below that the second stage costs more than it saves). */
const MIN_CHUNK = 32;

/** The conv kernels' uniform block (shared with conv-transpose2d, whose shader reads the same layout). */
export function conv2dParams(gpu: Gpu, label: string, d: Conv2dDims, chunk = 0, splits = 0, len = 0): GPUBuffer {
  return uniformParams(gpu, label, [
    ['u32', d.N],
    ['u32', d.C],
    ['u32', d.H],
    ['u32', d.W],
    ['u32', d.OC],
    ['u32', d.OH],
    ['u32', d.OW],
    ['u32', d.KH],
    ['u32', d.KW],
    ['u32', d.SH],
    ['u32', d.SW],
    ['u32', d.PH],
    ['u32', d.PW],
    ['u32', chunk],
    ['u32', splits],
    ['u32', len],
  ]);
}

const defines = (bias: boolean, relu: boolean, ob: 4 | 8 | 16 = 4, sg = false, flip = false) => ({
  BIAS: bias,
  RELU: relu,
  WG: CONV2D_WG,
  OB8: ob >= 8,
  OB16: ob >= 16,
  SG: sg,
  FLIP: flip,
});

/** Whether the forward kernel gets its weights by subgroup broadcast (8-lane subgroups). */
function useSubgroups(gpu: Gpu): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SLIMGPU_CONV_SG;
  if (env === '0') return false;
  return hasSubgroups8(gpu);
}

/** Output channels per invocation of the forward kernel: bigger blocks reuse each x load more. */
export function conv2dChannelBlock(OC: number): 4 | 8 | 16 {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SLIMGPU_CONV_OB;
  if (env === '4' || env === '8' || env === '16') return Number(env) as 4 | 8 | 16;
  return OC >= 32 ? 16 : OC > 4 ? 8 : 4;
}

function groupsFor(gpu: Gpu, invocations: number): [number, number, number] {
  return grid(gpu, Math.ceil(invocations / CONV2D_WG));
}

function withZ(g: [number, number, number], z: number): [number, number, number] {
  return [g[0], g[1], z];
}

const dimsLabel = (d: Conv2dDims) => `${d.N}x${d.C}x${d.H}x${d.W} k${d.OC}x${d.KH}x${d.KW} s${d.SH},${d.SW} p${d.PH},${d.PW}`;

/** Dispatch records for y (N, OC, OH, OW) = conv(x, w) [+ bias] [→ relu]. */
export async function conv2d(gpu: Gpu, x: Tensor, w: Tensor, y: Tensor, opts: Conv2dOptions = {}): Promise<Dispatch[]> {
  const d = conv2dDims(x, w, opts);
  checkArgs('conv2d', { y: { t: y, ...NOHW, shape: [d.N, d.OC, d.OH, d.OW] } });
  const relu = activationOf('conv2d', opts.activation) === 'relu';
  const ob = conv2dChannelBlock(d.OC);
  const sg = useSubgroups(gpu);
  const pipeline = await pipelines(gpu).get('conv2d', defines(!!opts.bias, relu, ob, sg));
  const label = `conv2d ${dimsLabel(d)}${opts.bias ? ' +b' : ''}${relu ? ' relu' : ''} ob${ob}${sg ? ' sg' : ''}`;
  const p = conv2dParams(gpu, 'conv2d.params', d);
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [p, x, w, y, opts.bias]),
      workgroups: withZ(groupsFor(gpu, d.N * d.OH * Math.ceil(d.OW / 4)), Math.ceil(d.OC / ob)),
      owned: [p],
    },
  ];
}

/** Dispatch records for dx (N, C, H, W) from dy (N, OC, OH, OW) and w (OC, C, KH, KW). */
export async function conv2dBackwardData(gpu: Gpu, dy: Tensor, w: Tensor, dx: Tensor, opts: Conv2dGeometryOptions = {}): Promise<Dispatch[]> {
  const op = 'conv2dBackwardData';
  checkArgs(op, { dx: { t: dx, ...NCHW } });
  const d = conv2dBackwardDataDims(dy, w, dx.shape, opts);
  if (useSubgroups(gpu) && d.SH === 1 && d.SW === 1 && d.PH < d.KH && d.PW < d.KW) {
    // stride 1: dx is the forward convolution of dy (zero-padded by K − 1 − P) with the
    // flipped, channel-transposed kernel (the forward kernel with FLIP)
    const f: Conv2dDims = {
      N: d.N,
      C: d.OC,
      H: d.OH,
      W: d.OW,
      OC: d.C,
      OH: d.H,
      OW: d.W,
      KH: d.KH,
      KW: d.KW,
      SH: 1,
      SW: 1,
      PH: d.KH - 1 - d.PH,
      PW: d.KW - 1 - d.PW,
    };
    const ob = conv2dChannelBlock(f.OC);
    const pipeline = await pipelines(gpu).get('conv2d', defines(false, false, ob, true, true));
    const label = `conv2d.backward_data ${dimsLabel(d)} flip ob${ob} sg`;
    const p = conv2dParams(gpu, 'conv2d.backward_data.params', f);
    return [
      {
        label,
        pipeline,
        bindGroup: bindGroup(gpu, pipeline, label, [p, dy, w, dx]),
        workgroups: withZ(groupsFor(gpu, f.N * f.OH * Math.ceil(f.OW / 4)), Math.ceil(f.OC / ob)),
        owned: [p],
      },
    ];
  }
  const pipeline = await pipelines(gpu).get('conv2d', defines(false, false), 'backward_data');
  const label = `conv2d.backward_data ${dimsLabel(d)}`;
  const p = conv2dParams(gpu, 'conv2d.backward_data.params', d);
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [p, undefined, w, undefined, undefined, dy, dx]),
      workgroups: withZ(groupsFor(gpu, d.N * d.H * d.SW * Math.ceil(Math.ceil(d.W / d.SW) / 4)), Math.ceil(d.C / 4)),
      owned: [p],
    },
  ];
}

/** Chunks of the P output positions for a first-stage reduction with `blocks` owners per chunk. */
function splitPlan(gpu: Gpu, P: number, blocks: number, outLen: number): { splits: number; chunk: number } {
  let splits = Math.max(1, Math.min(Math.ceil(REDUCE_TARGET_INVOCATIONS / blocks), Math.ceil(P / MIN_CHUNK)));
  const maxSplits = Math.floor(gpu.limits.maxStorageBufferBindingSize / (4 * outLen));
  splits = Math.max(1, Math.min(splits, maxSplits));
  const chunk = Math.ceil(P / splits);
  return { splits: Math.ceil(P / chunk), chunk };
}

function twoStage(
  gpu: Gpu,
  name: string,
  d: Conv2dDims,
  out: Tensor,
  outLen: number,
  blocks: number,
  stage1: (pipeline: GPUComputePipeline, p: GPUBuffer, part: Tensor | GPUBuffer, label: string) => GPUBindGroup,
  stage1Pipeline: GPUComputePipeline,
  reducePipeline: GPUComputePipeline,
): Dispatch[] {
  const P = d.N * d.OH * d.OW;
  const { splits, chunk } = splitPlan(gpu, P, blocks, outLen);
  const p = conv2dParams(gpu, `${name}.params`, d, chunk, splits, outLen);
  const label = `${name} ${dimsLabel(d)} splits ${splits}`;
  if (splits === 1) {
    return [{ label, pipeline: stage1Pipeline, bindGroup: stage1(stage1Pipeline, p, out, label), workgroups: groupsFor(gpu, blocks), owned: [p] }];
  }
  const part = gpu.device.createBuffer({ label: `${name}.partial`, size: splits * outLen * 4, usage: STORAGE });
  const rlabel = `${name}.reduce ${outLen} x ${splits}`;
  return [
    { label, pipeline: stage1Pipeline, bindGroup: stage1(stage1Pipeline, p, part, label), workgroups: groupsFor(gpu, splits * blocks) },
    {
      label: rlabel,
      pipeline: reducePipeline,
      bindGroup: bindGroup(gpu, reducePipeline, rlabel, [p, undefined, undefined, undefined, undefined, undefined, undefined, undefined, part, out]),
      workgroups: groupsFor(gpu, outLen),
      owned: [p, part],
    },
  ];
}

/** Dispatch records for dw (OC, C, KH, KW) = Σ_{n, oh, ow} dy[n, o, oh, ow] · x-patch. */
export async function conv2dBackwardFilter(gpu: Gpu, x: Tensor, dy: Tensor, dw: Tensor, opts: Conv2dGeometryOptions = {}): Promise<Dispatch[]> {
  const op = 'conv2dBackwardFilter';
  checkArgs(op, { dw: { t: dw, ...OIHW } });
  const d = conv2dBackwardFilterDims(x, dy, dw.shape, opts);
  if (useSubgroups(gpu)) return filterSubgroups(gpu, x, dy, dw, d);
  const [stage1, reduce] = await Promise.all([
    pipelines(gpu).get('conv2d', defines(false, false), 'filter_partial'),
    pipelines(gpu).get('conv2d', defines(false, false), 'reduce'),
  ]);
  const ckk = d.C * d.KH * d.KW;
  const blocks = Math.ceil(d.OC / 4) * Math.ceil(ckk / 4);
  return twoStage(
    gpu,
    'conv2d.backward_filter',
    d,
    dw,
    d.OC * ckk,
    blocks,
    (pl, p, part, label) => bindGroup(gpu, pl, label, [p, x, undefined, undefined, undefined, dy, undefined, part]),
    stage1,
    reduce,
  );
}

/** Invocations the subgroup filter gradient aims for over all chunks. */
const FILTER_SG_TARGET_INVOCATIONS = 4096;

/** The filter gradient on 8-lane subgroups (entry filter_sg): chunks over z, then a reduce. */
async function filterSubgroups(gpu: Gpu, x: Tensor, dy: Tensor, dw: Tensor, d: Conv2dDims): Promise<Dispatch[]> {
  const ob = conv2dChannelBlock(d.OC) === 16 ? 16 : 8;
  const [stage1, reduce] = await Promise.all([
    pipelines(gpu).get('conv2d', defines(false, false, ob, true), 'filter_sg'),
    pipelines(gpu).get('conv2d', defines(false, false, ob, true), 'reduce'),
  ]);
  const ckk = d.C * d.KH * d.KW;
  const outLen = d.OC * ckk;
  const jbGroups = Math.ceil(Math.ceil(ckk / 4) / 8);
  const obCount = Math.ceil(d.OC / ob);
  const P = d.N * d.OH * d.OW;
  const perSplit = jbGroups * 8 * obCount;
  let splits = Math.max(
    1,
    Math.min(Math.ceil(FILTER_SG_TARGET_INVOCATIONS / perSplit), Math.ceil(P / MIN_CHUNK), gpu.limits.maxComputeWorkgroupsPerDimension),
  );
  splits = Math.max(1, Math.min(splits, Math.floor(gpu.limits.maxStorageBufferBindingSize / (4 * outLen))));
  const chunk = Math.ceil(P / splits);
  splits = Math.ceil(P / chunk);
  const name = 'conv2d.backward_filter';
  const p = conv2dParams(gpu, `${name}.params`, d, chunk, splits, outLen);
  const label = `${name} ${dimsLabel(d)} sg ob${ob} splits ${splits}`;
  const groups: [number, number, number] = [jbGroups, obCount, splits];
  checkWorkgroups(gpu, label, groups);
  if (splits === 1) {
    return [
      {
        label,
        pipeline: stage1,
        bindGroup: bindGroup(gpu, stage1, label, [p, x, undefined, undefined, undefined, dy, undefined, dw]),
        workgroups: groups,
        owned: [p],
      },
    ];
  }
  const part = gpu.device.createBuffer({ label: `${name}.partial`, size: splits * outLen * 4, usage: STORAGE });
  const rlabel = `${name}.reduce ${outLen} x ${splits}`;
  return [
    {
      label,
      pipeline: stage1,
      bindGroup: bindGroup(gpu, stage1, label, [p, x, undefined, undefined, undefined, dy, undefined, part]),
      workgroups: groups,
    },
    {
      label: rlabel,
      pipeline: reduce,
      bindGroup: bindGroup(gpu, reduce, rlabel, [p, undefined, undefined, undefined, undefined, undefined, undefined, undefined, part, dw]),
      workgroups: groupsFor(gpu, outLen),
      owned: [p, part],
    },
  ];
}

/** Dispatch records for db (OC) = Σ_{n, oh, ow} dy (N, OC, OH, OW). */
export async function conv2dBiasGrad(gpu: Gpu, dy: Tensor, db: Tensor): Promise<Dispatch[]> {
  const op = 'conv2dBiasGrad';
  checkArgs(op, { dy: { t: dy, ...NOHW } });
  const [N, OC, OH, OW] = dy.shape as [number, number, number, number];
  checkArgs(op, { dy: { t: dy }, db: { t: db, rank: 1, dtype: 'f32', shape: [OC], what: '(OC)' } });
  const d: Conv2dDims = { N, C: 1, H: OH, W: OW, OC, KH: 1, KW: 1, OH, OW, SH: 1, SW: 1, PH: 0, PW: 0 };
  const [stage1, reduce] = await Promise.all([
    pipelines(gpu).get('conv2d', defines(false, false), 'bias_partial'),
    pipelines(gpu).get('conv2d', defines(false, false), 'reduce'),
  ]);
  return twoStage(
    gpu,
    'conv2d.bias_grad',
    d,
    db,
    OC,
    OC,
    (pl, p, part, label) => bindGroup(gpu, pl, label, [p, undefined, undefined, undefined, undefined, dy, undefined, part]),
    stage1,
    reduce,
  );
}
