// The op API for the transformer kernels (merged into `ops` by src/ops.ts): each op validates,
// allocates its outputs (and scratch), submits, waits and frees the scratch.
import { run } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import * as adw from '../kernels/adamw.js';
import * as emb from '../kernels/embedding.js';
import * as ew from '../kernels/elementwise.js';
import * as ln from '../kernels/layernorm.js';
import { checkArgs, fail, positiveInt } from '../kernels/args.js';
import { runOwned, runPlan } from './run-owned.js';

export const transformerOps = {
  /** Global gradient norm on the GPU: Σ (g·mask)² and its square root. */
  async gradNorm(g: Tensor, opts: { mask?: Tensor } = {}): Promise<{ sumSq: number; norm: number }> {
    const gpu = g.gpu;
    const norm = adw.createNormBuffer(gpu);
    try {
      await run(gpu, await adw.gradNorm(gpu, g, norm, opts));
      const r = await norm.read();
      return { sumSq: r[adw.GRAD_NORM.sumSq]!, norm: r[adw.GRAD_NORM.norm]! };
    } finally {
      norm.dispose();
    }
  },
  /**
   * One fused AdamW step in place over (w, m, v) (torch.optim.AdamW; bias corrections for
   * hyper.step; decay on [0, decayEnd)); with clip > 0 the gradient is first scaled by
   * min(1, clip/(‖g·mask‖ + 1e-6)), the norm computed on the GPU in the same submission.
   */
  async adamw(params: adw.AdamWParams, hyper: adw.AdamWHyper & { decayEnd?: number }): Promise<void> {
    adw.adamwCheck(params, undefined, hyper);
    const gpu = params.w.gpu;
    const h = adw.createAdamWHyper(gpu, hyper);
    const clip = (hyper.clip ?? 0) > 0;
    const norm = clip ? adw.createNormBuffer(gpu) : undefined;
    try {
      const recs = norm ? await adw.gradNorm(gpu, params.g, norm, { mask: params.mask }) : [];
      recs.push(...(await adw.adamw(gpu, params, h, { decayEnd: hyper.decayEnd, norm })));
      await run(gpu, recs);
    } finally {
      h.dispose();
      norm?.dispose();
    }
  },
  /** GPT-2's GELU (tanh approximation) as a new tensor. */
  async gelu(x: Tensor): Promise<Tensor> {
    const y = createTensor(x.gpu, x.shape, undefined, { label: 'gelu.y' });
    await runOwned(x.gpu, () => ew.gelu(x.gpu, x, y), [y]);
    return y;
  },
  /** dx = dy · gelu'(x), x the gelu input. */
  async geluBackward(x: Tensor, dy: Tensor): Promise<Tensor> {
    const dx = createTensor(dy.gpu, dy.shape, undefined, { label: 'geluBackward.dx' });
    await runOwned(dy.gpu, () => ew.geluBackward(dy.gpu, x, dy, dx), [dx]);
    return dx;
  },
  /** x + y as a new tensor (same element count; the shape of x). For x += y in place use kernels.add(gpu, x, y, x). */
  async add(x: Tensor, y: Tensor): Promise<Tensor> {
    const out = createTensor(x.gpu, x.shape, undefined, { label: 'add.out' });
    await runOwned(x.gpu, () => ew.add(x.gpu, x, y, out), [out]);
    return out;
  },
  /** Token (+ position) embedding: tokens (N) u32, table (V, C), pos (T, C) → (N, C) = table[tokens[n]] + pos[n mod T]. */
  async embedding(tokens: Tensor, table: Tensor, pos?: Tensor): Promise<Tensor> {
    const { N, C } = emb.embeddingDims(tokens, table, pos);
    const out = createTensor(table.gpu, [N, C], undefined, { label: 'embedding.out' });
    await runOwned(table.gpu, () => emb.embedding(table.gpu, tokens, table, pos, out), [out]);
    return out;
  },
  /** Deterministic embedding backward: tokens (N), dout (N, C) → dtable (V, C) and, with opts.T, dpos (T, C). */
  async embeddingBackward(tokens: Tensor, dout: Tensor, opts: { V: number; T?: number }): Promise<{ dtable: Tensor; dpos?: Tensor }> {
    const op = 'embeddingBackward';
    if (!opts || typeof opts !== 'object') fail(op, 'opts must be an object { V, T? }');
    positiveInt(op, 'V', opts.V);
    if (opts.T !== undefined) positiveInt(op, 'T', opts.T);
    checkArgs(op, { dout: { t: dout, rank: 2, what: '(N, C)' } });
    const gpu = dout.gpu,
      C = dout.shape[1]!;
    const dtable = createTensor(gpu, [opts.V, C], undefined, { label: 'embeddingBackward.dtable' });
    const dpos = opts.T ? createTensor(gpu, [opts.T, C], undefined, { label: 'embeddingBackward.dpos' }) : undefined;
    const outs = dpos ? [dtable, dpos] : [dtable];
    await runPlan(gpu, () => emb.embeddingBackward(gpu, { tokens, dout, dtable, dpos }), outs);
    return { dtable, dpos };
  },
  /** Layer norm over the last dimension: x (N, C), gamma, beta (C) → y (N, C), mean, rstd (N). */
  async layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, opts: ln.LayerNormOptions = {}): Promise<{ y: Tensor; mean: Tensor; rstd: Tensor }> {
    const { N, C } = ln.layerNormDims(x, gamma, beta);
    const gpu = x.gpu;
    const y = createTensor(gpu, [N, C], undefined, { label: 'layerNorm.y' });
    const mean = createTensor(gpu, [N], undefined, { label: 'layerNorm.mean' });
    const rstd = createTensor(gpu, [N], undefined, { label: 'layerNorm.rstd' });
    await runOwned(gpu, () => ln.layerNorm(gpu, x, gamma, beta, y, mean, rstd, opts), [y, mean, rstd]);
    return { y, mean, rstd };
  },
  /** Layer norm backward: x, dy (N, C), gamma (C), mean, rstd (N) → dx (N, C), dgamma, dbeta (C). */
  async layerNormBackward(x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor, dy: Tensor): Promise<{ dx: Tensor; dgamma: Tensor; dbeta: Tensor }> {
    const { N, C } = ln.layerNormDims(x, gamma, undefined, 'layerNormBackward');
    const gpu = x.gpu;
    const dx = createTensor(gpu, [N, C], undefined, { label: 'layerNormBackward.dx' });
    const dgamma = createTensor(gpu, [C], undefined, { label: 'layerNormBackward.dgamma' });
    const dbeta = createTensor(gpu, [C], undefined, { label: 'layerNormBackward.dbeta' });
    await runPlan(gpu, () => ln.layerNormBackward(gpu, { x, gamma, mean, rstd, dy, dx, dgamma, dbeta }), [dx, dgamma, dbeta]);
    return { dx, dgamma, dbeta };
  },
};
