// Causal multi-head self-attention   (shaders/attention.wgsl)
//   qkv (N, 3C) f32, N = B·T (row = b·T + t): q = cols [0, C), k = [C, 2C), v = [2C, 3C); head h
//   uses cols h·hs .. (h+1)·hs of each, hs = C/H; scale 1/sqrt(hs); query t attends to keys 0..t.
//   attention:          qkv → out (N, C), and `saved` for the backward pass
//   attentionBackward:  qkv, out, saved, dout (N, C) → dqkv (N, 3C) (every element written), using
//                       `scratch`
//   attentionDecode (one new token over a key/value cache, for sampling): attention-decode.ts
//
// Two variants (the same numbers up to rounding):
//   'unfused': saved = P (B, H, T, T), the softmax probabilities (zero above the diagonal);
//              scratch = dS (B, H, T, T).
//   'flash':   never writes the T×T matrix: online softmax over the keys; saved = lse (B, H, T),
//              the log-sum-exp of each score row; the backward recomputes P from it (FlashAttention-2
//              style) with scratch = delta (B, H, T).
// Shapes: attentionSavedShape / attentionScratchShape. Pick the variant once with attentionVariant()
// (option `variant`, else SLIMGPU_ATTENTION_VARIANT=unfused|flash, else the measured default) and
// pass it to both passes: the saved tensor's shape must match.
// Kernels: 'sg8' (CPU drivers with 8-lane subgroups) or 'generic' (one invocation per row); option
// `kernel`, default by adapter. Deterministic: each output element has one writer summing in a
// fixed order; no atomics.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, checkWorkgroups, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines, type Defines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, fail, positiveInt, type TensorArg } from './args.js';
import { hasSubgroups8, isCpuAdapter } from './matmul.js';

export type AttentionVariant = 'unfused' | 'flash';
export type AttentionKernel = 'sg8' | 'generic';

/**
 * The variant used when neither the option nor SLIMGPU_ATTENTION_VARIANT chooses. Measured on lavapipe
 * at GPT sizes (README, Benchmarks → Attention): flash's forward is 1.5–2× faster, forward + backward
 * faster at 3 of 4 sizes, and it needs no (B, H, T, T) buffers.
 */
export const DEFAULT_ATTENTION_VARIANT: AttentionVariant = 'flash';
/** Largest head size the generic kernels take (their per-row private arrays). */
export const ATTENTION_MAX_HEAD_SIZE = 256;

export interface AttentionShape {
  /** Batch rows: qkv has B·T rows. */
  B: number;
  /** Sequence length. */
  T: number;
  /** Heads; C = H·hs. */
  H: number;
}

export interface AttentionOptions extends AttentionShape {
  variant?: 'auto' | AttentionVariant;
  kernel?: 'auto' | AttentionKernel;
}

export interface AttentionDims {
  B: number;
  T: number;
  C: number;
  H: number;
  hs: number;
  N: number;
}

const OP = 'attention';

function shapeArgs(op: string, s: AttentionShape | undefined): void {
  if (!s || typeof s !== 'object') fail(op, 'options { B, T, H } are required');
  positiveInt(op, 'B', s.B);
  positiveInt(op, 'T', s.T);
  positiveInt(op, 'H', s.H);
}

/** Checks qkv (B·T, 3C) against { B, T, H } and returns the dimensions. */
export function attentionDims(qkv: Tensor, opts: AttentionShape, op = OP): AttentionDims {
  shapeArgs(op, opts);
  const { B, T, H } = opts;
  checkArgs(op, { qkv: { t: qkv, rank: 2, dtype: 'f32', what: '(B·T, 3C)' } });
  const [N, C3] = qkv.shape as [number, number];
  if (N !== B * T) fail(op, `qkv must have B·T = ${B}·${T} = ${B * T} rows, got shape [${qkv.shape}]`);
  if (C3 % 3 !== 0) fail(op, `qkv must have 3C columns (q, k, v), got ${C3} (shape [${qkv.shape}])`);
  const C = C3 / 3;
  if (C % H !== 0) fail(op, `C = ${C} must be a multiple of H = ${H} (head size C/H)`);
  return { B, T, C, H, hs: C / H, N };
}

function envVariant(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.SLIMGPU_ATTENTION_VARIANT;
  return v === undefined || v === '' ? undefined : v;
}

/** The variant to use: `requested`, else SLIMGPU_ATTENTION_VARIANT, else DEFAULT_ATTENTION_VARIANT. */
export function attentionVariant(requested: 'auto' | AttentionVariant = 'auto'): AttentionVariant {
  if (requested !== 'auto' && requested !== 'unfused' && requested !== 'flash') {
    fail(OP, `variant must be 'auto', 'unfused' or 'flash', got '${requested}'`);
  }
  if (requested !== 'auto') return requested;
  const env = envVariant();
  if (env === undefined || env === 'auto') return DEFAULT_ATTENTION_VARIANT;
  if (env !== 'unfused' && env !== 'flash') fail(OP, `SLIMGPU_ATTENTION_VARIANT must be 'unfused', 'flash' or 'auto', got '${env}'`);
  return env;
}

