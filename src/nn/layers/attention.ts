// attention: causal multi-head self-attention, fused q, k, v rows (T, 3C) → (T, C); no parameters.
import { posInt, type LayerKindDef } from './kind.js';

export const attention: LayerKindDef<'attention'> = {
  kind: 'attention',
  resolve(l, c) {
    const { r, inShape } = c;
    c.needSeq();
    const C3 = inShape[1]!;
    if (C3 % 3 !== 0) c.fail(`needs fused q, k, v rows (T, 3C), got [${inShape}]`);
    const C = C3 / 3;
    if (!posInt(l.heads) || C % l.heads !== 0) c.fail(`heads must be a positive integer dividing C = ${C}, got ${l.heads}`);
    r.outShape = [inShape[0]!, C];
  },
};
