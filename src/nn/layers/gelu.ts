// gelu: elementwise activation, same shape, no parameters (its backward reads x).
import * as ew from '../../kernels/elementwise.js';
import type { LayerKindDef } from './kind.js';

export const gelu: LayerKindDef<'gelu'> = {
  kind: 'gelu',
  resolve() {},
  async forward({ g, l, n, outShape }) {
    n.y = g.alloc(outShape, `${l.name}.y`);
    return ew.gelu(g.gpu, n.x[0]!, n.y);
  },
  async backward({ g, l, n, gy, grads, i0 }) {
    if (i0 < 0) return [];
    return grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => ew.geluBackward(g.gpu, n.x[0]!, gy, dst));
  },
  async decode({ gpu, x, rec, out }) {
    const y = out();
    rec.push(...(await ew.gelu(gpu, x[0]!, y)));
    return y;
  },
};