/** The kernel flavour: `requested`, else sg8 on CPU adapters with 8-lane subgroups when hs ≤ 64 is a multiple of 4. */
export function attentionKernel(gpu: Gpu, hs: number, requested: 'auto' | AttentionKernel = 'auto'): AttentionKernel {
  if (requested !== 'auto' && requested !== 'sg8' && requested !== 'generic') {
    fail(OP, `kernel must be 'auto', 'sg8' or 'generic', got '${requested}'`);
  }
  const sg8Ok = hasSubgroups8(gpu) && hs <= 64 && hs % 4 === 0;
  if (requested === 'sg8' && !sg8Ok) {
    fail(
      OP,
      `kernel 'sg8' needs 8-lane subgroups and a head size ≤ 64 that is a multiple of 4 (got hs = ${hs}${hasSubgroups8(gpu) ? '' : ', and this adapter has no 8-lane subgroups'})`,
    );
  }
  if (requested !== 'auto') return requested;
  return sg8Ok && isCpuAdapter(gpu) ? 'sg8' : 'generic';
}

/** Shape of the tensor the forward saves for the backward: P (B, H, T, T) or lse (B, H, T). */
export function attentionSavedShape(d: AttentionShape, variant: AttentionVariant): number[] {
  return variant === 'unfused' ? [d.B, d.H, d.T, d.T] : [d.B, d.H, d.T];
}

/** Shape of the backward's scratch tensor: dS (B, H, T, T) or delta (B, H, T). */
export function attentionScratchShape(d: AttentionShape, variant: AttentionVariant): number[] {
  return attentionSavedShape(d, variant);
}

/** Private array length of the generic kernels (define HSMAX): two classes, so that few pipelines are compiled. */
export function attentionHsMax(op: string, hs: number): number {
  if (hs > ATTENTION_MAX_HEAD_SIZE) fail(op, `head size C/H = ${hs} is above the supported ${ATTENTION_MAX_HEAD_SIZE}`);
  return hs <= 64 ? 64 : ATTENTION_MAX_HEAD_SIZE;
}

function defines(gpu: Gpu, stage: 'FWD' | 'BWD', hs: number, kernel: AttentionKernel, op: string): Defines {
  const sg8 = kernel === 'sg8';
  return {
    FWD: stage === 'FWD',
    BWD: stage === 'BWD',
    SG8: sg8,
    GENERIC: !sg8,
    HSMAX: sg8 ? 4 : attentionHsMax(op, hs), // generic: private per-row arrays of HSMAX floats
    // sg8: a second 32-dim block per lane, compiled in only when needed (a uniform branch instead
    // was 10–30% slower at hs 32 on lavapipe)
    HB2: sg8 && hs > 32,
    SUBGROUPS: gpu.features.has('subgroups'),
  };
}

/** The uniform block `Params` of shaders/include/attention-common.wgsl (Tk: key rows per batch row). */
export function attentionParams(gpu: Gpu, label: string, d: AttentionDims, Tk: number): GPUBuffer {
  return uniformParams(gpu, label, [
    ['u32', d.B],
    ['u32', d.T],
    ['u32', d.C],
    ['u32', d.H],
    ['u32', d.hs],
    ['u32', Tk],
    ['f32', 1 / Math.sqrt(d.hs)],
    ['u32', 0],
  ]);
}

/** One dispatch of an attention shader: entry point, bindings 1.. (binding 0 is the uniform), grid. */
export interface AttentionStep {
  entry: string;
  bindings: (Tensor | undefined)[];
  workgroups: [number, number, number];
}

/** Dispatch records for `steps` of `shader` sharing one uniform block (owned by the first). */
export async function attentionDispatches(
  gpu: Gpu,
  shader: 'attention' | 'attention-decode',
  label: string,
  defs: Defines,
  steps: AttentionStep[],
  uniform: GPUBuffer,
): Promise<Dispatch[]> {
  const out: Dispatch[] = [];
  for (const s of steps) {
    const pipeline = await pipelines(gpu).get(shader, defs, s.entry);
    const l = `${label} ${s.entry}`;
    checkWorkgroups(gpu, l, s.workgroups);
    out.push({ label: l, pipeline, bindGroup: bindGroup(gpu, pipeline, l, [uniform, ...s.bindings]), workgroups: s.workgroups });
  }
  out[0]!.owned = [uniform];
  return out;
}

