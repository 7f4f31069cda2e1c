// add: a residual connection, the sum of its two inputs (same shape). Its backward passes the output
// gradient to both inputs by aliasing (graph.ts); a dense layer feeding it gets the scaled init.
import type { Dispatch } from '../../gpu/dispatch.js';
import * as ew from '../../kernels/elementwise.js';
import type { LayerKindDef } from './kind.js';

export const add: LayerKindDef<'add'> = {
  kind: 'add',
  arity: 2,
  residual: true,
  resolve(_l, c) {
    const { r, inShape, seq } = c;
    const other = c.shapeOf(r.inputs[1]!);
    if (other.length !== inShape.length || other.some((d, i) => d !== inShape[i]) || c.seqOf(r.inputs[1]!) !== seq) {
      c.fail(`both inputs must have the same shape, got [${inShape}] and [${other}]`);
    }
  },
  async forward({ g, l, n, outShape }) {
    n.y = g.alloc(outShape, `${l.name}.y`);
    return ew.add(g.gpu, n.x[0]!, n.x[1]!, n.y);
  },
  async backward({ l, gy, grads, gradOf }) {
    const out: Dispatch[] = [];
    for (const i of l.inputs) {
      const t = gradOf(i);
      if (t >= 0) out.push(...(await grads.alias(t, gy)));
    }
    return out;
  },
  async decode({ gpu, x, rec, out }) {
    const y = out();
    rec.push(...(await ew.add(gpu, x[0]!, x[1]!, y)));
    return y;
  },
};
