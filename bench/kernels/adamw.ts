// adamw / gradNorm bench entries over a parameter arena. Memory-bound: adamw reads w, g, m, v,
// mask and writes w, m, v (8 · 4n); gradNorm reads g and mask (2 · 4n).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { adamw, createAdamWHyper, createNormBuffer, gradNorm } from '../../src/kernels/adamw.js';
import { adamwCpu, clipScaleCpu, gradNormCpu } from '../../src/reference/adamw.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function adamwCases(_gpu: Gpu): BenchCase[] {
  const hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 1 };
  return [266_610, 4_000_000].flatMap((n): BenchCase[] => {
    const w = uniform(n, 1),
      g = uniform(n, 2),
      mask = Float32Array.from(uniform(n, 4, 0, 1), (x) => (x < 0.7 ? 1 : 0));
    const make = (gpu: Gpu) => ({
      w: createTensor(gpu, [n], w, { label: 'bench.adamw.w' }),
      g: createTensor(gpu, [n], g, { label: 'bench.adamw.g' }),
      m: createTensor(gpu, [n], undefined, { label: 'bench.adamw.m' }),
      v: createTensor(gpu, [n], undefined, { label: 'bench.adamw.v' }),
      mask: createTensor(gpu, [n], mask, { label: 'bench.adamw.mask' }),
    });
    return [
      {
        kernel: 'adamw',
        variant: 'clipped',
        size: `n=${n} masked`,
        bytes: 8 * 4 * n,
        quick: true,
        async prepare(gpu: Gpu) {
          const t = make(gpu);
          const ref = gradNormCpu(g, mask);
          const clip = ref.norm / 2;
          const th = createAdamWHyper(gpu, { ...hyper, clip }, 'bench.adamw.hyper');
          const norm = createNormBuffer(gpu, 'bench.adamw.norm');
          norm.write([ref.sumSq, ref.norm, 0, 0]);
          const dispatches = await adamw(gpu, t, th, { norm, decayEnd: Math.floor(n * 0.9) });
          return {
            dispatches,
            async validate() {
              const rw = w.slice(),
                rm = new Float32Array(n),
                rv = new Float32Array(n);
              adamwCpu({ w: rw, g, m: rm, v: rv, mask }, { ...hyper, decayEnd: Math.floor(n * 0.9) }, clipScaleCpu(ref.norm, clip));
              checkClose('adamw w', await t.w.read(), rw, 1e-6, 1e-5);
              checkClose('adamw v', await t.v.read(), rv, 1e-9, 1e-4);
            },
            dispose: disposer([...Object.values(t), th, norm], dispatches),
          };
        },
      },
      {
        kernel: 'grad_norm',
        variant: 'masked',
        size: `n=${n}`,
        bytes: 2 * 4 * n,
        quick: true,
        async prepare(gpu: Gpu) {
          const t = make(gpu);
          const norm = createNormBuffer(gpu, 'bench.gradNorm.norm');
          const dispatches = await gradNorm(gpu, t.g, norm, { mask: t.mask });
          return {
            dispatches,
            async validate() {
              checkClose('gradNorm', (await norm.read()).slice(0, 2), Object.values(gradNormCpu(g, mask)), 0, 1e-5);
            },
            dispose: disposer([...Object.values(t), norm], dispatches),
          };
        },
      },
    ];
  });
}
