// slimgpu vs TF.js on a GPT training step (issue 11 item 7): the gpt:L-D-H-T preset built from
// TF.js ops, on slimgpu's own GPUDevice (the 'webgpu-shared' backend of bench/vs-tfjs.ts), under the
// same polling. Browser-safe (no Node imports).
//
// The TF.js model is slimgpu's gptSpec written out op by op, on the same initial weights (the
// arena's values, same (in, out) layouts) and the same batch (B windows of T + 1 bytes):
//   x = wte[tokens] + wpe                                  tf.gather + add
//   L × { x += c_proj(attn(c_attn(ln_1(x))))               layer norm (moments, eps 1e-5), matMul,
//         x += mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))) }         causal softmax(q·kᵀ/√hs + mask)·v, gelu
//   logits = ln_f(x) · wteᵀ (tied head)                    matMul(transposeB)
//   loss = mean over B·T rows of softmax cross-entropy     tf.losses.softmaxCrossEntropy
// then the optimizer update of slimgpu's plan (AdamW with bias correction and decoupled weight
// decay on the prunable weights only, when the plan has it; SGD + momentum otherwise).
//
// Validation before timing: the first step's loss equal within 1e-4 (relative), and every
// parameter's update (w1 − w0) agreeing within a stated tolerance. Timing: as the other cases,
// interleaved medians of k steps per sample; the row reports tokens/s (B·T per step) and the ratio.
//
// Status: skeleton (the case builder is not written yet; runVsTfjs does not call it).
import type { Gpu } from '../src/gpu/device.js';

export interface GptVsCase {
  /** gpt:L-D-H-T */
  model: string;
  /** Windows per step (tokens per step = batch · T). */
  batch: number;
}

/** The GPT cases of the Node preset. */
export const GPT_NODE_CASES: GptVsCase[] = [{ model: 'gpt:4-128-4-128', batch: 8 }];

/** Builds the slimgpu and TF.js sides of one GPT step case (not written yet). */
export async function gptStepCase(gpu: Gpu, c: GptVsCase): Promise<never> {
  void gpu;
  throw new Error(`vs-tfjs-gpt: the GPT case (${c.model}, batch ${c.batch}) is not written yet`);
}
