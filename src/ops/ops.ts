// The op API: run a kernel on tensors without building a model.
//   const gpu = await createGpu();
//   const a = tensor(gpu, data, [M, K]);  const c = await ops.matmul(a, b, { transposeB: true });
//   const values = await c.read();
// Each op validates, allocates its output, submits and waits; for many ops in one submission use
// the kernel wrappers in src/kernels (they return Dispatch records) with encodeDispatches().
import type { Gpu } from '../gpu/device.js';
import { run } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import * as mm from '../kernels/matmul.js';
import * as cv from '../kernels/conv2d.js';
import * as pl from '../kernels/pool.js';
import * as lossK from '../kernels/loss.js';
import * as sgdK from '../kernels/sgd-l2.js';
import * as ew from '../kernels/elementwise.js';
import * as tk from '../kernels/topk-mask.js';
import { transformerOps } from './ops-transformer.js';
import * as at from '../kernels/attention.js';
import * as atd from '../kernels/attention-decode.js';
import { fail } from '../kernels/args.js';
import { runOwned } from './run-owned.js';

export function tensor(
  gpu: Gpu,
  data: ArrayLike<number> | undefined,
  shape: readonly number[],
  opts: { label?: string; dtype?: 'f32' | 'u32' | 'i32' } = {},
): Tensor {
  return createTensor(gpu, shape, data, opts);
}

export function zeros(gpu: Gpu, shape: readonly number[], label?: string): Tensor {
  return createTensor(gpu, shape, undefined, { label });
}

