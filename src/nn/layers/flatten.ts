// flatten: any per-sample shape → [product] (a reshape, no kernel; its gradient is an alias).
import { prod, type LayerKindDef } from './kind.js';

export const flatten: LayerKindDef<'flatten'> = {
  kind: 'flatten',
  resolve(_l, c) {
    c.noSeq();
    c.r.outShape = [prod(c.inShape)];
  },
  async forward({ n, outShape }) {
    n.y = n.x[0]!.reshape(outShape);
    return [];
  },
  async backward({ gy, grads, i0 }) {
    return i0 >= 0 ? grads.alias(i0, gy) : [];
  },
};
