// conv2d bench entries: the LeNet-5 convolutions at batch 128 (NCHW), forward with bias and relu.
// Flops = 2·N·OC·OH·OW·C·KH·KW.
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { conv2d, conv2dDims } from '../../src/kernels/conv2d.js';
import { conv2dCpu } from '../../src/reference/conv2d.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

type S4 = [number, number, number, number];
const SHAPES: { x: S4; w: S4; padding: number }[] = [
  { x: [128, 1, 28, 28], w: [6, 1, 5, 5], padding: 2 },
  { x: [128, 6, 14, 14], w: [16, 6, 5, 5], padding: 0 },
];

export function conv2dCases(_gpu: Gpu): BenchCase[] {
  return SHAPES.map(({ x, w, padding }) => {
    const [N, C, H, W] = x,
      [OC, , KH, KW] = w;
    const OH = H + 2 * padding - KH + 1,
      OW = W + 2 * padding - KW + 1;
    return {
      kernel: 'conv2d',
      variant: '-',
      size: `x${x.join('x')} w${w.join('x')} p${padding} +b relu`,
      flops: 2 * N * OC * OH * OW * C * KH * KW,
      quick: true,
      async prepare(gpu: Gpu) {
        const xd = uniform(N * C * H * W, 11),
          wd = uniform(OC * C * KH * KW, 12, -0.3, 0.3),
          bd = uniform(OC, 13);
        const tx = createTensor(gpu, x, xd, { label: 'bench.conv.x' }),
          tw = createTensor(gpu, w, wd, { label: 'bench.conv.w' });
        const tb = createTensor(gpu, [OC], bd, { label: 'bench.conv.b' });
        const opts = { padding, bias: tb, activation: 'relu' as const };
        const d = conv2dDims(tx, tw, opts);
        const ty = createTensor(gpu, [d.N, d.OC, d.OH, d.OW], undefined, { label: 'bench.conv.y' });
        const dispatches = await conv2d(gpu, tx, tw, ty, opts);
        return {
          dispatches,
          async validate() {
            const ref = conv2dCpu(xd, x, wd, w, { padding, bias: bd, activation: 'relu' });
            checkClose('conv2d', await ty.read(), ref, 1e-5 * C * KH * KW, 1e-4);
          },
          dispose: disposer([tx, tw, tb, ty], dispatches),
        };
      },
    };
  });
}
