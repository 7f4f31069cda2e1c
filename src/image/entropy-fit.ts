// Fitting the codec's factorised entropy model on the GPU (slimgpu's own training path for it):
// minimise the mean bits of the noisy latents y + U(−½, ½) (Ballé et al.'s training proxy for
// rounding) over theta (C, 43) with AdamW, through kernels/factorized-prior.ts (the likelihood's
// gradient) and kernels/adamw.ts. The dispatches are built once; each step uploads a fresh noise
// draw and runs backward + update; nothing is read back until the end.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, run } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { adamw, createAdamWHyper, writeAdamWHyper } from '../kernels/adamw.js';
import { factorizedBits, factorizedBitsBackward, FP_PARAMS } from '../kernels/factorized-prior.js';
import { ImageError } from './raw.js';

export interface EntropyFitOptions {
  steps?: number;
  lr?: number;
  seed?: number;
}

export interface EntropyFit {
  theta: Float32Array;
  /** Mean bits per latent value of the rounded latents under theta0 and under the fitted theta. */
  bitsBefore: number;
  bitsAfter: number;
}

function noiseSource(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32 - 0.5;
  };
}

async function meanBits(gpu: Gpu, y: Tensor, theta: Tensor, bits: Tensor, rounded: Float32Array): Promise<number> {
  y.write(rounded);
  const d = await factorizedBits(gpu, y, theta, bits);
  await run(gpu, d);
  destroyDispatches(d);
  const b = await bits.read();
  let s = 0;
  for (const v of b) s += v;
  return s / b.length;
}

/** Fits theta (C, 43) to latents (N, C, H, W) on the GPU; returns the fitted theta and the bits before/after. */
export async function fitFactorizedPrior(
  gpu: Gpu,
  latents: Float32Array,
  shape: [number, number, number, number],
  theta0: Float32Array,
  opts: EntropyFitOptions = {},
): Promise<EntropyFit> {
  const [, C] = shape;
  const n = shape.reduce((a, b) => a * b, 1);
  if (latents.length !== n) throw new ImageError(`fitFactorizedPrior: ${latents.length} latents for shape [${shape}]`);
  if (theta0.length !== C * FP_PARAMS) throw new ImageError(`fitFactorizedPrior: theta must hold ${C} × ${FP_PARAMS} values`);
  const steps = opts.steps ?? 200,
    lr = opts.lr ?? 0.01;
  const rnd = noiseSource(opts.seed ?? 1);
  const y = createTensor(gpu, shape),
    theta = createTensor(gpu, [C, FP_PARAMS], theta0),
    dbits = createTensor(gpu, shape, new Float32Array(n).fill(1 / n)),
    dy = createTensor(gpu, shape),
    bits = createTensor(gpu, shape),
    dtheta = createTensor(gpu, [C, FP_PARAMS]),
    m = createTensor(gpu, [C, FP_PARAMS]),
    v = createTensor(gpu, [C, FP_PARAMS]);
  const hyper = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
  const h = createAdamWHyper(gpu, hyper);
  const rounded = Float32Array.from(latents, Math.round);
  const dispatches = [...(await factorizedBitsBackward(gpu, y, theta, dbits, dy, dtheta)), ...(await adamw(gpu, { w: theta, g: dtheta, m, v }, h))];
  try {
    const bitsBefore = await meanBits(gpu, y, theta, bits, rounded);
    const noisy = new Float32Array(n);
    for (let t = 1; t <= steps; t++) {
      for (let i = 0; i < n; i++) noisy[i] = latents[i]! + rnd();
      y.write(noisy);
      writeAdamWHyper(h, { ...hyper, lr: t > 0.8 * steps ? lr / 10 : lr, step: t });
      const enc = gpu.device.createCommandEncoder({ label: 'fitFactorizedPrior step' });
      encodeDispatches(enc, dispatches); // not run(): it frees the dispatches' uniforms, these are reused
      gpu.device.queue.submit([enc.finish()]);
      if (t % 50 === 0) await gpu.device.queue.onSubmittedWorkDone(); // bound the queue, no readback
    }
    const bitsAfter = await meanBits(gpu, y, theta, bits, rounded);
    return { theta: (await theta.read()) as Float32Array, bitsBefore, bitsAfter };
  } finally {
    destroyDispatches(dispatches);
    for (const t of [y, theta, dbits, dy, bits, dtheta, m, v, h]) t.dispose();
  }
}