export const ops = {
  /** Softmax cross-entropy forward+backward: logits (B, C), labels (B) u32 → dlogits (B, C) = (softmax − onehot)/B, mean loss, accuracy; a label ≥ C gives loss 0, a zero gradient row, counts as wrong and in invalidLabels. */
  async softmaxCrossEntropy(logits: Tensor, labels: Tensor): Promise<{ dlogits: Tensor; loss: number; accuracy: number; invalidLabels: number }> {
    const { B, C } = lossK.softmaxCrossEntropyDims(logits, labels);
    const gpu = logits.gpu;
    const dlogits = createTensor(gpu, [B, C], undefined, { label: 'softmaxCrossEntropy.dlogits' });
    const stats = lossK.createStats(gpu, 'softmaxCrossEntropy.stats');
    try {
      await runOwned(gpu, () => lossK.softmaxCrossEntropy(gpu, logits, labels, dlogits, stats), [dlogits]);
      const s = await stats.read();
      return { dlogits, loss: s[0]! / B, accuracy: s[1]! / B, invalidLabels: s[3]! };
    } finally {
      stats.dispose();
    }
  },
  /** Mean squared error forward+backward: pred, target (B, ...) → dpred = 2(pred − target)/numel and loss = mean over all elements. */
  async mse(pred: Tensor, target: Tensor): Promise<{ dpred: Tensor; loss: number }> {
    const { B } = lossK.mseDims(pred, target);
    const gpu = pred.gpu;
    const dpred = createTensor(gpu, pred.shape, undefined, { label: 'mse.dpred' });
    const stats = lossK.createStats(gpu, 'mse.stats');
    try {
      await runOwned(gpu, () => lossK.mse(gpu, pred, target, dpred, stats), [dpred]);
      const s = await stats.read();
      return { dpred, loss: s[0]! / B };
    } finally {
      stats.dispose();
    }
  },
  /** One fused SGD step in place: g' = g + l2·w (i < decayEnd, default all), v = momentum·v + g', w = (w − lr·v)·mask. */
  async sgdL2(params: sgdK.SgdParams, hyper: sgdK.SgdHyper & sgdK.SgdOptions): Promise<void> {
    sgdK.sgdL2Check(params, undefined, hyper);
    const gpu = params.w.gpu;
    const h = createTensor(gpu, [sgdK.SGD_HYPER.size], sgdK.sgdHyperValues(hyper), { label: 'sgdL2.hyper' });
    try {
      await run(gpu, await sgdK.sgdL2(gpu, params, h, { decayEnd: hyper.decayEnd }));
    } finally {
      h.dispose();
    }
  },
  /** y = max(x, 0). */
  async relu(x: Tensor): Promise<Tensor> {
    const y = createTensor(x.gpu, x.shape, undefined, { label: 'relu.y' });
    await runOwned(x.gpu, () => ew.relu(x.gpu, x, y), [y]);
    return y;
  },
  /** dx = dy · (y > 0). */
  async reluBackward(y: Tensor, dy: Tensor): Promise<Tensor> {
    const dx = createTensor(dy.gpu, dy.shape, undefined, { label: 'reluBackward.dx' });
    await runOwned(dy.gpu, () => ew.reluBackward(dy.gpu, y, dy, dx), [dx]);
    return dx;
  },
  /** y = 1/(1 + exp(−x)). */
  async sigmoid(x: Tensor): Promise<Tensor> {
    const y = createTensor(x.gpu, x.shape, undefined, { label: 'sigmoid.y' });
    await runOwned(x.gpu, () => ew.sigmoid(x.gpu, x, y), [y]);
    return y;
  },
  /** dx = dy · y(1 − y), y the sigmoid output. */
  async sigmoidBackward(y: Tensor, dy: Tensor): Promise<Tensor> {
    const dx = createTensor(dy.gpu, dy.shape, undefined, { label: 'sigmoidBackward.dx' });
    await runOwned(dy.gpu, () => ew.sigmoidBackward(dy.gpu, y, dy, dx), [dx]);
    return dx;
  },
  /** y = tanh(x). */
  async tanh(x: Tensor): Promise<Tensor> {
    const y = createTensor(x.gpu, x.shape, undefined, { label: 'tanh.y' });
    await runOwned(x.gpu, () => ew.tanh(x.gpu, x, y), [y]);
    return y;
  },
  /** dx = dy · (1 − y²), y the tanh output. */
  async tanhBackward(y: Tensor, dy: Tensor): Promise<Tensor> {
    const dx = createTensor(dy.gpu, dy.shape, undefined, { label: 'tanhBackward.dx' });
    await runOwned(dy.gpu, () => ew.tanhBackward(dy.gpu, y, dy, dx), [dx]);
    return dx;
  },
  /** out[:] = value, in place; returns out. */
  async fill(out: Tensor, value: number): Promise<Tensor> {
    await run(out.gpu, await ew.fill(out.gpu, out, value));
    return out;
  },
  /** a · x as a new tensor. */
  async scale(x: Tensor, a: number): Promise<Tensor> {
    const out = createTensor(x.gpu, x.shape, undefined, { label: 'scale.out' });
    await runOwned(x.gpu, () => ew.scale(x.gpu, x, a, out), [out]);
    return out;
  },
  /** y += a · x in place; returns y. */
  async axpy(a: number, x: Tensor, y: Tensor): Promise<Tensor> {
    await run(y.gpu, await ew.axpy(y.gpu, a, x, y));
    return y;
  },
  /** A copy of x (same shape). */
  async copy(x: Tensor): Promise<Tensor> {
    const out = createTensor(x.gpu, x.shape, undefined, { label: 'copy.out' });
    await runOwned(x.gpu, () => ew.copy(x.gpu, x, out), [out]);
    return out;
  },
  /** Mask (f32 0/1, layout of w) keeping exactly round((1 − sparsity)·n) largest |w| over the views (default all; n = Σ lengths); ties lowest index first; outside the views the mask is untouched (0 when new). */
  async topkMask(w: Tensor, sparsity: number, opts: { views?: readonly tk.TopkView[]; mask?: Tensor } = {}): Promise<Tensor> {
    const { k } = tk.topkCount(w, sparsity, opts.views);
    const mask = opts.mask ?? createTensor(w.gpu, w.shape, undefined, { label: 'topkMask.mask' });
    const kt = createTensor(w.gpu, [1], [k], { dtype: 'u32', label: 'topkMask.k' });
    let scratch: Tensor[] = [];
    try {
      const plan = await tk.topkMask(w.gpu, { weights: w, mask, views: opts.views, k: kt });
      scratch = plan.scratch;
      await run(w.gpu, plan.dispatches);
    } catch (e) {
      if (!opts.mask) mask.dispose();
      throw e;
    } finally {
      kt.dispose();
      for (const s of scratch) s.dispose();
    }
    return mask;
  },
  /** Causal multi-head self-attention: qkv (B·T, 3C) → out (B·T, C), and what the backward needs (`saved`, see kernels.attentionSavedShape). */
  async attention(qkv: Tensor, opts: at.AttentionOptions): Promise<{ out: Tensor; saved: Tensor; variant: at.AttentionVariant }> {
    const d = at.attentionDims(qkv, opts);
    const variant = at.attentionVariant(opts.variant);
    const out = createTensor(qkv.gpu, [d.N, d.C], undefined, { label: 'attention.out' });
    const saved = createTensor(qkv.gpu, at.attentionSavedShape(d, variant), undefined, { label: 'attention.saved' });
    await runOwned(qkv.gpu, () => at.attention(qkv.gpu, qkv, out, saved, { ...opts, variant }), [out, saved]);
    return { out, saved, variant };
  },
  /** Gradient of attention: dout (B·T, C) → dqkv (B·T, 3C), from the forward's qkv, out and saved (same options). */
  async attentionBackward(qkv: Tensor, out: Tensor, saved: Tensor, dout: Tensor, opts: at.AttentionOptions): Promise<Tensor> {
    const d = at.attentionDims(qkv, opts, 'attentionBackward');
    const variant = at.attentionVariant(opts.variant);
    const dqkv = createTensor(qkv.gpu, [d.N, 3 * d.C], undefined, { label: 'attentionBackward.dqkv' });
    const scratch = createTensor(qkv.gpu, at.attentionScratchShape(d, variant), undefined, { label: 'attentionBackward.scratch' });
    try {
      await runOwned(qkv.gpu, () => at.attentionBackward(qkv.gpu, { qkv, out, saved, dout, scratch, dqkv }, { ...opts, variant }), [dqkv]);
    } finally {
      scratch.dispose();
    }
    return dqkv;
  },
  /**
   * One decoding step in place: writes the k, v of qkv (B·n, 3C; n = 1 for a step, n > 1 for a
   * prefill) at rows position..position+n−1 of kCache, vCache (B, Tmax, C); returns out (B·n, C), query
   * i of each batch row attending to rows 0..position+i.
   */
  async attentionDecode(qkv: Tensor, kCache: Tensor, vCache: Tensor, position: number, opts: { H: number }): Promise<Tensor> {
    const gpu = qkv.gpu;
    const { B, C, Tmax, n } = atd.attentionDecodeDims(qkv, kCache, vCache, opts);
    if (!Number.isInteger(position) || position < 0 || position + n > Tmax) {
      fail(
        'attentionDecode',
        `position must be an integer in [0, ${Tmax - n}] (Tmax = kCache.shape[1] = ${Tmax}, n = ${n} new tokens), got ${position}`,
      );
    }
    const out = createTensor(gpu, [B * n, C], undefined, { label: 'attentionDecode.out' });
    const pos = createTensor(gpu, [1], [position], { dtype: 'u32', label: 'attentionDecode.position' });
    try {
      await runOwned(gpu, () => atd.attentionDecode(gpu, { qkv, kCache, vCache, position: pos, out }, opts), [out]);
    } finally {
      pos.dispose();
    }
    return out;
  },
  /** op(a)·op(b) [+ bias] [→ relu]; a (M,K) or (K,M), b (K,N) or (N,K) → (M,N). */
  async matmul(a: Tensor, b: Tensor, opts: mm.MatmulOptions = {}): Promise<Tensor> {
    const { M, N } = mm.matmulDims(a, b, opts);
    const out = createTensor(a.gpu, [M, N], undefined, { label: 'matmul.out' });
    await runOwned(a.gpu, () => mm.matmul(a.gpu, a, b, out, opts), [out]);
    return out;
  },
  /** Column sums of dy (M, N) → (N): the bias gradient. */
  async colsum(dy: Tensor): Promise<Tensor> {
    const out = createTensor(dy.gpu, [dy.shape[1] ?? 1], undefined, { label: 'colsum.out' });
    await runOwned(dy.gpu, () => mm.colsum(dy.gpu, dy, out), [out]);
    return out;
  },
  /** 2-D convolution, NCHW: x (N,C,H,W), w (OC,C,KH,KW) [+ bias (OC)] [→ relu] → (N,OC,OH,OW). */
  async conv2d(x: Tensor, w: Tensor, opts: cv.Conv2dOptions = {}): Promise<Tensor> {
    const d = cv.conv2dDims(x, w, opts);
    const out = createTensor(x.gpu, [d.N, d.OC, d.OH, d.OW], undefined, { label: 'conv2d.out' });
    await runOwned(x.gpu, () => cv.conv2d(x.gpu, x, w, out, opts), [out]);
    return out;
  },
  /** Input gradient of conv2d: dy (N,OC,OH,OW), w (OC,C,KH,KW) → dx of shape inputShape (N,C,H,W). */
  async conv2dBackwardData(dy: Tensor, w: Tensor, opts: cv.Conv2dGeometryOptions & { inputShape: readonly number[] }): Promise<Tensor> {
    const d = cv.conv2dBackwardDataDims(dy, w, opts?.inputShape, opts);
    const out = createTensor(dy.gpu, [d.N, d.C, d.H, d.W], undefined, { label: 'conv2d.dx' });
    await runOwned(dy.gpu, () => cv.conv2dBackwardData(dy.gpu, dy, w, out, opts), [out]);
    return out;
  },
  /** Weight gradient of conv2d: x (N,C,H,W), dy (N,OC,OH,OW) → dw (OC,C,KH,KW), summed over batch and positions. */
  async conv2dBackwardFilter(x: Tensor, dy: Tensor, opts: cv.Conv2dFilterGradOptions): Promise<Tensor> {
    const shape = cv.conv2dWeightShape(x, dy, opts ?? {});
    cv.conv2dBackwardFilterDims(x, dy, shape, opts);
    const out = createTensor(x.gpu, shape, undefined, { label: 'conv2d.dw' });
    await runOwned(x.gpu, () => cv.conv2dBackwardFilter(x.gpu, x, dy, out, opts), [out]);
    return out;
  },
  /** Bias gradient of conv2d: dy (N,OC,OH,OW) → db (OC). */
  async conv2dBiasGrad(dy: Tensor): Promise<Tensor> {
    const out = createTensor(dy.gpu, [dy.shape.length === 4 ? dy.shape[1]! : 1], undefined, { label: 'conv2d.db' });
    await runOwned(dy.gpu, () => cv.conv2dBiasGrad(dy.gpu, dy, out), [out]);
    return out;
  },
  /** Max pooling, NCHW: x (N,C,H,W) → y and argmax (N,C,OH,OW); argmax = ih·W + iw inside the (n,c) plane. */
  async maxPool2d(x: Tensor, opts: pl.MaxPool2dOptions = {}): Promise<{ y: Tensor; argmax: Tensor<'u32'> }> {
    const d = pl.maxPool2dDims(x, opts);
    const y = createTensor(x.gpu, [d.N, d.C, d.OH, d.OW], undefined, { label: 'maxPool2d.y' });
    const argmax = createTensor(x.gpu, [d.N, d.C, d.OH, d.OW], undefined, { label: 'maxPool2d.argmax', dtype: 'u32' });
    await runOwned(x.gpu, () => pl.maxPool2d(x.gpu, x, y, argmax, opts), [y, argmax]);
    return { y, argmax };
  },
  /** Input gradient of maxPool2d: dy, argmax (N,C,OH,OW) → dx of shape inputShape (N,C,H,W). */
  async maxPool2dBackward(dy: Tensor, argmax: Tensor, inputShape: readonly number[], opts: pl.MaxPool2dOptions = {}): Promise<Tensor> {
    const d = pl.maxPool2dBackwardDims(dy, argmax, inputShape, opts);
    const out = createTensor(dy.gpu, [d.N, d.C, d.H, d.W], undefined, { label: 'maxPool2d.dx' });
    await runOwned(dy.gpu, () => pl.maxPool2dBackward(dy.gpu, dy, argmax, out, opts), [out]);
    return out;
  },
  // embedding, layer norm, gelu, add, AdamW, gradient norm: src/ops-transformer.ts
  ...transformerOps,
};
