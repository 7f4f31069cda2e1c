// convTranspose2d bench entries: the image codec's synthesis layers on a 256×256 tile
// (img:photo, N = M = 48), forward with bias and relu. Flops = 2·N·C·H·W·OC·KH·KW (every input
// element's stamp, including the parts cut off by the padding: a bound, not exact).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { convTranspose2d } from '../../src/kernels/conv-transpose2d.js';
import { convTranspose2dCpu, convTranspose2dOutShape } from '../../src/reference/conv-transpose2d.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

type S4 = [number, number, number, number];
const SHAPES: { x: S4; w: S4 }[] = [
  { x: [1, 48, 32, 32], w: [48, 48, 5, 5] },
  { x: [1, 48, 64, 64], w: [48, 48, 5, 5] },
  { x: [1, 48, 128, 128], w: [48, 3, 5, 5] },
];
const opts = { stride: 2, padding: 2, outputPadding: 1 };

export function convTranspose2dCases(_gpu: Gpu): BenchCase[] {
  return SHAPES.map(({ x, w }) => {
    const [N, C, H, W] = x,
      [, OC, KH, KW] = w;
    return {
      kernel: 'conv-transpose2d',
      variant: '-',
      size: `x${x.join('x')} w${w.join('x')} s2 p2 op1 +b relu`,
      flops: 2 * N * C * H * W * OC * KH * KW,
      quick: x[2] <= 64,
      async prepare(gpu: Gpu) {
        const xd = uniform(N * C * H * W, 21),
          wd = uniform(C * OC * KH * KW, 22, -0.3, 0.3),
          bd = uniform(OC, 23);
        const tx = createTensor(gpu, x, xd),
          tw = createTensor(gpu, w, wd),
          tb = createTensor(gpu, [OC], bd);
        const ty = createTensor(gpu, convTranspose2dOutShape(x, w, opts));
        const dispatches = await convTranspose2d(gpu, tx, tw, ty, { ...opts, bias: tb, activation: 'relu' });
        return {
          dispatches,
          async validate() {
            const ref = convTranspose2dCpu(xd, x, wd, w, { ...opts, bias: bd, activation: 'relu' });
            checkClose('conv-transpose2d', await ty.read(), ref, 1e-5 * C * KH * KW, 1e-4);
          },
          dispose: disposer([tx, tw, tb, ty], dispatches),
        };
      },
    };
  });
}
