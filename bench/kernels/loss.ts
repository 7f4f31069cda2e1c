// loss bench entries: fused softmax cross-entropy (forward + gradient) and MSE at batch 128.
// Memory-bound: bytes = read logits (and labels or targets) + write the gradient.
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { createStats, mse, softmaxCrossEntropy } from '../../src/kernels/loss.js';
import { mseCpu, softmaxCrossEntropyCpu } from '../../src/reference/loss.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function lossCases(_gpu: Gpu): BenchCase[] {
  const B = 128;
  return [
    {
      kernel: 'loss',
      variant: 'softmax-ce',
      size: `${B}x10`,
      bytes: B * 10 * 8 + B * 4,
      quick: true,
      async prepare(gpu: Gpu) {
        const C = 10;
        const logits = uniform(B * C, 31, -3, 3),
          labels = Uint32Array.from(uniform(B, 32, 0, C), Math.floor);
        const tl = createTensor(gpu, [B, C], logits, { label: 'bench.ce.logits' });
        const tlab = createTensor(gpu, [B], labels, { dtype: 'u32', label: 'bench.ce.labels' });
        const td = createTensor(gpu, [B, C], undefined, { label: 'bench.ce.dlogits' });
        const stats = createStats(gpu, 'bench.ce.stats');
        const dispatches = await softmaxCrossEntropy(gpu, tl, tlab, td, stats);
        return {
          dispatches,
          async validate() {
            checkClose('softmaxCrossEntropy dlogits', await td.read(), softmaxCrossEntropyCpu(logits, labels, B, C).dlogits, 1e-6, 1e-4);
          },
          dispose: disposer([tl, tlab, td, stats], dispatches),
        };
      },
    },
    {
      kernel: 'loss',
      variant: 'mse',
      size: `${B}x784`,
      bytes: B * 784 * 12,
      quick: true,
      async prepare(gpu: Gpu) {
        const D = 784;
        const pred = uniform(B * D, 41),
          target = uniform(B * D, 42);
        const tp = createTensor(gpu, [B, D], pred, { label: 'bench.mse.pred' });
        const tt = createTensor(gpu, [B, D], target, { label: 'bench.mse.target' });
        const td = createTensor(gpu, [B, D], undefined, { label: 'bench.mse.dpred' });
        const stats = createStats(gpu, 'bench.mse.stats');
        const dispatches = await mse(gpu, tp, tt, td, stats);
        return {
          dispatches,
          async validate() {
            checkClose('mse dpred', await td.read(), mseCpu(pred, target, B, D).dpred, 1e-9, 1e-5);
          },
          dispose: disposer([tp, tt, td, stats], dispatches),
        };
      },
    },
  ];
}
