// The factorised entropy model's likelihood and its gradient (shaders/factorized-prior.wgsl; CPU
// reference src/reference/factorized-prior.ts): per latent channel a monotone MLP 1-3-3-3-1 gives
// the CDF's logit (Ballé et al. 2018), and
//   factorizedBits:         bits (N, C, H, W) = −log2 max(P(y − ½ < Y ≤ y + ½), 1e-9) for y (N, C, H, W)
//   factorizedBitsBackward: dy = dbits·∂bits/∂y (N, C, H, W) and dtheta (C, 43) = Σ dbits·∂bits/∂theta
//                           (both overwritten; one workgroup per channel, a fixed summation order)
// theta (C, 43): each channel's raw parameters H0 b0 f0 H1 b1 f1 H2 b2 f2 H3 b3 (FP_LAYOUT); the
// image codec's trainer writes them as entf.* (python/image_codec.py), packFactorizedTheta packs them.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, checkWorkgroups, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { FP_LAYOUT, FP_PARAMS } from '../reference/factorized-prior.js';
import { checkArgs, fail } from './args.js';

export { FP_LAYOUT, FP_PARAMS };
export const FP_WG = 64;

/** Checks y (N, C, H, W) and theta (C, 43); returns the sizes. */
function dims(op: string, y: Tensor, theta: Tensor): { N: number; C: number; HW: number } {
  checkArgs(op, { y: { t: y, rank: 4, dtype: 'f32', what: '(N, C, H, W)' } });
  const [N, C, H, W] = y.shape as [number, number, number, number];
  checkArgs(op, { y: { t: y }, theta: { t: theta, rank: 2, dtype: 'f32', shape: [C, FP_PARAMS], what: `(C, ${FP_PARAMS})` } });
  if (N * C * H * W > 2 ** 31) fail(op, `y has ${N * C * H * W} elements; at most 2^31`);
  return { N, C, HW: H * W };
}

/** Dispatch records for bits = −log2 likelihood(y) under theta. */
export async function factorizedBits(gpu: Gpu, y: Tensor, theta: Tensor, bits: Tensor): Promise<Dispatch[]> {
  const op = 'factorizedBits';
  const d = dims(op, y, theta);
  checkArgs(op, { y: { t: y }, theta: { t: theta }, bits: { t: bits, dtype: 'f32', shape: y.shape, what: '(like y)', out: true } });
  const pipeline = await pipelines(gpu).get('factorized-prior', { WG: FP_WG, BACKWARD: false });
  const label = `factorizedBits ${y.shape.join('x')}`;
  const p = uniformParams(gpu, `${op}.params`, [
    ['u32', d.N],
    ['u32', d.C],
    ['u32', d.HW],
    ['u32', 0],
  ]);
  const workgroups = grid(gpu, Math.ceil((d.N * d.C * d.HW) / FP_WG));
  checkWorkgroups(gpu, label, workgroups);
  return [{ label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, [p, y, theta, bits]), workgroups, owned: [p] }];
}

/** Dispatch records for dy (like y) and dtheta (C, 43) from the upstream gradient dbits (like y). */
export async function factorizedBitsBackward(gpu: Gpu, y: Tensor, theta: Tensor, dbits: Tensor, dy: Tensor, dtheta: Tensor): Promise<Dispatch[]> {
  const op = 'factorizedBitsBackward';
  const d = dims(op, y, theta);
  checkArgs(op, {
    y: { t: y },
    theta: { t: theta },
    dbits: { t: dbits, dtype: 'f32', shape: y.shape, what: '(like y)' },
    dy: { t: dy, dtype: 'f32', shape: y.shape, what: '(like y)', out: true },
    dtheta: { t: dtheta, dtype: 'f32', shape: [d.C, FP_PARAMS], what: `(C, ${FP_PARAMS})`, out: true },
  });
  const pipeline = await pipelines(gpu).get('factorized-prior', { WG: FP_WG, BACKWARD: true });
  const label = `factorizedBitsBackward ${y.shape.join('x')}`;
  const p = uniformParams(gpu, `${op}.params`, [
    ['u32', d.N],
    ['u32', d.C],
    ['u32', d.HW],
    ['u32', 0],
  ]);
  const workgroups: [number, number, number] = [d.C, 1, 1];
  checkWorkgroups(gpu, label, workgroups);
  return [{ label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, [p, y, theta, dbits, dy, dtheta]), workgroups, owned: [p] }];
}

/**
 * Packs the trainer's factorised-density tensors (torch layout, python/image_codec.py's entf.*:
 * mats.i (C, out, in), biases.i (C, out, 1), factors.i (C, out, 1)) into theta (C, 43).
 */
export function packFactorizedTheta(t: Record<string, { data: ArrayLike<number>; shape: readonly number[] }>, C: number): Float32Array {
  const theta = new Float32Array(C * FP_PARAMS);
  const L = FP_LAYOUT;
  const blocks: [string, number, number][] = [
    ['entf.mats.0', L.h0, 3],
    ['entf.biases.0', L.b0, 3],
    ['entf.factors.0', L.f0, 3],
    ['entf.mats.1', L.h1, 9],
    ['entf.biases.1', L.b1, 3],
    ['entf.factors.1', L.f1, 3],
    ['entf.mats.2', L.h2, 9],
    ['entf.biases.2', L.b2, 3],
    ['entf.factors.2', L.f2, 3],
    ['entf.mats.3', L.h3, 3],
    ['entf.biases.3', L.b3, 1],
  ];
  for (const [name, off, n] of blocks) {
    const v = t[name];
    if (!v || v.shape[0] !== C || v.data.length !== C * n) fail('packFactorizedTheta', `'${name}' must hold ${C} × ${n} values`);
    for (let c = 0; c < C; c++) for (let k = 0; k < n; k++) theta[c * FP_PARAMS + off + k] = v.data[c * n + k]!;
  }
  return theta;
}
