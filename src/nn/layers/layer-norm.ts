// layerNorm: per-row normalisation of [T, C] rows, then ·γ + β (γ, β: (C), kept dense; γ = 1, β = 0
// initially). The forward keeps every row's mean and 1/std for the backward. torch: LayerNorm.
import * as ln from '../../kernels/layernorm.js';
import { ModelError } from '../spec.js';
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
  init(l, c) {
    c.set(`${l.name}.weight`, new Float32Array(l.inShape[1]!).fill(1));
    c.set(`${l.name}.bias`, new Float32Array(l.inShape[1]!));
  },
  async forward({ g, l, n, outShape, W, bias }) {
    const N = g.B * l.inShape[0]!,
      C = l.inShape[1]!;
    n.y = g.alloc(outShape, `${l.name}.y`);
    n.saved.mean = g.alloc([N], `${l.name}.mean`);
    n.saved.rstd = g.alloc([N], `${l.name}.rstd`);
    return ln.layerNorm(g.gpu, n.x[0]!.reshape([N, C]), W(), bias(), n.y.reshape([N, C]), n.saved.mean, n.saved.rstd);
  },
  async backward({ g, l, n, gy, grads, i0, W }) {
    const N = g.B * l.inShape[0]!,
      C = l.inShape[1]!;
    const dG = grads.param(`${l.name}.weight`),
      dB = grads.param(`${l.name}.bias`);
    if (dG.accumulate || dB.accumulate) throw new ModelError(`graph: layer norm '${l.name}' shares its parameters; not supported`);
    if (i0 < 0) throw new ModelError(`graph: layer norm '${l.name}' reads no trainable value; not supported`);
    const dx = grads.value(i0, `${l.name}.gx`);
    const r = await ln.layerNormBackward(g.gpu, {
      x: n.x[0]!.reshape([N, C]),
      gamma: W(),
      mean: n.saved.mean!,
      rstd: n.saved.rstd!,
      dy: gy.reshape([N, C]),
      dx: dx.t.reshape([N, C]),
      dgamma: dG.t,
      dbeta: dB.t,
      accumulate: dx.accumulate,
    });
    g.keep(r.scratch);
    return [...r.dispatches];
  },
  async decode({ gpu, l, x, rows, rec, out, alloc, W, bias }) {
    const y = out();
    rec.push(
      ...(await ln.layerNorm(gpu, x[0]!, W(l.name), bias(l.name), y, alloc([rows], `decode.${l.name}.mean`), alloc([rows], `decode.${l.name}.rstd`))),
    );
    return y;
  },
  torch: { module: 'LayerNorm' },
};
