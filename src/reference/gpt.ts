// CPU reference of one whole GPT step (the gpt:L-D-H-T preset, src/nn/presets.ts), composed from
// the kernels' CPU references: embedding + positions, pre-norm blocks x + attn(ln_1(x)),
// x + mlp(ln_2(x)) (4·D GELU MLP), ln_f, the head tied to the embedding, softmax cross-entropy over
// the B·T next-byte targets (mean over tokens), and every parameter's gradient. The optimizer's
// update is applied by the caller with its own CPU reference (sgdL2Cpu / adamwCpu).
//   tokens, targets: B·T byte values (row b·T + t); params: by the model's names ('wte.weight',
//   'h0.attn.c_attn.weight', ...), dense weights (in, out).
import { attentionBackwardCpu, attentionCpu } from './attention.js';
import { addCpu, geluBackwardCpu, geluCpu } from './elementwise.js';
import { embeddingBackwardCpu, embeddingCpu } from './embedding.js';
import { layerNormBackwardCpu, layerNormCpu } from './layernorm.js';
import { softmaxCrossEntropyCpu } from './loss.js';
import { colsumCpu, matmulCpu } from './matmul.js';

export interface GptShapeCpu {
  /** Blocks, width, heads, context, windows. */
  L: number;
  D: number;
  H: number;
  T: number;
  B: number;
  /** Vocabulary (256 for the byte presets). */
  V: number;
}

export interface GptStepCpu {
  /** Mean cross-entropy over the B·T targets (nats). */
  loss: number;
  /** Correct next-byte predictions (argmax). */
  correct: number;
  grads: Map<string, Float32Array>;
  logits: Float32Array;
}

type P = Map<string, Float32Array>;

/** Forward and backward of one step on (tokens, targets). */
export function gptStepCpu(params: P, tokens: ArrayLike<number>, targets: ArrayLike<number>, s: GptShapeCpu): GptStepCpu {
  const { L, D: C, H, T, B, V } = s;
  const N = B * T;
  const p = (name: string) => {
    const v = params.get(name);
    if (!v) throw new Error(`gptStepCpu: no parameter '${name}'`);
    return v;
  };
  const dense = (x: Float32Array, name: string, inD: number, outD: number) =>
    matmulCpu(x, [N, inD], p(`${name}.weight`), [inD, outD], { bias: p(`${name}.bias`) });
  // forward, keeping what the backward reads
  const x0 = embeddingCpu(tokens, p('wte.weight'), p('wpe.weight'), C);
  type Block = {
    x: Float32Array;
    ln1: ReturnType<typeof layerNormCpu>;
    qkv: Float32Array;
    a: Float32Array;
    x1: Float32Array;
    ln2: ReturnType<typeof layerNormCpu>;
    h: Float32Array;
    g: Float32Array;
  };
  const blocks: Block[] = [];
  let x = x0;
  for (let i = 0; i < L; i++) {
    const b = `h${i}`;
    const ln1 = layerNormCpu(x, p(`${b}.ln_1.weight`), p(`${b}.ln_1.bias`), N, C);
    const qkv = dense(ln1.y, `${b}.attn.c_attn`, C, 3 * C);
    const a = attentionCpu(qkv, { B, T, C, H }).out;
    const x1 = addCpu(x, dense(a, `${b}.attn.c_proj`, C, C));
    const ln2 = layerNormCpu(x1, p(`${b}.ln_2.weight`), p(`${b}.ln_2.bias`), N, C);
    const h = dense(ln2.y, `${b}.mlp.c_fc`, C, 4 * C);
    const g = geluCpu(h);
    blocks.push({ x, ln1, qkv, a, x1, ln2, h, g });
    x = addCpu(x1, dense(g, `${b}.mlp.c_proj`, 4 * C, C));
  }
  const lnf = layerNormCpu(x, p('ln_f.weight'), p('ln_f.bias'), N, C);
  const logits = matmulCpu(lnf.y, [N, C], p('wte.weight'), [V, C], { transposeB: true });
  const ce = softmaxCrossEntropyCpu(logits, targets, N, V);

  // backward
  const grads: P = new Map();
  const acc = (name: string, g: Float32Array) => {
    const cur = grads.get(name);
    if (!cur) grads.set(name, g);
    else for (let i = 0; i < g.length; i++) cur[i] = Math.fround(cur[i]! + g[i]!);
  };
  const denseBack = (x2: Float32Array, dy: Float32Array, name: string, inD: number, outD: number): Float32Array => {
    acc(`${name}.weight`, matmulCpu(x2, [N, inD], dy, [N, outD], { transposeA: true }));
    acc(`${name}.bias`, colsumCpu(dy, N, outD));
    return matmulCpu(dy, [N, outD], p(`${name}.weight`), [inD, outD], { transposeB: true });
  };
  acc('wte.weight', matmulCpu(ce.dlogits, [N, V], lnf.y, [N, C], { transposeA: true }));
  const dlnf = matmulCpu(ce.dlogits, [N, V], p('wte.weight'), [V, C]);
  const f = layerNormBackwardCpu(x, p('ln_f.weight'), lnf.mean, lnf.rstd, dlnf, N, C);
  acc('ln_f.weight', f.dgamma);
  acc('ln_f.bias', f.dbeta);
  let dx = f.dx;
  for (let i = L - 1; i >= 0; i--) {
    const b = `h${i}`,
      k = blocks[i]!;
    // x2 = x1 + mlp(ln_2(x1)): the residual passes dx through, the branch adds its own
    const dg = denseBack(k.g, dx, `${b}.mlp.c_proj`, 4 * C, C);
    const dh = geluBackwardCpu(k.h, dg);
    const dln2 = denseBack(k.ln2.y, dh, `${b}.mlp.c_fc`, C, 4 * C);
    const l2 = layerNormBackwardCpu(k.x1, p(`${b}.ln_2.weight`), k.ln2.mean, k.ln2.rstd, dln2, N, C);
    acc(`${b}.ln_2.weight`, l2.dgamma);
    acc(`${b}.ln_2.bias`, l2.dbeta);
    const dx1 = addCpu(dx, l2.dx);
    const da = denseBack(k.a, dx1, `${b}.attn.c_proj`, C, C);
    const dqkv = attentionBackwardCpu(k.qkv, da, { B, T, C, H });
    const dln1 = denseBack(k.ln1.y, dqkv, `${b}.attn.c_attn`, C, 3 * C);
    const l1 = layerNormBackwardCpu(k.x, p(`${b}.ln_1.weight`), k.ln1.mean, k.ln1.rstd, dln1, N, C);
    acc(`${b}.ln_1.weight`, l1.dgamma);
    acc(`${b}.ln_1.bias`, l1.dbeta);
    dx = addCpu(dx1, l1.dx);
  }
  const e = embeddingBackwardCpu(tokens, dx, V, C, T);
  acc('wte.weight', e.dtable);
  acc('wpe.weight', e.dpos);
  return { loss: ce.lossSum / N, correct: ce.correct, grads, logits };
}
