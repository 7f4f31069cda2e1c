// The graph compiler: a resolved model (nodes with inputs) → forward and backward dispatch records
// for a batch of B samples. A Sequential model compiles to exactly the records it always did.
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
import * as conv from '../kernels/conv2d.js';
import * as ew from '../kernels/elementwise.js';
import * as mm from '../kernels/matmul.js';
import * as pool from '../kernels/pool.js';
import { Grads, type GraphContext, type NodeState } from './grads.js';
import type { ResolvedLayer } from './model.js';
import { textBackward, textForward } from './nodes-text.js';

export { Grads, type GradTarget, type GraphContext, type NodeState } from './grads.js';

export interface CompiledForward {
  nodes: NodeState[];
  forward: Dispatch[];
  output: Tensor;
}

/** Forward records of `layers` reading `x0` (B samples, or B·T tokens for a language model). */
export async function compileForward(ctx: GraphContext, layers: ResolvedLayer[], x0: Tensor): Promise<CompiledForward> {
  const { gpu, B, arena } = ctx;
  const nodes: NodeState[] = [];
  const forward: Dispatch[] = [];
  const valueOf = (i: number) => (i < 0 ? x0 : nodes[i]!.y);
  for (const l of layers) {
    const x = l.inputs.map(valueOf);
    const outShape = [B, ...l.outShape];
    const node: NodeState = { layer: l, x, y: x[0]!, saved: {} };
    const src = layers[l.inputs[0]!];
    if ((l.spec.kind === 'relu' && src?.fusedActivation === 'relu') || (l.spec.kind === 'positions' && src?.fusedPositions)) {
      node.fused = true;
      nodes.push(node);
      continue;
    }
    const W = () => arena.tensor('weights', `${l.name}.weight`);
    const bias = () => arena.tensor('weights', `${l.name}.bias`);
    switch (l.spec.kind) {
      case 'dense': {
        // per-token rows: (B·T, in) · (in, out)
        const rows = l.seq ? B * l.inShape[0]! : B;
        node.y = ctx.alloc(outShape, `${l.name}.y`);
        forward.push(
          ...(await mm.matmul(gpu, x[0]!.reshape([rows, l.weightShape![0]!]), W(), node.y.reshape([rows, l.weightShape![1]!]), {
            bias: bias(),
            activation: l.fusedActivation ?? 'none',
          })),
        );
        break;
      }
      case 'conv2d':
        node.y = ctx.alloc(outShape, `${l.name}.y`);
        forward.push(
          ...(await conv.conv2d(gpu, x[0]!, W(), node.y, {
            bias: bias(),
            stride: l.spec.stride ?? 1,
            padding: l.spec.padding ?? 0,
            activation: l.fusedActivation ?? 'none',
          })),
        );
        break;
      case 'maxPool2d': {
        node.y = ctx.alloc(outShape, `${l.name}.y`);
        node.saved.argmax = ctx.alloc(outShape, `${l.name}.argmax`, 'u32');
        const k = l.spec.size ?? 2;
        forward.push(...(await pool.maxPool2d(gpu, x[0]!, node.y, node.saved.argmax, { kernel: k, stride: l.spec.stride ?? k })));
        break;
      }
      case 'flatten':
        node.y = x[0]!.reshape(outShape);
        break;
      case 'relu':
      case 'sigmoid':
      case 'tanh': {
        node.y = ctx.alloc(outShape, `${l.name}.y`);
        const fn = l.spec.kind === 'relu' ? ew.relu : l.spec.kind === 'sigmoid' ? ew.sigmoid : ew.tanh;
        forward.push(...(await fn(gpu, x[0]!, node.y)));
        break;
      }
      default:
        forward.push(...(await textForward(ctx, layers, node)));
    }
    nodes.push(node);
  }
  return { nodes, forward, output: nodes[nodes.length - 1]!.y };
}

