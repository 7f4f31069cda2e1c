// tiedHead: logits (T, V) = x · Eᵀ with E the table of the embedding node `tie` (no own parameter).
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
};
