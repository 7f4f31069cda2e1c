// slimgpu vs TF.js on a whole GPT training step (issue 11 item 7): the gpt:L-D-H-T preset built
// from TF.js ops, on slimgpu's own GPUDevice (the 'webgpu-shared' backend of core.ts),
// under the same polling. Browser-safe (no Node imports).
//
// The TF.js model is slimgpu's gptSpec written out op by op, with the arena's initial weights (same
// (in, out) layouts, one tf.Variable per arena parameter) and the same batch: B windows of T + 1
// bytes of a seeded pseudo-text; slimgpu gathers them on the GPU (a fixed permutation, so every
// step sees the same windows), TF.js gets the same tokens and targets as tensors made once.
//   x = wte[tokens] + wpe                                  tf.gather + add
//   L × { x += c_proj(attn(c_attn(ln_1(x))))               layer norm (tf.moments, eps 1e-5),
//         x += mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))) }         tf.fused.matMul (+bias), causal softmax(
//                                                            q·kᵀ/√hs + mask)·v per head (batched
//                                                            matMul), GELU (tanh form, as GPT-2)
//   logits = ln_f(x) · wteᵀ (tied head)                    matMul(transposeB)
//   loss = mean over B·T rows of softmax cross-entropy     tf.losses.softmaxCrossEntropy
// then slimgpu's update, written with TF.js: AdamW (tf.train.adam with β1 0.9, β2 0.95, ε 1e-8,
// plus the decoupled weight decay w ← w·(1 − lr·wd) on the prunable weights only: tfjs-core has no
// AdamW) after global-norm clipping (scale min(1, clip/(‖g‖ + 1e-6))) — the step profile-step
// measures. Where slimgpu's plan has no AdamW yet, both sides use SGD + momentum, and the row says so.
//
// Validation before timing (one step from the same weights on the same batch): the loss equal within
// 1e-4 relative; every parameter's gradient within 2e-3·max|g| + 2e-2·|g|; every update (w1 − w0):
// SGD within the same tolerance; AdamW within lr·(min(2, 3·|Δg|/(|g| + ε)) + 1e-3) per element, i.e.
// what the measured gradient difference allows (Adam's first step is ≈ −lr·sign(g): gradients that
// agree to 1e-6 can still give opposite updates where g itself is ~1e-6).
// Timing: interleaved medians of k steps per sample (vs-tfjs.ts); tokens/s = B·T / step time.
import * as tf from '@tensorflow/tfjs-core';
import type { Gpu } from '../../src/gpu/device.js';
import { encodeDispatches } from '../../src/gpu/dispatch.js';
import { readBuffer } from '../../src/gpu/tensor.js';
import { LOSS_STATS } from '../../src/kernels/loss.js';
import { modelFromName } from '../../src/nn/model.js';
import { hyperRow, type OptimizerKind } from '../../src/nn/optimizer.js';
import { StepPlan, TABLE_CAP, type PlanOptions } from '../../src/nn/plan.js';
import { GPT_VOCAB, parseGptName } from '../../src/nn/presets.js';
import { Network, uploadText } from '../../src/nn/network.js';
import { checkClose, MismatchError } from '../util.js';
import { maxAbs, runSlim, worstRel, type Case } from './core.js';

export interface GptVsCase {
  /** gpt:L-D-H-T */
  model: string;
  /** Windows per step (tokens per step = batch · T). */
  batch: number;
}

/** slimgpu's GPT training defaults (slimgpu train --model gpt:..., profile-step): AdamW + clip 1. */
export const GPT_HYPER = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1, sgdLr: 0.05, momentum: 0.9 };

const GELU_K0 = Math.sqrt(2 / Math.PI),
  GELU_K1 = 0.044715;

/** Seeded pseudo-text (letters, spaces, newlines). */
function pseudoText(n: number, seed: number): Uint8Array {
  let x = seed >>> 0;
  return Uint8Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const r = x >>> 24;
    return r < 40 ? 32 : r < 44 ? 10 : 97 + (r % 26);
  });
}

/** AdamW in this checkout's plan? (it lands from the gpt branch; until then hyperRow refuses it) */
export function planHasAdamw(): boolean {
  try {
    hyperRow('adamw', { momentum: 0, l2: 0 }, 0, 1e-3);
    return true;
  } catch {
    return false;
  }
}

let variableCount = 0;

