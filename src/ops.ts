// The op API: run a kernel on tensors without building a model.
//   const gpu = await createGpu();
//   const a = tensor(gpu, data, [M, K]);  const c = await ops.matmul(a, b, { transposeB: true });
//   const values = await c.read();
// Each op validates, allocates its output, submits and waits; for many ops in one submission use
// the kernel wrappers in src/kernels (they return Dispatch records) with encodeDispatches().
import type { Gpu } from './gpu/device.js';
import { run } from './gpu/dispatch.js';
import { createTensor, type Tensor } from './gpu/tensor.js';
import * as mm from './kernels/matmul.js';
import * as tk from './kernels/topk_mask.js';

export function tensor(gpu: Gpu, data: ArrayLike<number> | undefined, shape: readonly number[], opts: { label?: string; dtype?: 'f32' | 'u32' | 'i32' } = {}): Tensor {
  return createTensor(gpu, shape, data, opts);
}

export function zeros(gpu: Gpu, shape: readonly number[], label?: string): Tensor {
  return createTensor(gpu, shape, undefined, { label });
}

async function runOwned(gpu: Gpu, build: () => Promise<import('./gpu/dispatch.js').Dispatch[]>, outs: Tensor[]): Promise<void> {
  try {
    await run(gpu, await build());
  } catch (e) {
    for (const o of outs) o.dispose();
    throw e;
  }
}

export const ops = {
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
};
