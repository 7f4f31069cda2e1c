// positions: (T, C) rows of an embedding + a learned position table (T, C), fused into its lookup
// (embedding.ts does the forward, backward and decode step). torch: Embedding (nanoGPT's wpe).
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
  fuse(l, out, fail) {
    const e = out[l.inputs[0]!]!;
    if (e.consumers.length !== 1) fail(`its embedding '${e.name}' must feed only the positions`);
    e.fusedPositions = true;
  },
  fused: (_l, src) => !!src?.fusedPositions,
  async decode({ x }) {
    return x[0]!; // added by the embedding's lookup
  },
  torch: { module: 'Embedding', layout: ' [T, C]' },
};
