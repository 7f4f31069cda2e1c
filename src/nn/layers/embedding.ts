// embedding: tokens [T] (input −1 of a language model) → rows [T, dim] of the table (vocab, dim).
import { posInt, type LayerKindDef } from './kind.js';

export const embedding: LayerKindDef<'embedding'> = {
  kind: 'embedding',
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
};
