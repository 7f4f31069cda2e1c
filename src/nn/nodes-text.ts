// Forward and backward records of the language-model nodes: embedding (+ fused positions),
// layerNorm, attention, gelu, add, tiedHead. Rows are B·T tokens (token-major: row = b·T + t).
import type { Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';
import * as attn from '../kernels/attention.js';
import * as ew from '../kernels/elementwise.js';
import { embedding, embeddingBackward } from '../kernels/embedding.js';
import { layerNorm, layerNormBackward } from '../kernels/layernorm.js';
import * as mm from '../kernels/matmul.js';
import type { GraphContext, Grads, NodeState } from './grads.js';
import { ModelError, type ResolvedLayer } from './model.js';

const rowsOf = (ctx: GraphContext, l: ResolvedLayer) => ctx.B * l.inShape[0]!;

/** The attention variant of every plan in this process (SLIMGPU_ATTENTION_VARIANT, else the kernel's default). */
export function attentionOpts(ctx: GraphContext, l: ResolvedLayer): attn.AttentionOptions {
  if (l.spec.kind !== 'attention') throw new ModelError(`graph: '${l.name}' is not an attention layer`);
  return { B: ctx.B, T: l.inShape[0]!, H: l.spec.heads, variant: attn.attentionVariant() };
}

export async function textForward(ctx: GraphContext, layers: ResolvedLayer[], n: NodeState): Promise<Dispatch[]> {
  const { gpu, B, arena } = ctx;
  const l = n.layer;
  const outShape = [B, ...l.outShape];
  const W = (name = l.name) => arena.tensor('weights', `${name}.weight`);
  switch (l.spec.kind) {
    case 'embedding': {
      const N = rowsOf(ctx, l);
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      const pos = l.fusedPositions ? W(layers[l.consumers[0]!]!.name) : undefined;
      return embedding(gpu, n.x[0]!.reshape([N]), W(), pos, n.y.reshape([N, l.outShape[1]!]));
    }
    case 'layerNorm': {
      const N = rowsOf(ctx, l),
        C = l.inShape[1]!;
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      n.saved.mean = ctx.alloc([N], `${l.name}.mean`);
      n.saved.rstd = ctx.alloc([N], `${l.name}.rstd`);
      return layerNorm(gpu, n.x[0]!.reshape([N, C]), W(), arena.tensor('weights', `${l.name}.bias`), n.y.reshape([N, C]), n.saved.mean, n.saved.rstd);
    }
    case 'attention': {
      const o = attentionOpts(ctx, l);
      const N = rowsOf(ctx, l),
        C = l.outShape[1]!;
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      n.saved.saved = ctx.alloc(attn.attentionSavedShape(o, attn.attentionVariant(o.variant)), `${l.name}.saved`);
      return attn.attention(gpu, n.x[0]!.reshape([N, 3 * C]), n.y.reshape([N, C]), n.saved.saved, o);
    }
    case 'gelu':
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      return ew.gelu(gpu, n.x[0]!, n.y);
    case 'add':
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      return ew.add(gpu, n.x[0]!, n.x[1]!, n.y);
    case 'tiedHead': {
      const N = rowsOf(ctx, l);
      const E = W(layers[l.spec.tie]!.name);
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      return mm.matmul(gpu, n.x[0]!.reshape([N, E.shape[1]!]), E, n.y.reshape([N, E.shape[0]!]), { transposeB: true });
    }
    default:
      throw new ModelError(`graph: layer '${l.name}' (${l.spec.kind}) has no GPU kernel`);
  }
}

/**
 * Backward records of node `n` given its output gradient `gy`; `gradOf(i)` maps input i to the
 * value whose gradient it feeds (−1: none needed).
 */
export async function textBackward(
  ctx: GraphContext,
  layers: ResolvedLayer[],
  n: NodeState,
  gy: Tensor,
  grads: Grads,
  gradOf: (input: number) => number,
): Promise<Dispatch[]> {
  const { gpu, arena } = ctx;
  const l = n.layer;
  const out: Dispatch[] = [];
  const i0 = gradOf(l.inputs[0]!);
  switch (l.spec.kind) {
    case 'embedding': {
      // one kernel family gives the table's and the positions' gradients, writing or accumulating
      // (both with the same flag: a written positions gradient is cleared first when the table accumulates)
      const N = rowsOf(ctx, l),
        C = l.outShape[1]!;
      const dT = grads.param(`${l.name}.weight`);
      const dP = l.fusedPositions ? grads.param(`${layers[l.consumers[0]!]!.name}.weight`) : undefined;
      const accumulate = dT.accumulate || !!dP?.accumulate;
      if (accumulate) for (const t of [dT, dP]) if (t && !t.accumulate) out.push(...(await ew.fill(gpu, t.t, 0)));
      const r = await embeddingBackward(gpu, { tokens: n.x[0]!.reshape([N]), dout: gy.reshape([N, C]), dtable: dT.t, dpos: dP?.t, accumulate });
      ctx.keep(r.scratch);
      out.push(...r.dispatches);
      return out;
    }
    case 'layerNorm': {
      const N = rowsOf(ctx, l),
        C = l.inShape[1]!;
      const dG = grads.param(`${l.name}.weight`),
        dB = grads.param(`${l.name}.bias`);
      if (dG.accumulate || dB.accumulate) throw new ModelError(`graph: layer norm '${l.name}' shares its parameters; not supported`);
      if (i0 < 0) throw new ModelError(`graph: layer norm '${l.name}' reads no trainable value; not supported`);
      const dx = grads.value(i0, `${l.name}.gx`);
      const r = await layerNormBackward(gpu, {
        x: n.x[0]!.reshape([N, C]),
        gamma: arena.tensor('weights', `${l.name}.weight`),
        mean: n.saved.mean!,
        rstd: n.saved.rstd!,
        dy: gy.reshape([N, C]),
        dx: dx.t.reshape([N, C]),
        dgamma: dG.t,
        dbeta: dB.t,
        accumulate: dx.accumulate,
      });
      ctx.keep(r.scratch);
      out.push(...r.dispatches);
      return out;
    }
    case 'attention': {
      if (i0 < 0) return out;
      const o = attentionOpts(ctx, l);
      const N = rowsOf(ctx, l),
        C = l.outShape[1]!;
      const scratch = ctx.alloc(attn.attentionScratchShape(o, attn.attentionVariant(o.variant)), `${l.name}.scratch`);
      const qkv = n.x[0]!.reshape([N, 3 * C]);
      return grads.emit(grads.value(i0, `${l.name}.gx`), (dst) =>
        attn.attentionBackward(
          gpu,
          { qkv, out: n.y.reshape([N, C]), saved: n.saved.saved!, dout: gy.reshape([N, C]), scratch, dqkv: dst.reshape([N, 3 * C]) },
          o,
        ),
      );
    }
    case 'gelu':
      if (i0 < 0) return out;
      return grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => ew.geluBackward(gpu, n.x[0]!, gy, dst));
    case 'add': {
      for (const i of l.inputs) {
        const t = gradOf(i);
        if (t >= 0) out.push(...(await grads.alias(t, gy)));
      }
      return out;
    }
    case 'tiedHead': {
      const N = rowsOf(ctx, l);
      const name = `${layers[l.spec.tie]!.name}.weight`;
      const E = arena.tensor('weights', name);
      const [V, C] = E.shape as [number, number];
      const x2 = n.x[0]!.reshape([N, C]),
        g2 = gy.reshape([N, V]);
      out.push(...(await grads.emit(grads.param(name), (dst) => mm.matmul(gpu, g2, x2, dst, { transposeA: true }))));
      if (i0 >= 0) out.push(...(await grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => mm.matmul(gpu, g2, E, dst.reshape([N, C])))));
      return out;
    }
    default:
      throw new ModelError(`graph: layer '${l.name}' (${l.spec.kind}) has no GPU kernel`);
  }
}