/** Which values depend on parameters (their gradient is needed). */
export function needsGrad(layers: ResolvedLayer[]): boolean[] {
  const need: boolean[] = [];
  for (const l of layers) need.push(l.params.length > 0 || l.spec.kind === 'tiedHead' || l.inputs.some((i) => i >= 0 && need[i]));
  return need;
}

/** Backward records, `gOut` being the loss gradient of the last node's output. */
export async function compileBackward(ctx: GraphContext, layers: ResolvedLayer[], f: CompiledForward, gOut: Tensor): Promise<Dispatch[]> {
  const { gpu, B } = ctx;
  const need = needsGrad(layers);
  const grads = new Grads(ctx, f.nodes);
  const backward: Dispatch[] = [];
  await grads.alias(layers.length - 1, gOut);
  // a fused node's gradient is its producer's (a dense applies relu' itself; an embedding's
  // backward also gives the positions' gradient)
  const target = (i: number) => (i >= 0 && f.nodes[i]!.fused ? layers[i]!.inputs[0]! : i);
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
    const i0 = target(l.inputs[0]!);
    const wantX = i0 >= 0 && need[i0]!;
    switch (l.spec.kind) {
      case 'dense':
      case 'conv2d': {
        let dz = gy;
        if (l.fusedActivation === 'relu') {
          dz = ctx.alloc([...gy.shape], `${l.name}.dz`);
          backward.push(...(await ew.reluBackward(gpu, n.y, gy, dz)));
        }
        const W = ctx.arena.tensor('weights', `${l.name}.weight`);
        const dW = grads.param(`${l.name}.weight`),
          db = grads.param(`${l.name}.bias`);
        if (l.spec.kind === 'dense') {
          const rows = l.seq ? B * l.inShape[0]! : B;
          const [inD, outD] = l.weightShape as [number, number];
          const x2 = n.x[0]!.reshape([rows, inD]),
            dz2 = dz.reshape([rows, outD]);
          backward.push(...(await grads.emit(dW, (dst) => mm.matmul(gpu, x2, dz2, dst, { transposeA: true }))));
          backward.push(...(await grads.emit(db, (dst) => mm.colsum(gpu, dz2, dst))));
          if (wantX) {
            const gx = grads.value(i0, `${l.name}.gx`);
            backward.push(...(await grads.emit(gx, (dst) => mm.matmul(gpu, dz2, W, dst.reshape([rows, inD]), { transposeB: true }))));
          }
        } else {
          const geo = { stride: l.spec.stride ?? 1, padding: l.spec.padding ?? 0 };
          backward.push(...(await grads.emit(dW, (dst) => conv.conv2dBackwardFilter(gpu, n.x[0]!, dz, dst, geo))));
          backward.push(...(await grads.emit(db, (dst) => conv.conv2dBiasGrad(gpu, dz, dst))));
          if (wantX) backward.push(...(await grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => conv.conv2dBackwardData(gpu, dz, W, dst, geo))));
        }
        break;
      }
      case 'maxPool2d': {
        const k = l.spec.size ?? 2,
          stride = l.spec.stride ?? k;
        if (wantX)
          backward.push(
            ...(await grads.emit(grads.value(i0, `${l.name}.gx`), (dst) =>
              pool.maxPool2dBackward(gpu, gy, n.saved.argmax!, dst, { kernel: k, stride }),
            )),
          );
        break;
      }
      case 'flatten':
        if (wantX) backward.push(...(await grads.alias(i0, gy)));
        break;
      case 'relu':
      case 'sigmoid':
      case 'tanh': {
        const fn = l.spec.kind === 'relu' ? ew.reluBackward : l.spec.kind === 'sigmoid' ? ew.sigmoidBackward : ew.tanhBackward;
        if (wantX) backward.push(...(await grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => fn(gpu, n.y, gy, dst))));
        break;
      }
      default:
        backward.push(
          ...(await textBackward(ctx, layers, n, gy, grads, (i) => {
            const t = target(i);
            return t >= 0 && need[t]! ? t : -1;
          })),
        );
    }
  }
  return backward;
}
