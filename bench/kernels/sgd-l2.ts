// sgdL2 bench entries: the fused masked update over n parameters. Memory-bound: bytes = reads of
// w, g, v, mask and writes of w, v (6 · 4n).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { createSgdHyper, sgdL2 } from '../../src/kernels/sgd-l2.js';
import { sgdL2Cpu } from '../../src/reference/sgd-l2.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function sgdL2Cases(_gpu: Gpu): BenchCase[] {
  return [266_610, 4_000_000].map((n) => ({
    kernel: 'sgd-l2',
    variant: '-',
    size: `n=${n} masked`,
    bytes: 6 * 4 * n,
    quick: true,
    async prepare(gpu: Gpu) {
      const hyper = { lr: 0.01, momentum: 0.9, l2: 1e-4 };
      const w = uniform(n, 1),
        g = uniform(n, 2),
        v = uniform(n, 3, -0.1, 0.1);
      const mask = Float32Array.from(uniform(n, 4, 0, 1), (x) => (x < 0.7 ? 1 : 0));
      const t = {
        w: createTensor(gpu, [n], w, { label: 'bench.sgd.w' }),
        g: createTensor(gpu, [n], g, { label: 'bench.sgd.g' }),
        v: createTensor(gpu, [n], v, { label: 'bench.sgd.v' }),
        mask: createTensor(gpu, [n], mask, { label: 'bench.sgd.mask' }),
      };
      const th = createSgdHyper(gpu, hyper, 'bench.sgd.hyper');
      const dispatches = await sgdL2(gpu, t, th);
      return {
        dispatches,
        async validate() {
          const rw = w.slice(),
            rv = v.slice();
          sgdL2Cpu({ w: rw, g, v: rv, mask }, hyper);
          checkClose('sgd-l2 w', await t.w.read(), rw, 1e-6, 1e-5);
          checkClose('sgd-l2 v', await t.v.read(), rv, 1e-6, 1e-5);
        },
        dispose: disposer([t.w, t.g, t.v, t.mask, th], dispatches),
      };
    },
  }));
}