/** Dispatch records for out (N, C) = causal attention of qkv (N, 3C); writes `saved` (see attentionSavedShape). */
export async function attention(gpu: Gpu, qkv: Tensor, out: Tensor, saved: Tensor, opts: AttentionOptions): Promise<Dispatch[]> {
  const d = attentionDims(qkv, opts);
  const variant = attentionVariant(opts.variant);
  const what = variant === 'unfused' ? '(B, H, T, T) for the unfused variant' : '(B, H, T) for the flash variant';
  checkArgs(
    OP,
    {
      qkv: { t: qkv },
      out: { t: out, dtype: 'f32', shape: [d.N, d.C], what: '(B·T, C)' },
      saved: { t: saved, dtype: 'f32', shape: attentionSavedShape(d, variant), what },
    },
    { distinct: 'all' },
  );
  const kernel = attentionKernel(gpu, d.hs, opts.kernel);
  const defs = defines(gpu, 'FWD', d.hs, kernel, OP);
  const label = `attention ${variant} B${d.B} T${d.T} C${d.C} H${d.H} ${kernel}`;
  const rows: [number, number, number] = [Math.ceil(d.T / 64), d.B * d.H, 1];
  const tiles: [number, number, number] = [Math.ceil(d.T / 8), d.B * d.H, 1];
  const steps: AttentionStep[] =
    variant === 'flash'
      ? [
          kernel === 'sg8'
            ? { entry: 'sg8_flash_fwd', bindings: [qkv, out, saved], workgroups: tiles }
            : { entry: 'flash_fwd', bindings: [qkv, out, saved], workgroups: rows },
        ]
      : kernel === 'sg8'
        ? [
            { entry: 'sg8_unfused_scores', bindings: [qkv, undefined, saved], workgroups: tiles },
            { entry: 'sg8_unfused_pv', bindings: [qkv, out, saved], workgroups: tiles },
          ]
        : [
            { entry: 'unfused_scores', bindings: [qkv, undefined, saved], workgroups: rows },
            { entry: 'unfused_pv', bindings: [qkv, out, saved], workgroups: rows },
          ];
  return attentionDispatches(gpu, 'attention', label, defs, steps, attentionParams(gpu, `${OP}.params`, d, d.T));
}

export interface AttentionBackwardArgs {
  /** The forward's input (N, 3C). */
  qkv: Tensor;
  /** The forward's output (N, C) (read by the flash variant). */
  out: Tensor;
  /** What the forward saved (attentionSavedShape). */
  saved: Tensor;
  /** Gradient of the loss with respect to out (N, C). */
  dout: Tensor;
  /** Working memory (attentionScratchShape). */
  scratch: Tensor;
  /** Gradient with respect to qkv (N, 3C); every element is written. */
  dqkv: Tensor;
}

/** Dispatch records for dqkv from dout (see AttentionBackwardArgs). */
export async function attentionBackward(gpu: Gpu, a: AttentionBackwardArgs, opts: AttentionOptions): Promise<Dispatch[]> {
  const op = 'attentionBackward';
  if (!a || typeof a !== 'object') fail(op, 'arguments { qkv, out, saved, dout, scratch, dqkv } are required');
  const d = attentionDims(a.qkv, opts, op);
  const variant = attentionVariant(opts.variant);
  const what = variant === 'unfused' ? '(B, H, T, T) for the unfused variant' : '(B, H, T) for the flash variant';
  const f32 = (t: Tensor, shape: readonly number[], w: string): TensorArg => ({ t, dtype: 'f32', shape, what: w });
  const nc = '(B·T, C)';
  // no two operands in one buffer (the written scratch and dqkv first, as the messages name them)
  checkArgs(
    op,
    {
      scratch: f32(a.scratch, attentionScratchShape(d, variant), what),
      dqkv: f32(a.dqkv, [d.N, 3 * d.C], '(B·T, 3C)'),
      qkv: { t: a.qkv },
      out: f32(a.out, [d.N, d.C], nc),
      saved: f32(a.saved, attentionSavedShape(d, variant), what),
      dout: f32(a.dout, [d.N, d.C], nc),
    },
    { distinct: 'all' },
  );
  const kernel = attentionKernel(gpu, d.hs, opts.kernel);
  const defs = defines(gpu, 'BWD', d.hs, kernel, op);
  const label = `attentionBackward ${variant} B${d.B} T${d.T} C${d.C} H${d.H} ${kernel}`;
  const rows: [number, number, number] = [Math.ceil(d.T / 64), d.B * d.H, 1];
  const tiles: [number, number, number] = [Math.ceil(d.T / 8), d.B * d.H, 1];
  const { qkv, out, saved, dout, scratch, dqkv } = a;
  const steps: AttentionStep[] =
    variant === 'flash' && kernel === 'sg8'
      ? [
          { entry: 'sg8_delta', bindings: [undefined, out, undefined, dout, scratch], workgroups: tiles },
          { entry: 'sg8_flash_dkv', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: tiles },
          { entry: 'sg8_flash_dq', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: tiles },
        ]
      : variant === 'flash'
        ? [
            { entry: 'flash_delta', bindings: [undefined, out, undefined, dout, scratch], workgroups: rows },
            { entry: 'flash_dkv', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: rows },
            { entry: 'flash_dq', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: rows },
          ]
        : kernel === 'sg8'
          ? [
              { entry: 'sg8_unfused_ds', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: tiles },
              { entry: 'sg8_unfused_dkv', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: tiles },
            ]
          : [
              { entry: 'unfused_ds', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: rows },
              { entry: 'unfused_dkv', bindings: [qkv, undefined, saved, dout, scratch, dqkv], workgroups: rows },
            ];
  return attentionDispatches(gpu, 'attention', label, defs, steps, attentionParams(gpu, `${op}.params`, d, d.T));
}
