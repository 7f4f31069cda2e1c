// add: a residual connection, the sum of its two inputs (same shape).
import type { LayerKindDef } from './kind.js';

export const add: LayerKindDef<'add'> = {
  kind: 'add',
  arity: 2,
  resolve(_l, c) {
    const { r, inShape, seq } = c;
    const other = c.shapeOf(r.inputs[1]!);
    if (other.length !== inShape.length || other.some((d, i) => d !== inShape[i]) || c.seqOf(r.inputs[1]!) !== seq) {
      c.fail(`both inputs must have the same shape, got [${inShape}] and [${other}]`);
    }
  },
};
