// adamw: fused AdamW over a flat parameter arena; gradNorm: the global gradient norm for clipping
//   (shaders/adamw.wgsl)
//   w, g, m, v, mask (optional): n f32 each (any shapes of equal size, e.g. the arena's flat views)
//   hyper: f32[ADAMW_HYPER.size] on the GPU, read at every dispatch (layout below), so the step plan
//          changes lr, the bias corrections (adamwBiasCorrection) and clip per step without the CPU
//   norm:  f32[GRAD_NORM.size]: gradNorm writes [Σ g², ‖g‖]; adamw (and sgdL2) read it to clip
//   g ← g·min(1, clip/(‖g‖ + 1e-6)) (clip > 0 and a norm given; torch.nn.utils.clip_grad_norm_),
//   w ← w·(1 − lr·wd) on [0, decayEnd) only, m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
//   w ← w − (lr/bc1)·m/(sqrt(v)/sqrt(bc2) + eps) (torch.optim.AdamW); masked: w = m = v = 0 exactly.
// gradNorm sums g² (g·mask when a mask is given) in a fixed order in two dispatches: no atomics,
// the same bits on every run.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { checkArgs, elementRange, fail, vec4Split } from './args.js';
import { checkUpdate, updateRecords } from './fused-update.js';

export const ADAMW_WG = 256;
/** Workgroup size of the norm reduction (a power of two). */
export const NORM_WG = 64;
/** Most partial sums of gradNorm's first stage. */
export const NORM_MAX_PARTIALS = 256;
/**
 * Entries of the AdamW hyper-parameter buffer (f32). bc1 = 1 − beta1^t and bc2 = 1 − beta2^t for
 * step t ≥ 1 (adamwBiasCorrection writes them on the GPU from the step counter); clip ≤ 0: off.
 */
export const ADAMW_HYPER = { lr: 0, beta1: 1, beta2: 2, eps: 3, weightDecay: 4, bc1: 5, bc2: 6, clip: 7, size: 8 } as const;
/** Entries of the norm buffer (f32) that gradNorm writes. */
export const GRAD_NORM = { sumSq: 0, norm: 1, size: 4 } as const;

export interface AdamWParams {
  /** Weights (updated in place). */
  w: Tensor;
  /** Gradients (read). */
  g: Tensor;
  /** First moment (updated in place). */
  m: Tensor;
  /** Second moment (updated in place). */
  v: Tensor;
  /** 0/1 mask (read); absent for dense training. */
  mask?: Tensor;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Step number t ≥ 1 for the bias corrections. */
  step: number;
  /** Max global gradient norm; absent or ≤ 0: no clipping. */
  clip?: number;
}

export interface AdamWOptions {
  /** Weight decay applies to elements [0, decayEnd); default n (all). */
  decayEnd?: number;
  /** GRAD_NORM buffer from gradNorm: clip by hyper's clip (> 0) against its ‖g‖. */
  norm?: Tensor;
}

/** Checks h and returns the hyper buffer's contents (bias corrections computed for h.step). */
export function adamwHyperValues(h: AdamWHyper, op = 'adamw'): Float32Array {
  if (!h || typeof h !== 'object') fail(op, 'hyper-parameters must be an object { lr, beta1, beta2, eps, weightDecay, step, clip? }');
  for (const k of ['lr', 'eps', 'weightDecay'] as const) {
    const x = h[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) fail(op, `${k} must be a finite number ≥ 0, got ${x}`);
  }
  for (const k of ['beta1', 'beta2'] as const) {
    const x = h[k];
    if (typeof x !== 'number' || !(x >= 0 && x < 1)) fail(op, `${k} must be in [0, 1), got ${x}`);
  }
  if (!Number.isInteger(h.step) || h.step < 1) fail(op, `step must be an integer ≥ 1, got ${h.step}`);
  const clip = h.clip ?? 0;
  if (typeof clip !== 'number' || !Number.isFinite(clip)) fail(op, `clip must be a finite number (≤ 0: off), got ${clip}`);
  const out = new Float32Array(ADAMW_HYPER.size);
  out[ADAMW_HYPER.lr] = h.lr;
  out[ADAMW_HYPER.beta1] = h.beta1;
  out[ADAMW_HYPER.beta2] = h.beta2;
  out[ADAMW_HYPER.eps] = h.eps;
  out[ADAMW_HYPER.weightDecay] = h.weightDecay;
  out[ADAMW_HYPER.bc1] = 1 - h.beta1 ** h.step;
  out[ADAMW_HYPER.bc2] = 1 - h.beta2 ** h.step;
  out[ADAMW_HYPER.clip] = clip;
  return out;
}

