import { describe, expect, it } from 'vitest';
import { createTensor, encodeDispatches, ops, run, type Dispatch, type Gpu } from '../src/index.js';
import { ADAMW_HYPER, adamw, adamwBiasCorrection, createAdamWHyper, createNormBuffer, gradNorm, writeAdamWHyper } from '../src/kernels/adamw.js';
import { createSgdHyper, sgdL2 } from '../src/kernels/sgd-l2.js';
import { adamwCpu, clipScaleCpu, gradNormCpu } from '../src/reference/adamw.js';
import { sgdL2Cpu } from '../src/reference/sgd-l2.js';
import { expectClose, randn, rng, testGpu } from './helpers.js';

async function submit(gpu: Gpu, recs: Dispatch[]): Promise<void> {
  const enc = gpu.device.createCommandEncoder({ label: 'adamw test' });
  encodeDispatches(enc, recs);
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
  gpu.check();
}

function maskOf(n: number, seed: number, keep = 0.5): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < keep ? 1 : 0));
}

const H = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

describe('adamw (fused over a flat arena) and gradNorm (global-norm clipping)', () => {
  it('several steps match the CPU reference; masked w, m, v are exactly 0 after every step', async () => {
    const gpu = await testGpu();
    for (const n of [1, 5, 257, 10007]) {
      for (const masked of [false, true]) {
        const w = randn(n, n),
          m = new Float32Array(n),
          v = new Float32Array(n);
        const mask = masked ? maskOf(n, n + 1) : undefined;
        if (mask) for (let i = 0; i < n; i++) w[i]! *= mask[i]!;
        const decayEnd = Math.floor((n * 2) / 3);
        const t = {
          w: createTensor(gpu, [n], w),
          g: createTensor(gpu, [n]),
          m: createTensor(gpu, [n]),
          v: createTensor(gpu, [n]),
          mask: mask ? createTensor(gpu, [n], mask) : undefined,
        };
        for (let step = 1; step <= 3; step++) {
          const g = randn(n, 100 * step + n, step);
          t.g.write(g);
          const h = { ...H, lr: H.lr * step, step, decayEnd };
          await ops.adamw(t, h);
          adamwCpu({ w, g, m, v, mask }, h);
          const [gw, gm, gv] = [await t.w.read(), await t.m.read(), await t.v.read()];
          expectClose(gw, w, { atol: 1e-6, rtol: 1e-5 }, `w n=${n} masked=${masked} step ${step}`);
          expectClose(gm, m, { atol: 1e-7, rtol: 1e-5 }, `m n=${n} step ${step}`);
          expectClose(gv, v, { atol: 1e-7, rtol: 1e-5 }, `v n=${n} step ${step}`);
          if (mask)
            for (let i = 0; i < n; i++) {
              if (mask[i] === 0 && !(Object.is(gw[i], 0) && Object.is(gm[i], 0) && Object.is(gv[i], 0)))
                throw new Error(`masked [${i}] not 0 after step ${step}`);
            }
        }
        for (const x of Object.values(t)) x?.dispose();
      }
    }
  });

  it('closed forms: first step moves w by lr·g/(|g| + eps); decay only on [0, decayEnd), decoupled from g', async () => {
    const gpu = await testGpu();
    const n = 6,
      g = Float32Array.from([0.5, -2, 1e-3, 3, -0.25, 7]);
    const t = { w: createTensor(gpu, [n]), g: createTensor(gpu, [n], g), m: createTensor(gpu, [n]), v: createTensor(gpu, [n]) };
    await ops.adamw(t, { ...H, weightDecay: 0, eps: 0, step: 1 });
    expectClose(
      await t.w.read(),
      Float32Array.from(g, (x) => -H.lr * Math.sign(x)),
      { atol: 1e-7, rtol: 1e-5 },
      'w after step 1 (bias-corrected)',
    );
    const w0 = Float32Array.from({ length: n }, (_, i) => i + 1);
    const u = { w: createTensor(gpu, [n], w0), g: createTensor(gpu, [n]), m: createTensor(gpu, [n]), v: createTensor(gpu, [n]) };
    await ops.adamw(u, { ...H, lr: 0.5, weightDecay: 0.2, step: 4, decayEnd: 3 });
    expectClose(await u.w.read(), [0.9, 1.8, 2.7, 4, 5, 6], { atol: 0, rtol: 1e-7 }, 'decay on [0, 3) only');
  });

  it('gradNorm matches float64 on awkward sizes, with and without a mask, and gives the same bits twice', async () => {
    const gpu = await testGpu();
    for (const n of [1, 3, 63, 64, 65, 1000, 100003]) {
      const g = randn(n, 7 * n),
        mask = maskOf(n, n);
      const tg = createTensor(gpu, [n], g),
        tm = createTensor(gpu, [n], mask);
      for (const m of [undefined, tm]) {
        const ref = gradNormCpu(g, m ? mask : undefined);
        const got = await ops.gradNorm(tg, { mask: m });
        expect(Math.abs(got.sumSq - ref.sumSq)).toBeLessThanOrEqual(1e-5 * ref.sumSq + 1e-30);
        expect(Math.abs(got.norm - ref.norm)).toBeLessThanOrEqual(1e-5 * ref.norm + 1e-30);
        if (n === 100003) expect(Object.is((await ops.gradNorm(tg, { mask: m })).sumSq, got.sumSq)).toBe(true);
      }
      tg.dispose();
      tm.dispose();
    }
  });

  it('clipping: gradNorm then adamw (or sgdL2) in one submission scale g by min(1, clip/‖g‖)', async () => {
    const gpu = await testGpu();
    const n = 4099,
      g = randn(n, 11, 3),
      mask = maskOf(n, 12, 0.7),
      w = randn(n, 13);
    for (let i = 0; i < n; i++) w[i]! *= mask[i]!;
    const norm = gradNormCpu(g, mask).norm;
    for (const clip of [0, norm / 10, norm * 2]) {
      const t = {
        w: createTensor(gpu, [n], w),
        g: createTensor(gpu, [n], g),
        m: createTensor(gpu, [n]),
        v: createTensor(gpu, [n]),
        mask: createTensor(gpu, [n], mask),
      };
      const hyper = createAdamWHyper(gpu, { ...H, step: 1, clip });
      const nb = createNormBuffer(gpu);
      await submit(gpu, [...(await gradNorm(gpu, t.g, nb, { mask: t.mask })), ...(await adamw(gpu, t, hyper, { norm: nb }))]);
      const rw = w.slice(),
        rm = new Float32Array(n),
        rv = new Float32Array(n);
      const s = clipScaleCpu(norm, clip);
      if (clip === norm / 10) expect(s).toBeCloseTo(0.1, 5);
      adamwCpu({ w: rw, g, m: rm, v: rv, mask }, { ...H, step: 1 }, s);
      expectClose(await t.m.read(), rm, { atol: 1e-7, rtol: 1e-4 }, `m with clip ${clip}`);
      expectClose(await t.w.read(), rw, { atol: 1e-6, rtol: 1e-5 }, `w with clip ${clip}`);
      // SGD reads the same norm buffer
      const sv = createTensor(gpu, [n]),
        sh = createSgdHyper(gpu, { lr: 0.1, momentum: 0.9, l2: 0, clip });
      const sw = createTensor(gpu, [n], w);
      await submit(gpu, await sgdL2(gpu, { w: sw, g: t.g, v: sv }, sh, { norm: nb }));
      const qw = w.slice(),
        qv = new Float32Array(n);
      sgdL2Cpu({ w: qw, g, v: qv }, { lr: 0.1, momentum: 0.9, l2: 0 }, s);
      expectClose(await sv.read(), qv, { atol: 1e-6, rtol: 1e-4 }, `sgd v with clip ${clip}`);
      for (const x of [...Object.values(t), hyper, nb, sv, sh, sw]) x.dispose();
    }
  });

  it('bias corrections from the GPU step counter; writeAdamWHyper changes the next submission', async () => {
    const gpu = await testGpu();
    const n = 300,
      g = randn(n, 21),
      w = randn(n, 22);
    const t = { w: createTensor(gpu, [n], w), g: createTensor(gpu, [n], g), m: createTensor(gpu, [n]), v: createTensor(gpu, [n]) };
    const hyper = createAdamWHyper(gpu, { ...H, step: 1 });
    const state = createTensor(gpu, [4], [0, 0, 0, 0], { dtype: 'u32' });
    const bc = await adamwBiasCorrection(gpu, state, hyper);
    const upd = await adamw(gpu, t, hyper);
    const rw = w.slice(),
      rm = new Float32Array(n),
      rv = new Float32Array(n);
    for (let step = 1; step <= 3; step++) {
      state.write([step - 1, 0, 0, 0]);
      await submit(gpu, [...bc, ...upd]);
      adamwCpu({ w: rw, g, m: rm, v: rv }, { ...H, step });
      const hv = await hyper.read();
      expect(hv[ADAMW_HYPER.bc1]).toBeCloseTo(1 - H.beta1 ** step, 6);
      expect(hv[ADAMW_HYPER.bc2]).toBeCloseTo(1 - H.beta2 ** step, 6);
    }
    expectClose(await t.w.read(), rw, { atol: 1e-6, rtol: 1e-5 }, 'w after 3 counter steps');
    writeAdamWHyper(hyper, { ...H, lr: 0, weightDecay: 0, step: 4 });
    await run(gpu, upd);
    expectClose(await t.w.read(), rw, { atol: 1e-6, rtol: 1e-5 }, 'w unchanged with lr 0');
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const w = createTensor(gpu, [10]),
      g = createTensor(gpu, [10]),
      m = createTensor(gpu, [10]),
      v = createTensor(gpu, [10]);
    const h = { ...H, step: 1 };
    await expect(ops.adamw({ w, g: createTensor(gpu, [9]), m, v }, h)).rejects.toThrow(/adamw: g must have 10 elements like w, got shape \[9\]/);
    await expect(ops.adamw({ w, g, m, v: createTensor(gpu, [10], undefined, { dtype: 'u32' }) }, h)).rejects.toThrow(/v must have dtype f32/);
    await expect(ops.adamw({ w, g, m, v, mask: createTensor(gpu, [11]) }, h)).rejects.toThrow(/mask must have 10 elements like w/);
    await expect(ops.adamw({ w, g, m, v }, { ...h, beta1: 1 })).rejects.toThrow(/beta1 must be in \[0, 1\), got 1/);
    await expect(ops.adamw({ w, g, m, v }, { ...h, lr: NaN })).rejects.toThrow(/lr must be a finite number ≥ 0, got NaN/);
    await expect(ops.adamw({ w, g, m, v }, { ...h, step: 0 })).rejects.toThrow(/step must be an integer ≥ 1, got 0/);
    await expect(ops.adamw({ w, g, m, v }, { ...h, clip: Infinity })).rejects.toThrow(/clip must be a finite number/);
    await expect(ops.adamw({ w, g, m, v }, { ...h, decayEnd: 11 })).rejects.toThrow(/decayEnd must be an integer in \[0, 10\], got 11/);
    await expect(ops.adamw({ w, g: w, m, v }, h)).rejects.toThrow(/w and g must be in different GPU buffers/);
    await expect(adamw(gpu, { w, g, m, v }, createTensor(gpu, [4]))).rejects.toThrow(/hyper must hold 8 entries/);
    await expect(adamw(gpu, { w, g, m, v }, createAdamWHyper(gpu, h), { norm: createTensor(gpu, [1]) })).rejects.toThrow(/norm must hold 4 entries/);
    await expect(gradNorm(gpu, g, createNormBuffer(gpu), { mask: createTensor(gpu, [3]) })).rejects.toThrow(
      /gradNorm: mask must have 10 elements like g/,
    );
    await expect(gradNorm(gpu, g, g)).rejects.toThrow(/gradNorm: g and norm must be in different GPU buffers/);
    await expect(adamwBiasCorrection(gpu, createTensor(gpu, [4]), createAdamWHyper(gpu, h))).rejects.toThrow(/state must have dtype u32, got f32/);
  });
});
