// embedding: tokens [T] (input −1 of a language model) → rows [T, dim] of the table (vocab, dim).
// Its positions node is fused into the lookup: one kernel adds both tables, and its backward gives
// both gradients. Rows are B·T tokens (token-major: row = b·T + t). torch: Embedding (nanoGPT's wte).
import type { Dispatch } from '../../gpu/dispatch.js';
import * as ew from '../../kernels/elementwise.js';
import { embedding as lookup, embeddingBackward } from '../../kernels/embedding.js';
import { posInt, type LayerKindDef } from './kind.js';

export const embedding: LayerKindDef<'embedding'> = {
  kind: 'embedding',
  readsTokens: true,
  resolve(l, c) {
    const { r, inShape } = c;
    if (!c.tokens) c.fail(`an embedding reads the model's tokens (input −1 of a language model)`);
    if (!posInt(l.vocab) || l.vocab > 65536) c.fail(`vocab must be an integer in [1, 65536], got ${l.vocab}`);
    if (!posInt(l.dim)) c.fail(`dim must be a positive integer, got ${l.dim}`);
    r.outShape = [inShape[0]!, l.dim];
    r.seq = true;
    c.weight([l.vocab, l.dim]);
    r.fanIn = l.vocab;
    r.fanOut = l.dim;
  },
  async forward({ g, layers, l, n, outShape, W }) {
    const N = g.B * l.inShape[0]!;
    n.y = g.alloc(outShape, `${l.name}.y`);
    const pos = l.fusedPositions ? W(layers[l.consumers[0]!]!.name) : undefined;
    return lookup(g.gpu, n.x[0]!.reshape([N]), W(), pos, n.y.reshape([N, l.outShape[1]!]));
  },
  async backward({ g, layers, l, n, gy, grads }) {
    // one kernel family gives the table's and the positions' gradients, writing or accumulating
    // (both with the same flag: a written positions gradient is cleared first when the table accumulates)
    const out: Dispatch[] = [];
    const N = g.B * l.inShape[0]!,
      C = l.outShape[1]!;
    const dT = grads.param(`${l.name}.weight`);
    const dP = l.fusedPositions ? grads.param(`${layers[l.consumers[0]!]!.name}.weight`) : undefined;
    const accumulate = dT.accumulate || !!dP?.accumulate;
    if (accumulate) for (const t of [dT, dP]) if (t && !t.accumulate) out.push(...(await ew.fill(g.gpu, t.t, 0)));
    const r = await embeddingBackward(g.gpu, { tokens: n.x[0]!.reshape([N]), dout: gy.reshape([N, C]), dtable: dT.t, dpos: dP?.t, accumulate });
    g.keep(r.scratch);
    out.push(...r.dispatches);
    return out;
  },
  async decode({ gpu, layers, l, tokens, rec, out, W, positionRows }) {
    const y = out();
    const pos = l.fusedPositions ? positionRows(W(layers[l.consumers[0]!]!.name)) : undefined;
    rec.push(...(await lookup(gpu, tokens, W(l.name), pos, y)));
    return y;
  },
  torch: { module: 'Embedding', layout: ' [V, C]' },
};