/** The GPT step case (validated, then timed by runVsTfjs). */
export async function gptCases(gpu: Gpu, c: GptVsCase, optimizer: OptimizerKind = planHasAdamw() ? 'adamw' : 'sgd'): Promise<Case[]> {
  const cfg = parseGptName(c.model);
  if (!cfg) throw new Error(`vs-tfjs-gpt: model must be gpt:L-D-H-T, got '${c.model}'`);
  const { L, D: C, H, T } = cfg;
  const B = c.batch,
    N = B * T,
    hs = C / H;
  const h = GPT_HYPER;
  const adamw = optimizer === 'adamw';
  const lr = adamw ? h.lr : h.sgdLr;

  // slimgpu: the preset's network, the text, a plan whose gather reads the same B windows every step
  const spec = modelFromName(c.model, { input: [T], numClasses: GPT_VOCAB });
  const net = Network.create(gpu, spec, 42);
  const text = pseudoText(B * (T + 1) + T, 11);
  const data = uploadText(gpu, { kind: 'text', name: 'vs-gpt', bytes: text }, T, 'train');
  if (adamw) net.arena.ensureVariance();
  const po: PlanOptions & { clip?: boolean } = { optimizer, clip: adamw };
  let plan: StepPlan;
  try {
    plan = await StepPlan.build(gpu, spec, net.layers, net.arena, data, B, po);
  } catch (e) {
    data.dispose();
    net.dispose();
    throw e;
  }
  const p = plan;
  p.setStep(0, 0);
  p.setPermutation(Uint32Array.from({ length: data.n }, (_, i) => (i % B) * (T + 1)));
  // AdamW rows carry the bias corrections of step t; the ring wraps after TABLE_CAP steps (timing only)
  p.setHyperRows(
    0,
    Array.from({ length: TABLE_CAP }, (_, t) =>
      adamw
        ? hyperRow('adamw', { momentum: 0, l2: h.weightDecay, beta1: h.beta1, beta2: h.beta2, eps: h.eps, clip: h.clip }, t, lr)
        : hyperRow('sgd', { momentum: h.momentum, l2: 0 }, t, lr),
    ),
  );
  const init = await net.arena.read('weights');

  // TF.js: one variable per arena parameter, the same tokens and targets
  const tokensArr = new Int32Array(N),
    targetsArr = new Int32Array(N);
  for (let j = 0; j < B; j++)
    for (let t = 0; t < T; t++) {
      tokensArr[j * T + t] = text[j * (T + 1) + t]!;
      targetsArr[j * T + t] = text[j * (T + 1) + t + 1]!;
    }
  const tokens = tf.tensor1d(tokensArr, 'int32');
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(targetsArr, 'int32'), GPT_VOCAB));
  const mask = tf.tidy(() =>
    tf.tensor2d(
      Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)),
      [T, T],
    ),
  );
  const vars = new Map<string, tf.Variable>();
  for (const v of net.arena.views.values()) {
    vars.set(
      v.name,
      tf.tidy(() => tf.variable(tf.tensor(init.get(v.name)!, v.shape), true, `vs.gpt.${v.name}.${++variableCount}`)),
    );
  }
  const decayed = [...net.arena.views.values()].filter((v) => v.prunable).map((v) => vars.get(v.name)!);
  const W = (name: string) => {
    const v = vars.get(name);
    if (!v) throw new Error(`vs-tfjs-gpt: no parameter '${name}' in the arena`);
    return v;
  };
  const ln = (x: tf.Tensor2D, name: string) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), W(`${name}.weight`)), W(`${name}.bias`)) as tf.Tensor2D;
  };
  const dense = (x: tf.Tensor2D, name: string) => tf.fused.matMul({ a: x, b: W(`${name}.weight`) as tf.Tensor2D, bias: W(`${name}.bias`) });
  const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, hs]), [0, 2, 1, 3]);
  const lossFn = (): tf.Scalar => {
    let x = tf.reshape(tf.add(tf.reshape(tf.gather(W('wte.weight'), tokens), [B, T, C]), W('wpe.weight')), [N, C]) as tf.Tensor2D;
    for (let i = 0; i < L; i++) {
      const qkv = dense(ln(x, `h${i}.ln_1`), `h${i}.attn.c_attn`);
      const [q, k, v] = tf.split(qkv, 3, 1).map(heads) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), mask));
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [N, C]) as tf.Tensor2D;
      x = tf.add(x, dense(y, `h${i}.attn.c_proj`));
      const f = dense(ln(x, `h${i}.ln_2`), `h${i}.mlp.c_fc`);
      const g = tf.mul(tf.mul(f, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(f, tf.mul(tf.mul(tf.mul(f, f), f), GELU_K1)), GELU_K0)))) as tf.Tensor2D;
      x = tf.add(x, dense(g, `h${i}.mlp.c_proj`));
    }
    const logits = tf.matMul(ln(x, 'ln_f'), W('wte.weight') as tf.Tensor2D, false, true);
    return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
  };
  const opt = adamw ? tf.train.adam(lr, h.beta1, h.beta2, h.eps) : tf.train.momentum(lr, h.momentum);
  const varList = [...vars.values()];
  let lastLoss = NaN;
  /** One TF.js step; `keep` receives the raw gradients (by arena name) when given. */
  const tfOnce = (keep?: Map<string, tf.Tensor>): tf.Scalar =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossFn, varList);
      if (keep) for (const [name, v] of vars) keep.set(name, tf.keep(grads[v.name]!));
      let gs = grads;
      if (adamw) {
        // Σ‖g‖² by a chain of adds: tf.addN over every parameter exceeds WebGPU's 16 storage buffers per stage
        const norm = tf.sqrt(
          Object.values(grads)
            .map((g) => tf.sum(tf.square(g)))
            .reduce((a, b) => tf.add(a, b)),
        );
        const scale = tf.minimum(1, tf.div(h.clip, tf.add(norm, 1e-6)));
        gs = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)]));
        for (const v of decayed) v.assign(tf.mul(v, Math.fround(1 - Math.fround(lr * h.weightDecay))));
      }
      opt.applyGradients(Object.entries(gs).map(([name, tensor]) => ({ name, tensor })));
      return value;
    });
  const tfStep = async (k: number) => {
    let cost: tf.Scalar | undefined;
    for (let i = 0; i < k; i++) {
      cost?.dispose();
      cost = tfOnce();
    }
    lastLoss = (await cost!.data())[0]!;
    cost!.dispose();
  };
  const flops = 3 * (2 * N * (L * 12 * C * C + C * GPT_VOCAB) + L * 4 * B * T * T * C);
  const label = adamw ? `AdamW + clip ${h.clip}` : 'SGD + momentum (AdamW not in the plan yet)';
  const gptCase: Case = {
    group: 'gpt',
    name: `${c.model} step, ${label}`,
    size: `batch ${B} (${N} tokens)`,
    flops,
    tokens: N,
    slim: { run: (k) => runSlim(gpu, p.train, k, `vs.gpt ${c.model}`) },
    tf: { run: tfStep },
    async validate() {
      const enc = gpu.device.createCommandEncoder({ label: 'vs.gpt.validate' });
      enc.clearBuffer(p.stats.buffer);
      encodeDispatches(enc, p.train, 'vs.gpt.validate');
      gpu.device.queue.submit([enc.finish()]);
      const stats = new Float32Array(await readBuffer(gpu, p.stats.buffer, 0, LOSS_STATS.size * 4));
      const slimLoss = stats[LOSS_STATS.lossSum]! / stats[LOSS_STATS.count]!;
      const kept = new Map<string, tf.Tensor>();
      const cost = tfOnce(kept);
      lastLoss = (await cost.data())[0]!;
      cost.dispose();
      const tfGrads = new Map<string, Float32Array>();
      for (const [name, g] of kept) {
        tfGrads.set(name, (await g.data()) as Float32Array);
        g.dispose();
      }
      const relLoss = Math.abs(slimLoss - lastLoss) / Math.abs(lastLoss);
      if (!(relLoss < 1e-4)) throw new MismatchError(`${c.model}: first-step loss slimgpu ${slimLoss} vs TF.js ${lastLoss}`);
      const mineW = await net.arena.read('weights'),
        mineG = await net.arena.read('grads');
      let worstG = 0,
        worstU = 0;
      for (const [name, v] of vars) {
        const gt = tfGrads.get(name)!,
          gs = mineG.get(name)!;
        checkClose(`${c.model} ${name} gradient (slimgpu vs TF.js)`, gs, gt, 2e-3 * maxAbs(gt) + 1e-7, 2e-2);
        worstG = Math.max(worstG, worstRel(gs, gt));
        const i0 = init.get(name)!,
          wt = (await v.data()) as Float32Array,
          ws = mineW.get(name)!;
        const du = Float32Array.from(ws, (x, i) => x - i0[i]!),
          dt = Float32Array.from(wt, (x, i) => x - i0[i]!);
        if (adamw) {
          let bad = -1;
          for (let i = 0; i < du.length && bad < 0; i++) {
            const bound = lr * (Math.min(2, (3 * Math.abs(gs[i]! - gt[i]!)) / (Math.abs(gt[i]!) + h.eps)) + 1e-3);
            if (!(Math.abs(du[i]! - dt[i]!) <= bound)) bad = i;
          }
          if (bad >= 0)
            throw new MismatchError(
              `${c.model} ${name} AdamW update [${bad}]: slimgpu ${du[bad]} vs TF.js ${dt[bad]} (gradients ${gs[bad]} vs ${gt[bad]})`,
            );
        } else {
          checkClose(`${c.model} ${name} update (slimgpu vs TF.js)`, du, dt, 2e-3 * maxAbs(dt) + 1e-7, 2e-2);
        }
        worstU = Math.max(worstU, worstRel(du, dt));
      }
      return (
        `loss ${slimLoss.toFixed(5)} vs ${lastLoss.toFixed(5)}; gradients agree (max |Δ|/max ${worstG.toExponential(1)}); ` +
        `step-1 ${adamw ? 'AdamW' : 'SGD'} updates agree (max |Δ|/max ${worstU.toExponential(1)})`
      );
    },
    dispose() {
      p.destroy();
      data.dispose();
      net.dispose();
      tokens.dispose();
      onehot.dispose();
      mask.dispose();
      opt.dispose();
      // tfjs-core 4.22: optimizers keep their learning-rate scalar (`c`) past dispose()
      (opt as unknown as { c?: tf.Tensor }).c?.dispose();
      for (const v of varList) v.dispose();
    },
  };
  return [gptCase];
}
