// rec-softmax bench entries: the full-softmax loss of B users over N items (each user with 5
// items), as in one rec:mf / rec:dae step on debian-deps (512 × 7,836). Reported as GB/s over the
// minimum traffic (read the scores, write the gradient: 8·B·N bytes).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { recSoftmaxXent } from '../../src/kernels/rec-softmax.js';
import { recSoftmaxXentCpu } from '../../src/reference/rec-softmax.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function recSoftmaxCases(_gpu: Gpu): BenchCase[] {
  return [[512, 7_836]].map(([B, N]) => ({
    kernel: 'rec-softmax',
    variant: '-',
    size: `${B}x${N}`,
    bytes: 8 * B! * N!,
    quick: true,
    async prepare(gpu: Gpu) {
      const s = uniform(B! * N!, 5, -4, 4);
      const perm = Uint32Array.from({ length: B! }, (_, i) => i);
      const rowptr = Uint32Array.from({ length: B! + 1 }, (_, i) => 5 * i);
      const items = Uint32Array.from({ length: 5 * B! }, (_, j) => (j * 7919 + Math.floor(j / 5)) % N!);
      const ts = createTensor(gpu, [B!, N!], s, { label: 'bench.recsm.s' });
      const tp = createTensor(gpu, [B!], perm, { dtype: 'u32', label: 'bench.recsm.perm' });
      const tr = createTensor(gpu, [B! + 1], rowptr, { dtype: 'u32', label: 'bench.recsm.ptr' });
      const ti = createTensor(gpu, [items.length], items, { dtype: 'u32', label: 'bench.recsm.items' });
      const td = createTensor(gpu, [B!, N!], undefined, { label: 'bench.recsm.ds' });
      const tl = createTensor(gpu, [B!], undefined, { label: 'bench.recsm.loss' });
      const dispatches = await recSoftmaxXent(gpu, { scores: ts, perm: tp, rowptr: tr, items: ti, ds: td, loss: tl });
      return {
        dispatches,
        async validate() {
          const ref = recSoftmaxXentCpu(s, B!, N!, perm, rowptr, items);
          checkClose('rec-softmax ds', await td.read(), ref.ds, 1e-7, 1e-3);
          checkClose('rec-softmax loss', await tl.read(), ref.loss, 1e-4, 1e-5);
        },
        dispose: disposer([ts, tp, tr, ti, td, tl], dispatches),
      };
    },
  }));
}
