// Forward and backward records of the language-model nodes: embedding, positions, layerNorm,
// attention, gelu, add, tiedHead. Rows are B·T tokens (token-major: row = b·T + t).
import type { Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';
import * as ew from '../kernels/elementwise.js';
import * as mm from '../kernels/matmul.js';
import type { GraphContext, Grads, NodeState } from './graph.js';
import { ModelError, type ResolvedLayer } from './model.js';

const rowsOf = (ctx: GraphContext, l: ResolvedLayer) => ctx.B * l.inShape[0]!;

export async function textForward(ctx: GraphContext, layers: ResolvedLayer[], n: NodeState): Promise<Dispatch[]> {
  const { gpu, B, arena } = ctx;
  const l = n.layer;
  const outShape = [B, ...l.outShape];
  switch (l.spec.kind) {
    case 'add': {
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      return [...await ew.copy(gpu, n.x[0]!, n.y), ...await ew.axpy(gpu, 1, n.x[1]!, n.y)];
    }
    case 'tiedHead': {
      const N = rowsOf(ctx, l);
      const E = arena.tensor('weights', `${layers[l.spec.tie]!.name}.weight`);
      n.y = ctx.alloc(outShape, `${l.name}.y`);
      return mm.matmul(gpu, n.x[0]!.reshape([N, E.shape[1]!]), E, n.y.reshape([N, E.shape[0]!]), { transposeB: true });
    }
    default:
      throw new ModelError(`graph: layer '${l.name}' (${l.spec.kind}) has no GPU kernel yet`);
  }
}

export async function textBackward(
  ctx: GraphContext, layers: ResolvedLayer[], n: NodeState, gy: Tensor, grads: Grads, gradOf: (input: number) => number,
): Promise<Dispatch[]> {
  const { gpu, arena } = ctx;
  const l = n.layer;
  const out: Dispatch[] = [];
  switch (l.spec.kind) {
    case 'add': {
      for (const i of l.inputs) { const t = gradOf(i); if (t >= 0) out.push(...await grads.alias(t, gy)); }
      return out;
    }
    case 'tiedHead': {
      const N = rowsOf(ctx, l);
      const name = `${layers[l.spec.tie]!.name}.weight`;
      const E = arena.tensor('weights', name);
      const [V, C] = E.shape as [number, number];
      const x2 = n.x[0]!.reshape([N, C]), g2 = gy.reshape([N, V]);
      out.push(...await grads.emit(grads.param(name), (dst) => mm.matmul(gpu, g2, x2, dst, { transposeA: true })));
      const i = gradOf(l.inputs[0]!);
      if (i >= 0) out.push(...await grads.emit(grads.value(i, `${l.name}.gx`), (dst) => mm.matmul(gpu, g2, E, dst.reshape([N, C]))));
      return out;
    }
    default:
      throw new ModelError(`graph: layer '${l.name}' (${l.spec.kind}) has no GPU kernel yet`);
  }
}
