// conv2d: image [C, H, W] → [filters, OH, OW], weight (OC, C, KH, KW), bias (OC).
// A relu reading only it is fused into its kernel (relu.ts); torch: Conv2d, same layout.
import * as conv from '../../kernels/conv2d.js';
import type { Dispatch } from '../../gpu/dispatch.js';
import { posInt, type LayerKindDef } from './kind.js';
import { fusedReluGrad } from './elementwise.js';

export const conv2d: LayerKindDef<'conv2d'> = {
  kind: 'conv2d',
  resolve(l, c) {
    const { r, inShape } = c;
    c.noSeq();
    if (inShape.length !== 3) c.fail(`needs an image input [C, H, W], got [${inShape}]`);
    const [C, H, W] = inShape as [number, number, number];
    const k = l.kernel,
      s = l.stride ?? 1,
      p = l.padding ?? 0;
    if (!posInt(l.filters)) c.fail(`filters must be a positive integer, got ${l.filters}`);
    if (!posInt(k)) c.fail(`kernel must be a positive integer, got ${k}`);
    if (!posInt(s)) c.fail(`stride must be a positive integer, got ${s}`);
    if (!Number.isInteger(p) || p < 0) c.fail(`padding must be a non-negative integer, got ${p}`);
    const OH = Math.floor((H + 2 * p - k) / s) + 1,
      OW = Math.floor((W + 2 * p - k) / s) + 1;
    if (OH < 1 || OW < 1) c.fail(`kernel ${k} is larger than the padded input ${H + 2 * p}×${W + 2 * p}`);
    r.outShape = [l.filters, OH, OW];
    c.weight([l.filters, C, k, k]);
    c.bias([l.filters]);
    r.fanIn = C * k * k;
    r.fanOut = l.filters * k * k;
  },
  async forward({ g, l, n, outShape, W, bias }) {
    n.y = g.alloc(outShape, `${l.name}.y`);
    return conv.conv2d(g.gpu, n.x[0]!, W(), n.y, {
      bias: bias(),
      stride: l.spec.stride ?? 1,
      padding: l.spec.padding ?? 0,
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
    const geo = { stride: l.spec.stride ?? 1, padding: l.spec.padding ?? 0 };
    out.push(...(await grads.emit(dW, (dst) => conv.conv2dBackwardFilter(g.gpu, n.x[0]!, dz, dst, geo))));
    out.push(...(await grads.emit(db, (dst) => conv.conv2dBiasGrad(g.gpu, dz, dst))));
    if (i0 >= 0) out.push(...(await grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => conv.conv2dBackwardData(g.gpu, dz, W, dst, geo))));
    return out;
  },
  torch: { module: 'Conv2d', rename: ['conv2d', 'conv'], layout: ' [OC, C, KH, KW]' },
};
