// attention: causal multi-head self-attention, fused q, k, v rows (T, 3C) → (T, C); no parameters.
// Decoding keeps a key/value cache per attention node (kernels/attention-decode.ts).
import { destroyDispatches } from '../../gpu/dispatch.js';
import * as attn from '../../kernels/attention.js';
import { attentionDecode } from '../../kernels/attention-decode.js';
import type { GraphContext } from '../grads.js';
import { posInt, type LayerKindDef, type LayerOf } from './kind.js';

/** The attention variant of every plan in this process (SLIMGPU_ATTENTION_VARIANT, else the kernel's default). */
export function attentionOpts(g: GraphContext, l: LayerOf<'attention'>): attn.AttentionOptions {
  return { B: g.B, T: l.inShape[0]!, H: l.spec.heads, variant: attn.attentionVariant() };
}

export const attention: LayerKindDef<'attention'> = {
  kind: 'attention',
  kvCache: true,
  resolve(l, c) {
    const { r, inShape } = c;
    c.needSeq();
    const C3 = inShape[1]!;
    if (C3 % 3 !== 0) c.fail(`needs fused q, k, v rows (T, 3C), got [${inShape}]`);
    const C = C3 / 3;
    if (!posInt(l.heads) || C % l.heads !== 0) c.fail(`heads must be a positive integer dividing C = ${C}, got ${l.heads}`);
    r.outShape = [inShape[0]!, C];
  },
  async forward({ g, l, n, outShape }) {
    const o = attentionOpts(g, l);
    const N = g.B * l.inShape[0]!,
      C = l.outShape[1]!;
    n.y = g.alloc(outShape, `${l.name}.y`);
    n.saved.saved = g.alloc(attn.attentionSavedShape(o, attn.attentionVariant(o.variant)), `${l.name}.saved`);
    return attn.attention(g.gpu, n.x[0]!.reshape([N, 3 * C]), n.y.reshape([N, C]), n.saved.saved, o);
  },
  async backward({ g, l, n, gy, grads, i0 }) {
    if (i0 < 0) return [];
    const o = attentionOpts(g, l);
    const N = g.B * l.inShape[0]!,
      C = l.outShape[1]!;
    const scratch = g.alloc(attn.attentionScratchShape(o, attn.attentionVariant(o.variant)), `${l.name}.scratch`);
    const qkv = n.x[0]!.reshape([N, 3 * C]);
    return grads.emit(grads.value(i0, `${l.name}.gx`), (dst) =>
      attn.attentionBackward(
        g.gpu,
        { qkv, out: n.y.reshape([N, C]), saved: n.saved.saved!, dout: gy.reshape([N, C]), scratch, dqkv: dst.reshape([N, 3 * C]) },
        o,
      ),
    );
  },
  async decode({ gpu, l, x, needed, rec, out, kCache, vCache, position }) {
    const y = out();
    const d = await attentionDecode(gpu, { qkv: x[0]!, kCache, vCache, position, out: y }, { H: l.spec.heads });
    if (needed) rec.push(...d);
    else {
      rec.push(d[0]!);
      destroyDispatches(d.slice(1));
    } // kv_append only: nothing reads this output
    return y;
  },
};
