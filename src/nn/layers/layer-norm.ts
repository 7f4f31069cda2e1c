// layerNorm: per-row normalisation of [T, C] rows, then ·γ + β (γ, β: (C), kept dense).
import type { LayerKindDef } from './kind.js';

export const layerNorm: LayerKindDef<'layerNorm'> = {
  kind: 'layerNorm',
  resolve(_l, c) {
    const { r, inShape } = c;
    c.needSeq();
    r.params.push(
      { name: `${r.name}.weight`, shape: [inShape[1]!], prunable: false },
      { name: `${r.name}.bias`, shape: [inShape[1]!], prunable: false },
    );
  },
};
