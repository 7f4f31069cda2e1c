// flatten: any per-sample shape → [product] (a reshape, no kernel).
import { prod, type LayerKindDef } from './kind.js';

export const flatten: LayerKindDef<'flatten'> = {
  kind: 'flatten',
  resolve(_l, c) {
    c.noSeq();
    c.r.outShape = [prod(c.inShape)];
  },
};
