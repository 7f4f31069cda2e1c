// maxPool2d bench entries: 2×2 max pooling of the LeNet-5 feature maps at batch 128, with argmax.
// Memory-bound: bytes = read x + write y and argmax.
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { maxPool2d } from '../../src/kernels/pool.js';
import { maxPool2dCpu } from '../../src/reference/pool.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

type S4 = [number, number, number, number];

export function poolCases(_gpu: Gpu): BenchCase[] {
  return (
    [
      [128, 6, 28, 28],
      [128, 16, 10, 10],
    ] as S4[]
  ).map((x) => {
    const [N, C, H, W] = x;
    const out: S4 = [N, C, H >> 1, W >> 1];
    const nOut = out[0] * out[1] * out[2] * out[3];
    return {
      kernel: 'pool',
      variant: '-',
      size: `x${x.join('x')} k2 s2`,
      bytes: 4 * (N * C * H * W) + 8 * nOut,
      quick: true,
      async prepare(gpu: Gpu) {
        const xd = uniform(N * C * H * W, 21);
        const tx = createTensor(gpu, x, xd, { label: 'bench.pool.x' });
        const ty = createTensor(gpu, out, undefined, { label: 'bench.pool.y' });
        const ta = createTensor(gpu, out, undefined, { dtype: 'u32', label: 'bench.pool.argmax' });
        const dispatches = await maxPool2d(gpu, tx, ty, ta, { kernel: 2, stride: 2 });
        return {
          dispatches,
          async validate() {
            const ref = maxPool2dCpu(xd, x, { kernel: 2, stride: 2 });
            checkClose('maxPool2d y', await ty.read(), ref.y, 0, 0);
            checkClose('maxPool2d argmax', await ta.read(), ref.argmax, 0, 0);
          },
          dispose: disposer([tx, ty, ta], dispatches),
        };
      },
    };
  });
}
