// factorizedBits / factorizedBitsBackward bench entries: the image codec's latent of a 256×256 tile
// (32 channels at 32×32) and of a training batch (16 × 32 channels at 4×4, Fashion-MNIST). Flops:
// ~2 MLP evaluations × ~60 flops per element forward, ~4× that backward (an estimate).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { factorizedBits, factorizedBitsBackward, FP_PARAMS } from '../../src/kernels/factorized-prior.js';
import { factorizedBitsBackwardCpu, factorizedBitsCpu, factorizedInit } from '../../src/reference/factorized-prior.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

type S4 = [number, number, number, number];
const SHAPES: S4[] = [
  [1, 32, 32, 32],
  [16, 32, 4, 4],
  [2, 8, 4, 4], // the bench page's ?quick=1 case (smallest: cheap to validate on a software adapter)
];

export function factorizedPriorCases(_gpu: Gpu): BenchCase[] {
  return SHAPES.flatMap((s) =>
    (['bits', 'backward'] as const).map((variant) => {
      const n = s.reduce((a, b) => a * b, 1);
      return {
        kernel: 'factorized-prior',
        variant,
        size: s.join('x'),
        flops: n * (variant === 'bits' ? 120 : 480),
        quick: s[0] === 16, // the training-batch shape in the short run
        async prepare(gpu: Gpu) {
          const yd = uniform(n, 31, -6, 6),
            th = factorizedInit(s[1], 10, 32),
            gd = uniform(n, 33, 0.5, 1);
          const ty = createTensor(gpu, s, yd),
            tt = createTensor(gpu, [s[1], FP_PARAMS], th),
            tg = createTensor(gpu, s, gd),
            out = createTensor(gpu, s),
            dth = createTensor(gpu, [s[1], FP_PARAMS]);
          const dispatches = variant === 'bits' ? await factorizedBits(gpu, ty, tt, out) : await factorizedBitsBackward(gpu, ty, tt, tg, out, dth);
          return {
            dispatches,
            async validate() {
              const hw = s[2] * s[3];
              if (variant === 'bits') checkClose('factorized-prior bits', await out.read(), factorizedBitsCpu(yd, th, s[1], hw), 2e-4, 2e-4);
              else {
                const ref = factorizedBitsBackwardCpu(yd, th, gd, s[1], hw);
                checkClose('factorized-prior dy', await out.read(), ref.dy, 1e-4, 2e-3);
                checkClose('factorized-prior dtheta', await dth.read(), ref.dtheta, 1e-2, 2e-3);
              }
            },
            dispose: disposer([ty, tt, tg, out, dth], dispatches),
          };
        },
      };
    }),
  );
}
