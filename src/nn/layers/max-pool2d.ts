// maxPool2d: image [C, H, W] → [C, OH, OW] (size k, stride default k); no parameters. The forward
// keeps the argmax of every window for the backward.
import * as pool from '../../kernels/pool.js';
import type { LayerKindDef } from './kind.js';

export const maxPool2d: LayerKindDef<'maxPool2d'> = {
  kind: 'maxPool2d',
  resolve(l, c) {
    const { r, inShape } = c;
    c.noSeq();
    if (inShape.length !== 3) c.fail(`needs an image input [C, H, W], got [${inShape}]`);
    const [C, H, W] = inShape as [number, number, number];
    const k = l.size ?? 2,
      s = l.stride ?? k;
    const OH = Math.floor((H - k) / s) + 1,
      OW = Math.floor((W - k) / s) + 1;
    if (OH < 1 || OW < 1) c.fail(`pool ${k} is larger than the input ${H}×${W}`);
    r.outShape = [C, OH, OW];
  },
  async forward({ g, l, n, outShape }) {
    n.y = g.alloc(outShape, `${l.name}.y`);
    n.saved.argmax = g.alloc(outShape, `${l.name}.argmax`, 'u32');
    const k = l.spec.size ?? 2;
    return pool.maxPool2d(g.gpu, n.x[0]!, n.y, n.saved.argmax, { kernel: k, stride: l.spec.stride ?? k });
  },
  async backward({ g, l, n, gy, grads, i0 }) {
    const k = l.spec.size ?? 2,
      stride = l.spec.stride ?? k;
    if (i0 < 0) return [];
    return grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => pool.maxPool2dBackward(g.gpu, gy, n.saved.argmax!, dst, { kernel: k, stride }));
  },
};