/** A hyper-parameter tensor (ADAMW_HYPER.size f32) holding h. */
export function createAdamWHyper(gpu: Gpu, h: AdamWHyper, label = 'adamw.hyper'): Tensor {
  return createTensor(gpu, [ADAMW_HYPER.size], adamwHyperValues(h), { label });
}

/** Writes h into a hyper tensor (queue write: takes effect for work submitted after it). */
export function writeAdamWHyper(hyper: Tensor, h: AdamWHyper): void {
  checkHyper('writeAdamWHyper', hyper);
  const vals = adamwHyperValues(h, 'writeAdamWHyper');
  hyper.gpu.device.queue.writeBuffer(hyper.buffer, hyper.offset, vals.buffer, 0, vals.byteLength);
}

function checkHyper(op: string, hyper: Tensor): void {
  checkArgs(op, { hyper: { t: hyper, dtype: 'f32' } });
  hyperSize(op, hyper);
}

function hyperSize(op: string, hyper: Tensor): void {
  if (hyper.size < ADAMW_HYPER.size)
    fail(op, `hyper must hold ${ADAMW_HYPER.size} entries [lr, beta1, beta2, eps, weightDecay, bc1, bc2, clip], got shape [${hyper.shape}]`);
}

function normSize(op: string, norm: Tensor): void {
  if (norm.size < GRAD_NORM.size) fail(op, `norm must hold ${GRAD_NORM.size} entries (GRAD_NORM), got shape [${norm.shape}]`);
}

/** A zeroed norm tensor (GRAD_NORM.size f32). */
export function createNormBuffer(gpu: Gpu, label = 'gradNorm.norm'): Tensor {
  return createTensor(gpu, [GRAD_NORM.size], undefined, { label });
}

/** Checks the operands and returns n. */
export function adamwCheck(params: AdamWParams, hyper: Tensor | undefined, opts: AdamWOptions = {}): number {
  const op = 'adamw';
  if (!params || typeof params !== 'object') fail(op, 'params must be an object { w, g, m, v, mask? }');
  const { w, g, m, v, mask } = params;
  return checkUpdate(op, { w, g, m, v, mask }, hyper, opts.norm, opts.decayEnd, () => {
    if (hyper !== undefined) hyperSize(op, hyper);
    if (opts.norm !== undefined) normSize(op, opts.norm);
  });
}

/**
 * Dispatch records for one fused AdamW update of (w, m, v) in place; hyper-parameters (and the
 * clip norm) read on the GPU. One record updates the vec4 body, a second one-workgroup record the
 * last < 64 elements when n is not a multiple of max(4, minStorageBufferOffsetAlignment/4).
 */
export async function adamw(gpu: Gpu, params: AdamWParams, hyper: Tensor, opts: AdamWOptions = {}): Promise<Dispatch[]> {
  if (hyper === undefined) fail('adamw', 'hyper must be a Tensor (ADAMW_HYPER layout)');
  const n = adamwCheck(params, hyper, opts);
  const decayEnd = opts.decayEnd ?? n;
  const { w, g, m, v, mask } = params;
  return updateRecords(gpu, {
    op: 'adamw',
    shader: 'adamw',
    wg: ADAMW_WG,
    n,
    decayEnd,
    pad: 2,
    hyper,
    rows: [w, g, m, v, mask],
    mask,
    norm: opts.norm,
  });
}

