// rec-pairs bench entries: the fused one-layer NCF score of R users × N items (the full ranking of
// rec:ncf-32-64 on debian-deps: a chunk of 256 users × 7,836 items), reported as GFLOPS over
// (3·C + 3·J + 1) flops per (user, item); and the BPR pair sampling + loss of one training step.
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { recPairScore1 } from '../../src/kernels/rec-pairs.js';
import { recPairScore1Cpu } from '../../src/reference/rec-pairs.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function recPairsCases(_gpu: Gpu): BenchCase[] {
  return [[256, 7_836, 32, 64]].map(([R, N, C, J]) => ({
    kernel: 'rec-pairs',
    variant: 'pair_score1',
    size: `${R}x${N} C=${C} J=${J}`,
    flops: R! * N! * (3 * C! + 3 * J! + 1),
    quick: true,
    async prepare(gpu: Gpu) {
      const d = {
        ue: uniform(R! * C!, 1),
        v: uniform(N! * C!, 2),
        p: uniform(R! * J!, 3),
        q: uniform(N! * J!, 4),
        hg: uniform(C!, 5),
        hm: uniform(J!, 6),
        bias: uniform(N!, 7),
      };
      const t = {
        ue: createTensor(gpu, [R!, C!], d.ue),
        v: createTensor(gpu, [N!, C!], d.v),
        p: createTensor(gpu, [R!, J!], d.p),
        q: createTensor(gpu, [N!, J!], d.q),
        hg: createTensor(gpu, [C!], d.hg),
        hm: createTensor(gpu, [J!], d.hm),
        bias: createTensor(gpu, [N!], d.bias),
        out: createTensor(gpu, [R!, N!]),
      };
      const dispatches = await recPairScore1(gpu, t);
      return {
        dispatches,
        async validate() {
          const ref = recPairScore1Cpu(d.ue, d.v, d.p, d.q, d.hg, d.hm, d.bias, 8);
          checkClose('rec-pairs pair_score1', (await t.out.read()).subarray(0, 8 * N!), Float32Array.from(ref), 1e-4, 1e-4);
        },
        dispose: disposer(Object.values(t), dispatches),
      };
    },
  }));
}
