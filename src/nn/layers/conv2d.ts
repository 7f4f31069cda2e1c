// conv2d: image [C, H, W] → [filters, OH, OW], weight (OC, C, KH, KW), bias (OC).
import { posInt, type LayerKindDef } from './kind.js';

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
};
