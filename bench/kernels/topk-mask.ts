// topkMask bench entries: keep the 10% largest |w| of n weights (global magnitude pruning).
// Reported as effective GB/s over the minimum traffic (read weights, write mask: 8n bytes); the
// radix select reads the weights several times.
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { kFor, topkMask } from '../../src/kernels/topk-mask.js';
import { topkMaskCpuK } from '../../src/reference/topk-mask.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function topkMaskCases(_gpu: Gpu): BenchCase[] {
  return [266_610, 4_000_000].map((n) => ({
    kernel: 'topk-mask',
    variant: '-',
    size: `n=${n} keep 10%`,
    bytes: 8 * n,
    quick: true,
    async prepare(gpu: Gpu) {
      const w = uniform(n, 7);
      const k = kFor(n, 0.9);
      const tw = createTensor(gpu, [n], w, { label: 'bench.topk.w' });
      const tm = createTensor(gpu, [n], undefined, { label: 'bench.topk.mask' });
      const tk = createTensor(gpu, [1], [k], { dtype: 'u32', label: 'bench.topk.k' });
      const plan = await topkMask(gpu, { weights: tw, mask: tm, k: tk });
      return {
        dispatches: plan.dispatches,
        async validate() {
          checkClose('topk-mask', await tm.read(), topkMaskCpuK(w, k), 0, 0);
        },
        dispose: disposer([tw, tm, tk, ...plan.scratch], plan.dispatches),
      };
    },
  }));
}
