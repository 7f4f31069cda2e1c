// Incremental decoding of causal self-attention over a key/value cache   (shaders/attention-decode.wgsl)
//   qkv (B, 3C) f32: the new token's q, k, v (layout as attention.ts, hs = C/H); kCache, vCache
//   (B, Tmax, C) f32; position u32 [1] = t, the new token's index; out (B, C).
// Use (sampling, the gpt sampler):
//   Per attention layer allocate kCache, vCache (B, Tmax, C) f32 (Tmax = the model's context T), and
//   one position tensor (u32, shape [1]) shared by all layers, holding t = the new token's index.
//   Run the model on the new token only (B rows: embedding at position t, layer norms, the qkv dense
//   layer → qkv (B, 3C)); then attentionDecode(gpu, { qkv, kCache, vCache, position, out }, { H })
//   returns two dispatches: copy the k, v columns of qkv into row t of the caches, then out (B, C) =
//   attention of each q to the keys 0..t (a single query row, no mask needed). Build them once, and
//   before each token write t (position.write([t])). Feed the prompt token by token the same way
//   (t = 0, 1, ...): step t's out equals row t of the full causal forward over the tokens so far
//   (tests/attention.test.ts checks this). When t reaches Tmax, slide: restart from t = 0 with the
//   last tokens as the new prompt. A position t ≥ Tmax appends nothing and attends to rows
//   0..Tmax−1 (ops.attentionDecode rejects it). Kernels: generic (T_q = 1 is small work).
import type { Gpu } from '../gpu/device.js';
import type { Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';
import { attentionDispatches, attentionHsMax, attentionParams, type AttentionDims, type AttentionStep } from './attention.js';
import { distinctBuffers, f32Shape, tensorArg } from './checks.js';
import { dtype, fail, positiveInt, rank, sameDevice, shapeIs } from './validate.js';

export interface AttentionDecodeArgs {
  /** The new token's q, k, v: (B, 3C). */
  qkv: Tensor;
  /** Key and value caches (B, Tmax, C); row t is written here, rows 0..t are read. */
  kCache: Tensor;
  vCache: Tensor;
  /** u32 [1]: t, the new token's index (< Tmax). */
  position: Tensor;
  /** (B, C). */
  out: Tensor;
}

/** Checks the operands of attentionDecode and returns (B, C, H, Tmax). */
export function attentionDecodeDims(qkv: Tensor, kCache: Tensor, vCache: Tensor, opts: { H: number }): { B: number; C: number; H: number; Tmax: number } {
  const op = 'attentionDecode';
  positiveInt(op, 'H', opts?.H);
  rank(op, 'qkv', qkv, 2, '(B, 3C)');
  dtype(op, 'qkv', qkv, 'f32');
  const [B, C3] = qkv.shape as [number, number];
  if (C3 % 3 !== 0) fail(op, `qkv must have 3C columns (q, k, v), got ${C3} (shape [${qkv.shape}])`);
  const C = C3 / 3, H = opts.H;
  if (C % H !== 0) fail(op, `C = ${C} must be a multiple of H = ${H} (head size C/H)`);
  rank(op, 'kCache', kCache, 3, '(B, Tmax, C)');
  const Tmax = kCache.shape[1]!;
  f32Shape(op, 'kCache', kCache, [B, Tmax, C], '(B, Tmax, C)');
  f32Shape(op, 'vCache', vCache, [B, Tmax, C], '(B, Tmax, C), like kCache');
  return { B, C, H, Tmax };
}

/** Dispatch records for one decoding step: append k, v at row t of the caches, then attend (see the header). */
export async function attentionDecode(gpu: Gpu, a: AttentionDecodeArgs, opts: { H: number }): Promise<Dispatch[]> {
  const op = 'attentionDecode';
  if (!a || typeof a !== 'object') fail(op, 'arguments { qkv, kCache, vCache, position, out } are required');
  const { B, C, H, Tmax } = attentionDecodeDims(a.qkv, a.kCache, a.vCache, opts);
  f32Shape(op, 'out', a.out, [B, C], '(B, C)');
  tensorArg(op, 'position', a.position);
  dtype(op, 'position', a.position, 'u32');
  shapeIs(op, 'position', a.position, [1]);
  sameDevice(op, ['qkv', a.qkv], ['kCache', a.kCache], ['vCache', a.vCache], ['position', a.position], ['out', a.out]);
  distinctBuffers(op, ['kCache', a.kCache], ['vCache', a.vCache], ['out', a.out], ['qkv', a.qkv], ['position', a.position]);
  const d: AttentionDims = { B, T: 1, C, H, hs: C / H, N: B };
  const defs = { HSMAX: attentionHsMax(op, d.hs) };
  const label = `attentionDecode B${B} C${C} H${H} Tmax${Tmax}`;
  const steps: AttentionStep[] = [
    { entry: 'kv_append', bindings: [a.qkv, undefined, a.kCache, a.vCache, a.position], workgroups: [Math.ceil(C / 64), B, 1] },
    { entry: 'decode', bindings: [a.qkv, a.out, a.kCache, a.vCache, a.position], workgroups: [Math.ceil((B * H) / 64), 1, 1] },
  ];
  return attentionDispatches(gpu, 'attention-decode', label, defs, steps, attentionParams(gpu, `${op}.params`, d, Tmax));
}
