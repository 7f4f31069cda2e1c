import { describe, expect, it } from 'vitest';
import { createTensor, encodeDispatches } from '../src/index.js';
import { advanceStep, gatherBatch, packBytes, prepareStep } from '../src/kernels/step.js';
import { rng, testGpu } from './helpers.js';

// The scheduler's kernels: batch gathering through a permutation at the GPU step counter, per-step
// hyper-parameters from the table, the counter itself.
describe('step kernels', () => {
  for (const [D, bytes] of [
    [784, true],
    [12, true],
    [13, true],
    [1, true],
    [7, false],
    [784, false],
  ] as [number, boolean][]) {
    it(`gather: D=${D} ${bytes ? 'bytes' : 'f32'} rows follow perm[(step − start)·B + j] and are normalised`, async () => {
      const gpu = await testGpu();
      const n = 37,
        B = 5,
        r = rng(D);
      const raw = bytes ? Uint8Array.from({ length: n * D }, () => Math.floor(r() * 256)) : Float32Array.from({ length: n * D }, () => r() * 10 - 5);
      const perm = Uint32Array.from({ length: n }, (_, i) => (i * 11 + 3) % n);
      const data = bytes
        ? createTensor(gpu, [Math.ceil((n * D) / 4)], packBytes(raw as Uint8Array), { dtype: 'u32' })
        : createTensor(gpu, [n * D], raw);
      const labels = createTensor(
        gpu,
        [n],
        Uint32Array.from({ length: n }, (_, i) => i % 10),
        { dtype: 'u32' },
      );
      const state = createTensor(gpu, [4], [9, 7, 0, 0], { dtype: 'u32' }); // step 9, permutation started at step 7
      const out = createTensor(gpu, [B * D]);
      const outLabels = createTensor(gpu, [B], undefined, { dtype: 'u32' });
      const permT = createTensor(gpu, [n], perm, { dtype: 'u32' });
      const scale = 0.5,
        shift = -1.25;
      const ds = [
        ...(await gatherBatch(gpu, { state, perm: permT, data, bytes, n, D, out, scale, shift, labels, outLabels })),
        ...(await advanceStep(gpu, state)),
      ];
      const enc = gpu.device.createCommandEncoder();
      encodeDispatches(enc, ds);
      gpu.device.queue.submit([enc.finish()]);
      const got = await out.read();
      const want = new Float32Array(B * D),
        wantLabels: number[] = [];
      for (let j = 0; j < B; j++) {
        const s = perm[(2 * B + j) % n]!;
        wantLabels.push(s % 10);
        for (let d = 0; d < D; d++) want[j * D + d] = Math.fround(Math.fround(raw[s * D + d]! * scale) + shift);
      }
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(got[i]! - want[i]!), `element ${i}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]!)));
      expect(Array.from(await outLabels.read())).toEqual(wantLabels);
      expect((await state.read())[0]).toBe(10);
    });
  }

  it('prepare copies the table row of the current step into hyper', async () => {
    const gpu = await testGpu();
    const cap = 6;
    const table = createTensor(
      gpu,
      [cap * 4],
      Float32Array.from({ length: cap * 4 }, (_, i) => i + 0.5),
    );
    const hyper = createTensor(gpu, [4]);
    const state = createTensor(gpu, [4], [13, 0, 0, 0], { dtype: 'u32' });
    const enc = gpu.device.createCommandEncoder();
    encodeDispatches(enc, await prepareStep(gpu, { state, table, hyper }));
    gpu.device.queue.submit([enc.finish()]);
    const row = 13 % cap;
    expect(Array.from(await hyper.read())).toEqual([0, 1, 2, 3].map((k) => row * 4 + k + 0.5));
  });

  it('bad arguments name what is expected', async () => {
    const gpu = await testGpu();
    const t = (n: number, dtype: 'u32' | 'f32' = 'u32') => createTensor(gpu, [n], undefined, { dtype });
    await expect(gatherBatch(gpu, { state: t(4), perm: t(3), data: t(10), bytes: true, n: 5, D: 4, out: t(8, 'f32') })).rejects.toThrow(
      /perm must hold n = 5 indices, got 3/,
    );
    await expect(gatherBatch(gpu, { state: t(4), perm: t(5), data: t(2), bytes: true, n: 5, D: 4, out: t(8, 'f32') })).rejects.toThrow(
      /data must hold 5 words for \(5, 4\), got 2/,
    );
    await expect(gatherBatch(gpu, { state: t(4), perm: t(5), data: t(5), bytes: true, n: 5, D: 4, out: t(7, 'f32') })).rejects.toThrow(
      /out must hold B·D values with D = 4, got 7/,
    );
    await expect(gatherBatch(gpu, { state: t(4), perm: t(5), data: t(5), bytes: true, n: 5, D: 4, out: t(8, 'f32'), scale: NaN })).rejects.toThrow(
      /scale must be a finite number/,
    );
  });
});
