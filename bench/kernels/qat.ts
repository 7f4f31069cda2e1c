// qat bench entries: the QAT step's snap (n weights, K = 32 centroids, 25% kept) followed by the
// restore, as a step records them. Memory-bound: snap reads w, mask and writes w, latent, assign;
// restore reads latent and writes w (7 · 4n).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { qatRestore, qatSnap } from '../../src/kernels/qat.js';
import { qatInitLinearCpu, qatSnapCpu } from '../../src/reference/qat.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function qatCases(_gpu: Gpu): BenchCase[] {
  return [116_736, 4_000_000].map((n) => ({
    kernel: 'qat',
    variant: '-',
    size: `n=${n} K=32 snap+restore`,
    bytes: 7 * 4 * n,
    quick: true,
    async prepare(gpu: Gpu) {
      const w = uniform(n, 1, -0.3, 0.3);
      const mask = Float32Array.from(uniform(n, 2, 0, 1), (x) => (x < 0.25 ? 1 : 0));
      const c = qatInitLinearCpu(w, mask, 32);
      const t = {
        w: createTensor(gpu, [n], w, { label: 'bench.qat.w' }),
        mask: createTensor(gpu, [n], mask, { label: 'bench.qat.mask' }),
        latent: createTensor(gpu, [n], undefined, { label: 'bench.qat.latent' }),
        centroids: createTensor(gpu, [32], c, { label: 'bench.qat.centroids' }),
        assign: createTensor(gpu, [n], undefined, { dtype: 'u32', label: 'bench.qat.assign' }),
      };
      const dispatches = [...(await qatSnap(gpu, t)), ...(await qatRestore(gpu, { w: t.w, latent: t.latent }))];
      return {
        dispatches,
        async validate() {
          // snap + restore leave w as it was; the latent copy and the indices are the snap's
          const want = qatSnapCpu(w, mask, c);
          checkClose('qat w', await t.w.read(), w, 0, 0);
          checkClose('qat latent', await t.latent.read(), w, 0, 0);
          const a = await t.assign.read();
          for (let i = 0; i < n; i++) if (a[i] !== want.assign[i]) throw new Error(`qat assign[${i}]: got ${a[i]}, expected ${want.assign[i]}`);
        },
        dispose: disposer([t.w, t.mask, t.latent, t.centroids, t.assign], dispatches),
      };
    },
  }));
}
