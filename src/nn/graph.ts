// The graph compiler: a resolved model (nodes with inputs) → forward and backward dispatch records
// for a batch of B samples. A Sequential model compiles to exactly the records it always did. Each
// node's records come from its kind's file (layers/<kind>.ts: `forward`, `backward`).
//   values: the output tensor of every node (a fused relu's value is its dense/conv's output; a
//   flatten's is a reshape); gradients flow in reverse node order. A value read by several nodes
//   (a residual stream) gets the SUM of their gradients: the first contribution writes or aliases
//   the gradient buffer, later ones accumulate into it (kernel accumulate mode, or scratch + axpy).
//   `add` passes its output gradient to both inputs by aliasing, so a pre-norm residual stream keeps
//   one gradient buffer that every block's branch accumulates into (llm.c's dresidual); aliasing is
//   checked: accumulating into a buffer that a not-yet-processed node still has to read is refused.
//   Parameter gradients work the same way (a tied embedding gets the head's and the lookup's).
import type { Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';
import { Grads, type GraphContext, type NodeState } from './grads.js';
import { layerKind, type ForwardContext, type LayerKindDef } from './layers/index.js';
import { ModelError, type ResolvedLayer } from './spec.js';

export { Grads, type GradTarget, type GraphContext, type NodeState } from './grads.js';

export interface CompiledForward {
  nodes: NodeState[];
  forward: Dispatch[];
  output: Tensor;
}

/** The kind of node l (its definition: every kind in a resolved model has one). */
const defOf = (l: ResolvedLayer): LayerKindDef => layerKind(l.spec.kind)!;
const noKernel = (l: ResolvedLayer) => new ModelError(`graph: layer '${l.name}' (${l.spec.kind}) has no GPU kernel`);

/** What a node's forward and backward records see. */
function nodeContext(ctx: GraphContext, layers: ResolvedLayer[], n: NodeState): ForwardContext {
  const l = n.layer;
  return {
    g: ctx,
    layers,
    l,
    n,
    outShape: [ctx.B, ...l.outShape],
    W: (name = l.name) => ctx.arena.tensor('weights', `${name}.weight`),
    bias: (name = l.name) => ctx.arena.tensor('weights', `${name}.bias`),
  };
}

/** Forward records of `layers` reading `x0` (B samples, or B·T tokens for a language model). */
export async function compileForward(ctx: GraphContext, layers: ResolvedLayer[], x0: Tensor): Promise<CompiledForward> {
  const nodes: NodeState[] = [];
  const forward: Dispatch[] = [];
  const valueOf = (i: number) => (i < 0 ? x0 : nodes[i]!.y);
  for (const l of layers) {
    const x = l.inputs.map(valueOf);
    const node: NodeState = { layer: l, x, y: x[0]!, saved: {} };
    const def = defOf(l);
    if (def.fused?.(l as never, layers[l.inputs[0]!])) {
      node.fused = true;
      nodes.push(node);
      continue;
    }
    if (!def.forward) throw noKernel(l);
    forward.push(...(await def.forward(nodeContext(ctx, layers, node))));
    nodes.push(node);
  }
  return { nodes, forward, output: nodes[nodes.length - 1]!.y };
}

/** Which values depend on parameters (their gradient is needed). */
export function needsGrad(layers: ResolvedLayer[]): boolean[] {
  const need: boolean[] = [];
  for (const l of layers) need.push(l.params.length > 0 || !!defOf(l).shared || l.inputs.some((i) => i >= 0 && need[i]));
  return need;
}

/** Backward records, `gOut` being the loss gradient of the last node's output. */
export async function compileBackward(ctx: GraphContext, layers: ResolvedLayer[], f: CompiledForward, gOut: Tensor): Promise<Dispatch[]> {
  const need = needsGrad(layers);
  const grads = new Grads(ctx, f.nodes);
  const backward: Dispatch[] = [];
  await grads.alias(layers.length - 1, gOut);
  // a fused node's gradient is its producer's (a dense applies relu' itself; an embedding's
  // backward also gives the positions' gradient)
  const target = (i: number) => (i >= 0 && f.nodes[i]!.fused ? layers[i]!.inputs[0]! : i);
  const gradOf = (i: number) => {
    const t = target(i);
    return t >= 0 && need[t]! ? t : -1;
  };
  for (let j = layers.length - 1; j >= 0; j--) {
    grads.current = j;
    const n = f.nodes[j]!;
    const l = n.layer;
    if (n.fused) {
      const g = grads.of(j);
      if (g) backward.push(...(await grads.alias(target(j), g)));
      continue;
    }
    const gy = grads.of(j);
    if (!gy) continue;
    const def = defOf(l);
    if (!def.backward) throw noKernel(l);
    backward.push(...(await def.backward({ ...nodeContext(ctx, layers, n), gy, grads, gradOf, i0: gradOf(l.inputs[0]!) })));
  }
  return backward;
}
