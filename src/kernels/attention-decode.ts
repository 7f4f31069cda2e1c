// Incremental decoding of causal self-attention over a key/value cache   (shaders/attention-decode.wgsl)
//   qkv (B, 3C) f32: the new token's q, k, v (layout as attention.ts, hs = C/H); kCache, vCache
//   (B, Tmax, C) f32; position u32 [1] = t, the new token's index; out (B, C).
//   Prefill: qkv may hold n > 1 new tokens per batch row, (B·n, 3C) with row b·n + i at position
//   t + i (out (B·n, C)); they are appended at rows t..t+n−1 and query i attends to rows 0..t+i
//   (causal within the n), so one call fills a cache with a known prompt (B = kCache.shape[0],
//   n = qkv rows / B). The codec's KvDecoder (nn/decode.ts) prefills T/2 tokens per stream.
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
import { checkArgs, fail, positiveInt } from './args.js';

export interface AttentionDecodeArgs {
  /** The new tokens' q, k, v: (B·n, 3C), row b·n + i = token i of batch row b (n = 1: one step). */
  qkv: Tensor;
  /** Key and value caches (B, Tmax, C); rows t..t+n−1 are written here, rows 0..t+i are read by query i. */
  kCache: Tensor;
  vCache: Tensor;
  /** u32 [1]: t, the first new token's index (t + n ≤ Tmax). */
  position: Tensor;
  /** (B·n, C). */
  out: Tensor;
}

/** Checks the operands of attentionDecode and returns (B, C, H, Tmax, n): B from the caches, n = qkv rows / B. */
export function attentionDecodeDims(
  qkv: Tensor,
  kCache: Tensor,
  vCache: Tensor,
  opts: { H: number },
): { B: number; C: number; H: number; Tmax: number; n: number } {
  const op = 'attentionDecode';
  positiveInt(op, 'H', opts?.H);
  checkArgs(op, { qkv: { t: qkv, rank: 2, dtype: 'f32', what: '(B·n, 3C)' } });
  const [rows, C3] = qkv.shape as [number, number];
  if (C3 % 3 !== 0) fail(op, `qkv must have 3C columns (q, k, v), got ${C3} (shape [${qkv.shape}])`);
  const C = C3 / 3,
    H = opts.H;
  if (C % H !== 0) fail(op, `C = ${C} must be a multiple of H = ${H} (head size C/H)`);
  checkArgs(op, { kCache: { t: kCache, rank: 3, what: '(B, Tmax, C)' } });
  const B = kCache.shape[0]!,
    Tmax = kCache.shape[1]!;
  if (rows % B !== 0 || rows === 0)
    fail(op, `qkv must have B·n rows (n new tokens for each of kCache's B = ${B} batch rows), got shape [${qkv.shape}]`);
  const n = rows / B;
  checkArgs(op, {
    kCache: { t: kCache, dtype: 'f32', shape: [B, Tmax, C], what: '(B, Tmax, C)' },
    vCache: { t: vCache, dtype: 'f32', shape: [B, Tmax, C], what: '(B, Tmax, C), like kCache' },
  });
  if (n > Tmax) fail(op, `qkv holds n = ${n} new tokens per batch row, more than the caches' Tmax = ${Tmax}`);
  return { B, C, H, Tmax, n };
}

/**
 * Dispatch records for one decoding step (n = 1) or a prefill of n tokens per batch row: append their
 * k, v at rows t..t+n−1 of the caches, then attend each query i to rows 0..t+i (see the header).
 */
export async function attentionDecode(gpu: Gpu, a: AttentionDecodeArgs, opts: { H: number }): Promise<Dispatch[]> {
  const op = 'attentionDecode';
  if (!a || typeof a !== 'object') fail(op, 'arguments { qkv, kCache, vCache, position, out } are required');
  const { B, C, H, Tmax, n } = attentionDecodeDims(a.qkv, a.kCache, a.vCache, opts);
  // no two operands in one buffer (the caches and out are written)
  checkArgs(
    op,
    {
      kCache: { t: a.kCache },
      vCache: { t: a.vCache },
      out: { t: a.out, dtype: 'f32', shape: [B * n, C], what: '(B·n, C)' },
      qkv: { t: a.qkv },
      position: { t: a.position, dtype: 'u32', shape: [1] },
    },
    { distinct: 'all' },
  );
  // the kernels read T as n, the new tokens per batch row
  const d: AttentionDims = { B, T: n, C, H, hs: C / H, N: B * n };
  const defs = { HSMAX: attentionHsMax(op, d.hs) };
  const label = `attentionDecode B${B} n${n} C${C} H${H} Tmax${Tmax}`;
  const steps: AttentionStep[] = [
    { entry: 'kv_append', bindings: [a.qkv, undefined, a.kCache, a.vCache, a.position], workgroups: [Math.ceil(C / 64), B * n, 1] },
    { entry: 'decode', bindings: [a.qkv, a.out, a.kCache, a.vCache, a.position], workgroups: [Math.ceil((B * n * H) / 64), 1, 1] },
  ];
  return attentionDispatches(gpu, 'attention-decode', label, defs, steps, attentionParams(gpu, `${op}.params`, d, Tmax));
}
