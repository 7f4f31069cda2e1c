// Shared by the kinds: an elementwise activation's kind definition (relu, sigmoid, tanh: same shape,
// no parameters, forward y = f(x), backward from y), and the relu' of a dense/conv with a fused relu.
import type { Gpu } from '../../gpu/device.js';
import type { Dispatch } from '../../gpu/dispatch.js';
import type { Tensor } from '../../gpu/tensor.js';
import * as ew from '../../kernels/elementwise.js';
import type { LayerKind, ResolvedLayer } from '../spec.js';
import type { BackwardContext, LayerKindDef } from './kind.js';

type Fn = (gpu: Gpu, a: Tensor, b: Tensor) => Promise<Dispatch[]>;
type Grad = (gpu: Gpu, y: Tensor, dy: Tensor, dx: Tensor) => Promise<Dispatch[]>;

export function activation<K extends LayerKind>(kind: K, fn: Fn, grad: Grad, extra: Partial<LayerKindDef<K>> = {}): LayerKindDef<K> {
  return {
    kind,
    resolve() {},
    async forward({ g, l, n, outShape }) {
      n.y = g.alloc(outShape, `${l.name}.y`);
      return fn(g.gpu, n.x[0]!, n.y);
    },
    async backward({ g, l, n, gy, grads, i0 }) {
      if (i0 < 0) return [];
      return grads.emit(grads.value(i0, `${l.name}.gx`), (dst) => grad(g.gpu, n.y, gy, dst));
    },
    ...extra,
  };
}

/** The gradient before a fused relu (relu' applied to gy, pushed onto `out`), or gy itself. */
export async function fusedReluGrad(c: Pick<BackwardContext, 'g' | 'n' | 'gy'> & { l: ResolvedLayer }, out: Dispatch[]): Promise<Tensor> {
  const { g, l, n, gy } = c;
  if (l.fusedActivation !== 'relu') return gy;
  const dz = g.alloc([...gy.shape], `${l.name}.dz`);
  out.push(...(await ew.reluBackward(g.gpu, n.y, gy, dz)));
  return dz;
}
