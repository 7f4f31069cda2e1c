// dense: y = x·W + b, weight (in, out); on per-token rows [T, C] it maps the last dimension.
import { posInt, prod, type LayerKindDef } from './kind.js';

export const dense: LayerKindDef<'dense'> = {
  kind: 'dense',
  resolve(l, c) {
    const { r, inShape, seq } = c;
    if (!posInt(l.units)) c.fail(`units must be a positive integer, got ${l.units}`);
    const inD = seq ? inShape[inShape.length - 1]! : prod(inShape);
    r.outShape = seq ? [inShape[0]!, l.units] : [l.units];
    c.weight([inD, l.units]);
    c.bias([l.units]);
    r.fanIn = inD;
    r.fanOut = l.units;
  },
};
