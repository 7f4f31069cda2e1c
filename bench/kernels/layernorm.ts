// layerNorm bench entries at GPT sizes (N = B·T rows). Memory-bound: bytes = the minimum traffic
// (forward: read x, write y, mean, rstd; backward: read x, dy, mean, rstd, write dx, dγ, dβ).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { layerNorm, layerNormBackward } from '../../src/kernels/layernorm.js';
import { layerNormBackwardCpu, layerNormCpu } from '../../src/reference/layernorm.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function layerNormCases(_gpu: Gpu): BenchCase[] {
  const sizes = [
    [8192, 128, true],
    [8192, 256, false],
    [2048, 128, false],
  ] as const;
  return sizes.flatMap(([N, C, quick]): BenchCase[] => {
    const x = uniform(N * C, 1, -2, 3),
      gamma = uniform(C, 2),
      beta = uniform(C, 3),
      dy = uniform(N * C, 4);
    const make = (gpu: Gpu) => ({
      x: createTensor(gpu, [N, C], x, { label: 'bench.ln.x' }),
      gamma: createTensor(gpu, [C], gamma, { label: 'bench.ln.gamma' }),
      beta: createTensor(gpu, [C], beta, { label: 'bench.ln.beta' }),
      y: createTensor(gpu, [N, C], undefined, { label: 'bench.ln.y' }),
      mean: createTensor(gpu, [N], undefined, { label: 'bench.ln.mean' }),
      rstd: createTensor(gpu, [N], undefined, { label: 'bench.ln.rstd' }),
    });
    return [
      {
        kernel: 'layernorm',
        variant: 'forward',
        size: `${N}x${C}`,
        bytes: 4 * (2 * N * C + 2 * N),
        quick,
        async prepare(gpu: Gpu) {
          const t = make(gpu);
          const dispatches = await layerNorm(gpu, t.x, t.gamma, t.beta, t.y, t.mean, t.rstd);
          return {
            dispatches,
            async validate() {
              checkClose('layerNorm y', await t.y.read(), layerNormCpu(x, gamma, beta, N, C).y, 1e-4, 1e-4);
            },
            dispose: disposer(Object.values(t), dispatches),
          };
        },
      },
      {
        kernel: 'layernorm',
        variant: 'backward',
        size: `${N}x${C}`,
        bytes: 4 * (3 * N * C + 2 * N + 2 * C),
        quick,
        async prepare(gpu: Gpu) {
          const t = make(gpu);
          const ref = layerNormCpu(x, gamma, beta, N, C);
          t.mean.write(ref.mean);
          t.rstd.write(ref.rstd);
          const dyT = createTensor(gpu, [N, C], dy, { label: 'bench.ln.dy' });
          const dx = createTensor(gpu, [N, C], undefined, { label: 'bench.ln.dx' });
          const dgamma = createTensor(gpu, [C], undefined, { label: 'bench.ln.dgamma' }),
            dbeta = createTensor(gpu, [C], undefined, { label: 'bench.ln.dbeta' });
          const plan = await layerNormBackward(gpu, { x: t.x, gamma: t.gamma, mean: t.mean, rstd: t.rstd, dy: dyT, dx, dgamma, dbeta });
          return {
            dispatches: plan.dispatches,
            async validate() {
              const rb = layerNormBackwardCpu(x, gamma, ref.mean, ref.rstd, dy, N, C);
              checkClose('layerNorm dx', await dx.read(), rb.dx, 1e-4, 1e-3);
              checkClose('layerNorm dgamma', await dgamma.read(), rb.dgamma, 1e-3, 1e-4);
              checkClose('layerNorm dbeta', await dbeta.read(), rb.dbeta, 1e-3, 1e-4);
            },
            dispose: disposer([...Object.values(t), dyT, dx, dgamma, dbeta, ...plan.scratch], plan.dispatches),
          };
        },
      },
    ];
  });
}
