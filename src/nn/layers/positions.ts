// positions: (T, C) rows of an embedding + a learned position table (T, C), fused into its lookup.
import type { LayerKindDef } from './kind.js';

export const positions: LayerKindDef<'positions'> = {
  kind: 'positions',
  resolve(_l, c) {
    const { r, inShape } = c;
    c.needSeq();
    if (c.out[r.inputs[0]!]?.spec.kind !== 'embedding') c.fail(`positions read an embedding directly (they are added by its lookup kernel)`);
    c.weight([...inShape]);
    r.fanIn = inShape[0];
    r.fanOut = inShape[1];
  },
};
