// dense: y = x·W + b, weight (in, out); on per-token rows [T, C] it maps the last dimension.
// A relu reading only it is fused into its matmul (relu.ts); torch: Linear, weight stored (out, in).
import * as mm from '../../kernels/matmul.js';
import { spmm } from '../../kernels/spmm.js';
import type { Dispatch } from '../../gpu/dispatch.js';
import { posInt, prod, type LayerKindDef } from './kind.js';
import { fusedReluGrad } from './elementwise.js';

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
  async forward({ g, l, n, outShape, W, bias }) {
    // per-token rows: (B·T, in) · (in, out)
    const rows = l.seq ? g.B * l.inShape[0]! : g.B;
    n.y = g.alloc(outShape, `${l.name}.y`);
    return mm.matmul(g.gpu, n.x[0]!.reshape([rows, l.weightShape![0]!]), W(), n.y.reshape([rows, l.weightShape![1]!]), {
      bias: bias(),
      activation: l.fusedActivation ?? 'none',
    });
  },
  async backward(c) {
    const { g, l, n, grads, i0 } = c;
    const out: Dispatch[] = [];
    const dz = await fusedReluGrad(c, out);
    const W = c.W();
    const dW = grads.param(`${l.name}.weight`),
      db = grads.param(`${l.name}.bias`);
    const rows = l.seq ? g.B * l.inShape[0]! : g.B;
    const [inD, outD] = l.weightShape as [number, number];
    const x2 = n.x[0]!.reshape([rows, inD]),
      dz2 = dz.reshape([rows, outD]);
    out.push(...(await grads.emit(dW, (dst) => mm.matmul(g.gpu, x2, dz2, dst, { transposeA: true }))));
    out.push(...(await grads.emit(db, (dst) => mm.colsum(g.gpu, dz2, dst))));
    if (i0 >= 0) {
      const gx = grads.value(i0, `${l.name}.gx`);
      out.push(...(await grads.emit(gx, (dst) => mm.matmul(g.gpu, dz2, W, dst.reshape([rows, inD]), { transposeB: true }))));
    }
    return out;
  },
  async decode({ gpu, l, x, rows, rec, out, W, bias, matrices }) {
    const y = out();
    const cm = matrices?.get(l.name);
    rec.push(
      ...(await (cm
        ? spmm(gpu, cm, x[0]!, y, { B: rows, act: l.fusedActivation ?? 'none' })
        : mm.matmul(gpu, x[0]!, W(l.name), y, { bias: bias(l.name), activation: l.fusedActivation ?? 'none' }))),
    );
    return y;
  },
  torch: { module: 'Linear', rename: ['dense', 'fc'], layout: ' [in, out]', transpose: true },
};
