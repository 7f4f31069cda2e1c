// maxPool2d: image [C, H, W] → [C, OH, OW] (size k, stride default k); no parameters.
import type { LayerKindDef } from './kind.js';

export const maxPool2d: LayerKindDef<'maxPool2d'> = {
  kind: 'maxPool2d',
  resolve(l, c) {
    const { r, inShape } = c;
    c.noSeq();
    if (inShape.length !== 3) c.fail(`needs an image input [C, H, W], got [${inShape}]`);
    const [C, H, W] = inShape as [number, number, number];
    const k = l.size ?? 2,
      s = l.stride ?? k;
    const OH = Math.floor((H - k) / s) + 1,
      OW = Math.floor((W - k) / s) + 1;
    if (OH < 1 || OW < 1) c.fail(`pool ${k} is larger than the input ${H}×${W}`);
    r.outShape = [C, OH, OW];
  },
};