/** Number of partial sums gradNorm uses for n elements (a function of n only: fixed order). */
export function normPartials(n: number): number {
  return Math.max(1, Math.min(NORM_MAX_PARTIALS, Math.ceil(n / (NORM_WG * 256))));
}

/**
 * Dispatch records (2) writing norm = [Σ g², ‖g‖] (over g·mask with a mask). The partial-sum
 * scratch buffer is owned by the records.
 */
export async function gradNorm(gpu: Gpu, g: Tensor, norm: Tensor, opts: { mask?: Tensor } = {}): Promise<Dispatch[]> {
  const op = 'gradNorm';
  const { mask } = opts;
  checkArgs(op, {
    g: { t: g, dtype: 'f32', aligned: true },
    norm: { t: norm, dtype: 'f32', out: true },
    mask: { t: mask, dtype: 'f32', size: g?.size, what: 'like g', aligned: true, optional: true },
  });
  normSize(op, norm);
  const n = g.size;
  const { body, tail } = vec4Split(gpu, n);
  const vec4 = body > 0;
  const items = vec4 ? body / 4 : 0;
  const G = normPartials(n);
  const [pp, pf] = await Promise.all([
    pipelines(gpu).get('adamw', { MASK: !!mask, VEC4: true, CLIP: false, WG: NORM_WG }, 'norm_partial'),
    pipelines(gpu).get('adamw', { MASK: false, VEC4: true, CLIP: false, WG: NORM_WG }, 'norm_final'),
  ]);
  const uni = uniformParams(gpu, 'gradNorm.params', [
    ['u32', items],
    ['u32', 0],
    ['u32', 0],
    ['u32', tail],
    ['u32', G],
  ]);
  const partials = gpu.device.createBuffer({ label: 'gradNorm.partials', size: G * 4, usage: 0x80 }); // STORAGE
  // an empty body or tail binds a 16-byte placeholder that the kernel does not read
  const dummy = gpu.device.createBuffer({ label: 'gradNorm.unused', size: 16, usage: 0x80 });
  const bodyOf = (t: Tensor) => (vec4 ? elementRange(t, 0, body) : dummy);
  const tailOf = (t: Tensor) => (tail > 0 ? elementRange(t, body, tail) : dummy);
  const label = `gradNorm ${n}${mask ? ' masked' : ''}`;
  return [
    {
      label: `${label} partial`,
      pipeline: pp,
      bindGroup: bindGroup(gpu, pp, `${label} partial`, [
        uni,
        undefined,
        undefined,
        bodyOf(g),
        undefined,
        undefined,
        mask ? bodyOf(mask) : undefined,
        undefined,
        partials,
        undefined,
        tailOf(g),
        mask ? tailOf(mask) : undefined,
      ]),
      workgroups: [G, 1, 1],
      owned: [uni, dummy],
    },
    {
      label: `${label} final`,
      pipeline: pf,
      bindGroup: bindGroup(gpu, pf, `${label} final`, [
        uni,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        partials,
        norm,
      ]),
      workgroups: [1, 1, 1],
      owned: [partials],
    },
  ];
}

/** Dispatch record: hyper's bc1, bc2 ← 1 − beta^t with t = state[0] + 1 (the plan's GPU step counter, u32). */
export async function adamwBiasCorrection(gpu: Gpu, state: Tensor, hyper: Tensor): Promise<Dispatch[]> {
  const op = 'adamwBiasCorrection';
  checkArgs(op, { state: { t: state, dtype: 'u32' }, hyper: { t: hyper, dtype: 'f32', out: true } });
  hyperSize(op, hyper);
  const pipeline = await pipelines(gpu).get('adamw', { MASK: false, VEC4: false, CLIP: false, WG: NORM_WG }, 'bias_correction');
  const label = 'adamw.biasCorrection';
  const _ = undefined;
  return [{ label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, [_, _, _, _, _, _, _, _, _, _, _, _, state, hyper]), workgroups: [1, 1, 1] }];
}
