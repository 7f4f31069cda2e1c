import { describe, expect, it } from 'vitest';
import { fitFactorizedPrior } from '../src/image/entropy-fit.js';
import { factorizedInit } from '../src/reference/factorized-prior.js';
import { rng, testGpu } from './helpers.js';

/** Entropy (bits) of the empirical distribution of rounded values: what a perfectly fitted model would approach. */
function empiricalBits(v: Float32Array, C: number, hw: number): number {
  let total = 0;
  for (let c = 0; c < C; c++) {
    const counts = new Map<number, number>();
    let n = 0;
    for (let i = 0; i < v.length; i++)
      if (Math.floor(i / hw) % C === c) {
        const k = Math.round(v[i]!);
        counts.set(k, (counts.get(k) ?? 0) + 1);
        n++;
      }
    for (const k of counts.values()) total -= k * Math.log2(k / n);
  }
  return total / v.length;
}

describe('fitFactorizedPrior (GPU training of the entropy model)', () => {
  it('fits Laplace latents of two scales to within 0.25 bit of their empirical entropy', async () => {
    const gpu = await testGpu();
    const shape: [number, number, number, number] = [16, 2, 8, 8];
    const r = rng(5);
    const hw = 64;
    const y = Float32Array.from({ length: 16 * 2 * hw }, (_, i) => {
      const scale = Math.floor(i / hw) % 2 === 0 ? 0.7 : 6;
      const u = r() - 0.5;
      return 1.5 - scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    });
    const fit = await fitFactorizedPrior(gpu, y, shape, factorizedInit(2, 10, 3), { steps: 300, lr: 0.03 });
    const ideal = empiricalBits(y, 2, hw);
    expect(fit.bitsAfter).toBeLessThan(fit.bitsBefore - 0.3);
    expect(fit.bitsAfter).toBeLessThan(ideal + 0.25);
    expect(fit.bitsAfter).toBeGreaterThan(ideal - 0.05);
  });
});
