// tiedHead: logits (T, V) = x · Eᵀ with E the table of the embedding node `tie` (no own parameter:
// it gets E's gradient too). torch: nanoGPT's lm_head.weight, a second name of wte.weight.
import * as mm from '../../kernels/matmul.js';
import { spmm } from '../../kernels/spmm.js';
import type { Dispatch } from '../../gpu/dispatch.js';
import type { LayerKindDef } from './kind.js';

export const tiedHead: LayerKindDef<'tiedHead'> = {
  kind: 'tiedHead',
  resolve(l, c) {
    const { r, inShape } = c;
    c.needSeq();
    const e = c.out[l.tie];
    if (!Number.isInteger(l.tie) || !e || e.spec.kind !== 'embedding') c.fail(`tie must be the index of an earlier embedding layer, got ${l.tie}`);
    const [V, C] = e!.weightShape as [number, number];
    if (inShape[1] !== C) c.fail(`rows of width ${C} (the embedding's) needed, got [${inShape}]`);
    r.outShape = [inShape[0]!, V];
  },
  shared: (l, layers) => `${layers[l.spec.tie]!.name}.weight`,
  async forward({ g, layers, l, n, outShape, W }) {
    const N = g.B * l.inShape[0]!;
    const E = W(layers[l.spec.tie]!.name);
    n.y = g.alloc(outShape, `${l.name}.y`);
    return mm.matmul(g.gpu, n.x[0]!.reshape([N, E.shape[1]!]), E, n.y.reshape([N, E.shape[0]!]), { transposeB: true });
  },
  async backward({ g, layers, l, n, gy, grads, i0, W }) {
    const out: Dispatch[] = [];
    const N = g.B * l.inShape[0]!;
    const name = layers[l.spec.tie]!.name;
    const E = W(name);
    const [V, C] = E.shape as [number, number];
    const x2 = n.x[0]!.reshape([N, C]),
      g2 = gy.reshape([N, V]);
    out.push(...(await grads.emit(grads.param(`${name}.weight`), (dst) => mm.matmul(g.gpu, g2, x2, dst, { transposeA: true }))));
    if (i0 >= 0) out.push(...(await grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => mm.matmul(g.gpu, g2, E, dst.reshape([N, C])))));
    return out;
  },
  async decode({ gpu, layers, l, x, rows, rec, out, W, matrices }) {
    const y = out();
    const e = layers[l.spec.tie]!.name;
    const cm = matrices?.get(e);
    rec.push(...(await (cm ? spmm(gpu, cm, x[0]!, y, { B: rows }) : mm.matmul(gpu, x[0]!, W(e), y, { transposeB: true }))));
    return y;
  },
  torch: { tied: 'lm_head' },
};
