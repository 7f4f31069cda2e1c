import { describe, expect, it } from 'vitest';
import { createTensor, encodeDispatches, ops, run, type Dispatch, type Gpu } from '../src/index.js';
import { createSgdHyper, sgdL2, writeSgdHyper } from '../src/kernels/sgd-l2.js';
import { sgdL2Cpu } from '../src/reference/sgd-l2.js';
import { expectClose, randn, rng, testGpu } from './helpers.js';

/** Submits `reps` copies of the records (kept alive: run() would free their uniforms) and waits. */
async function submit(gpu: Gpu, step: Dispatch[], reps = 1): Promise<void> {
  const enc = gpu.device.createCommandEncoder({ label: 'sgdL2 test' });
  encodeDispatches(enc, Array.from({ length: reps }, () => step).flat());
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
  gpu.check();
}

function maskOf(n: number, seed: number, keep = 0.5): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < keep ? 1 : 0));
}

describe('sgdL2 (fused SGD + momentum + L2 over a flat arena)', () => {
  it('several steps match the CPU reference; masked weights are exactly 0 after every step', async () => {
    const gpu = await testGpu();
    for (const n of [1, 2, 255, 256, 257, 65537, 100003]) {
      for (const masked of [false, true]) {
        const w = randn(n, n),
          v = new Float32Array(n);
        const mask = masked ? maskOf(n, n + 1) : undefined;
        if (mask) for (let i = 0; i < n; i++) w[i]! *= mask[i]!;
        const decayEnd = Math.floor((n * 2) / 3);
        const tw = createTensor(gpu, [n], w),
          tv = createTensor(gpu, [n], v),
          tm = mask ? createTensor(gpu, [n], mask) : undefined;
        const tg = createTensor(gpu, [n]);
        const hypers = [
          { lr: 0.1, momentum: 0.9, l2: 1e-3 },
          { lr: 0.05, momentum: 0.9, l2: 5e-4 },
          { lr: 0.01, momentum: 0.5, l2: 0 },
          { lr: 0, momentum: 0, l2: 0.1 },
        ];
        for (const [s, h] of hypers.entries()) {
          const g = randn(n, 1000 * s + n);
          tg.write(g);
          await ops.sgdL2({ w: tw, g: tg, v: tv, mask: tm }, { ...h, decayEnd });
          sgdL2Cpu({ w, g, v, mask }, { ...h, decayEnd });
          const gw = await tw.read();
          expectClose(gw, w, { atol: 1e-6, rtol: 1e-5 }, `w n=${n} masked=${masked} step ${s}`);
          expectClose(await tv.read(), v, { atol: 1e-6, rtol: 1e-5 }, `v n=${n} step ${s}`);
          if (mask) {
            for (let i = 0; i < n; i++) if (mask[i] === 0 && !Object.is(gw[i], 0)) throw new Error(`masked w[${i}] = ${gw[i]} after step ${s}`);
          }
        }
        tw.dispose();
        tv.dispose();
        tg.dispose();
        tm?.dispose();
      }
    }
  });

  it('closed form: constant gradient, no decay, momentum μ gives v_k = g(1 − μ^k)/(1 − μ)', async () => {
    const gpu = await testGpu();
    const n = 7,
      g = 0.5,
      mu = 0.5,
      lr = 0.1,
      steps = 5;
    const tw = createTensor(gpu, [n]),
      tv = createTensor(gpu, [n]),
      tg = createTensor(gpu, [n], new Float32Array(n).fill(g));
    for (let k = 0; k < steps; k++) await ops.sgdL2({ w: tw, g: tg, v: tv }, { lr, momentum: mu, l2: 0 });
    let wExp = 0;
    for (let k = 1; k <= steps; k++) wExp -= (lr * g * (1 - mu ** k)) / (1 - mu);
    expectClose(await tv.read(), new Float32Array(n).fill((g * (1 - mu ** steps)) / (1 - mu)), { atol: 1e-6 });
    expectClose(await tw.read(), new Float32Array(n).fill(wExp), { atol: 1e-6 });
    // decay only before decayEnd: with g = 0, v = l2·w for i < decayEnd and 0 after
    const w0 = Float32Array.from({ length: n }, (_, i) => i + 1);
    const tw2 = createTensor(gpu, [n], w0),
      tv2 = createTensor(gpu, [n]),
      tg0 = createTensor(gpu, [n]);
    await ops.sgdL2({ w: tw2, g: tg0, v: tv2 }, { lr: 1, momentum: 0.9, l2: 0.5, decayEnd: 3 });
    expect(Array.from(await tv2.read())).toEqual([0.5, 1, 1.5, 0, 0, 0, 0]);
    expect(Array.from(await tw2.read())).toEqual([0.5, 1, 1.5, 4, 5, 6, 7]);
  });

  it('hyper-parameters come from a GPU buffer: several steps with changing values in one submission', async () => {
    const gpu = await testGpu();
    const n = 1001;
    const w = randn(n, 1),
      v = new Float32Array(n),
      g = randn(n, 2),
      mask = maskOf(n, 3, 0.3);
    for (let i = 0; i < n; i++) w[i]! *= mask[i]!;
    const tw = createTensor(gpu, [n], w),
      tv = createTensor(gpu, [n]),
      tg = createTensor(gpu, [n], g),
      tm = createTensor(gpu, [n], mask);
    const hyper = createSgdHyper(gpu, { lr: 0.1, momentum: 0.9, l2: 0.01 });
    const table = createTensor(gpu, [8], [0.1, 0.9, 0.01, 0, 0.02, 0.8, 0.001, 0]);
    const step = await sgdL2(gpu, { w: tw, g: tg, v: tv, mask: tm }, hyper, { decayEnd: 900 });
    expect(step.length).toBe(n % 4 === 0 ? 1 : 2); // vec4 body + scalar tail
    // step 1 with row 0 (already there), then copy row 1 into hyper on the GPU, step 2
    const enc = gpu.device.createCommandEncoder({ label: 'two steps' });
    encodeDispatches(enc, step);
    enc.copyBufferToBuffer(table.buffer, 16, hyper.buffer, 0, 16);
    encodeDispatches(enc, step);
    gpu.device.queue.submit([enc.finish()]);
    sgdL2Cpu({ w, g, v, mask }, { lr: 0.1, momentum: 0.9, l2: 0.01, decayEnd: 900 });
    sgdL2Cpu({ w, g, v, mask }, { lr: 0.02, momentum: 0.8, l2: 0.001, decayEnd: 900 });
    expectClose(await tw.read(), w, { atol: 1e-6, rtol: 1e-5 }, 'w after two table steps');
    expectClose(await tv.read(), v, { atol: 1e-6, rtol: 1e-5 }, 'v after two table steps');
    // writeSgdHyper changes the values for the next submission
    writeSgdHyper(hyper, { lr: 0, momentum: 0, l2: 0 });
    await run(gpu, step);
    expectClose(await tw.read(), w, { atol: 1e-6, rtol: 1e-5 }, 'w unchanged with lr 0');
    expectClose(await tv.read(), g, { atol: 0, rtol: 0 }, 'v = g with momentum 0, l2 0');
  });

  it('the flat index is right on a 2-D workgroup grid (as grid() splits beyond 65535 workgroups)', async () => {
    const gpu = await testGpu();
    const n = 100003;
    const w = randn(n, 31),
      g = randn(n, 32),
      v = randn(n, 33),
      mask = maskOf(n, 34);
    const tw = createTensor(gpu, [n], w),
      tg = createTensor(gpu, [n], g),
      tv = createTensor(gpu, [n], v),
      tm = createTensor(gpu, [n], mask);
    const hyper = createSgdHyper(gpu, { lr: 0.1, momentum: 0.9, l2: 0.01 });
    const recs = await sgdL2(gpu, { w: tw, g: tg, v: tv, mask: tm }, hyper, { decayEnd: 50001 });
    const body = recs[0]!;
    const groups = body.workgroups[0] * body.workgroups[1];
    await submit(gpu, [{ ...body, workgroups: [Math.ceil(groups / 7), 7, 1] }, ...recs.slice(1)]);
    sgdL2Cpu({ w, g, v, mask }, { lr: 0.1, momentum: 0.9, l2: 0.01, decayEnd: 50001 });
    expectClose(await tw.read(), w, { atol: 1e-6, rtol: 1e-5 }, 'w, 2-D grid');
    expectClose(await tv.read(), v, { atol: 1e-6, rtol: 1e-5 }, 'v, 2-D grid');
  });

  it('n = 10M in one dispatch (grid()); checks a sample and reports GB/s', async () => {
    const gpu = await testGpu();
    const n = 10_000_000;
    const w = new Float32Array(n),
      g = new Float32Array(n),
      mask = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      w[i] = ((i * 7919) % 1000) / 1000 - 0.5;
      g[i] = ((i * 104729) % 997) / 997 - 0.5;
      mask[i] = i % 3 === 0 ? 0 : 1;
    }
    const tw = createTensor(gpu, [n], w),
      tg = createTensor(gpu, [n], g),
      tv = createTensor(gpu, [n]),
      tm = createTensor(gpu, [n], mask);
    const hyper = createSgdHyper(gpu, { lr: 0.01, momentum: 0.9, l2: 1e-4 });
    const decayEnd = 9_000_000;
    const step = await sgdL2(gpu, { w: tw, g: tg, v: tv, mask: tm }, hyper, { decayEnd });
    expect(step[0]!.workgroups[1]).toBeGreaterThanOrEqual(1);
    const reps = 5;
    await submit(gpu, step); // warm-up (also step 1)
    const t0 = performance.now();
    await submit(gpu, step, reps);
    const ms = (performance.now() - t0) / reps;
    const bytes = n * 4 * 6; // read w, g, v, mask; write w, v
    console.log(`sgdL2 n=${n} masked: ${ms.toFixed(1)} ms/step, ${(bytes / ms / 1e6).toFixed(2)} GB/s`);
    // CPU reference for all 6 steps, compared on a sample (and every masked entry is exactly 0)
    const v = new Float32Array(n);
    for (let s = 0; s < reps + 1; s++) sgdL2Cpu({ w, g, v, mask }, { lr: 0.01, momentum: 0.9, l2: 1e-4, decayEnd });
    const gw = await tw.read(),
      gv = await tv.read();
    const idx = [0, 1, 2, 3, 255, 256, 65535 * 128, 8_999_999, 9_000_000, 9_000_001, n - 2, n - 1];
    const r = rng(5);
    for (let k = 0; k < 2000; k++) idx.push(Math.floor(r() * n));
    expectClose(
      idx.map((i) => gw[i]!),
      idx.map((i) => w[i]!),
      { atol: 1e-6, rtol: 1e-5 },
      'w sample',
    );
    expectClose(
      idx.map((i) => gv[i]!),
      idx.map((i) => v[i]!),
      { atol: 1e-6, rtol: 1e-5 },
      'v sample',
    );
    for (let i = 0; i < n; i += 3) if (!Object.is(gw[i], 0)) throw new Error(`masked w[${i}] = ${gw[i]}`);
    expect(gw[n - 2]).not.toBe(0);
    for (const t of [tw, tg, tv, tm, hyper]) t.dispose();
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const w = createTensor(gpu, [10]),
      g = createTensor(gpu, [10]),
      v = createTensor(gpu, [10]);
    const h = { lr: 0.1, momentum: 0.9, l2: 0 };
    await expect(ops.sgdL2({ w, g: createTensor(gpu, [9]), v }, h)).rejects.toThrow(/g must have 10 elements like w, got shape \[9\]/);
    await expect(ops.sgdL2({ w, g, v: createTensor(gpu, [2, 5], undefined, { dtype: 'u32' }) }, h)).rejects.toThrow(/v must have dtype f32/);
    await expect(ops.sgdL2({ w, g, v, mask: createTensor(gpu, [11]) }, h)).rejects.toThrow(/mask must have 10 elements like w/);
    await expect(ops.sgdL2({ w, g, v }, { ...h, lr: NaN })).rejects.toThrow(/lr must be a finite number ≥ 0, got NaN/);
    await expect(ops.sgdL2({ w, g, v }, { ...h, momentum: Infinity })).rejects.toThrow(/momentum must be a finite number ≥ 0, got Infinity/);
    await expect(ops.sgdL2({ w, g, v }, { ...h, l2: -1 })).rejects.toThrow(/l2 must be a finite number ≥ 0, got -1/);
    await expect(ops.sgdL2({ w, g, v }, { ...h, decayEnd: 11 })).rejects.toThrow(/decayEnd must be an integer in \[0, 10\], got 11/);
    await expect(ops.sgdL2({ w, g, v }, { ...h, decayEnd: -1 })).rejects.toThrow(/decayEnd must be an integer in \[0, 10\]/);
    await expect(ops.sgdL2({ w, g: w, v }, h)).rejects.toThrow(/w and g must be in different GPU buffers/);
    await expect(sgdL2(gpu, { w, g, v }, createTensor(gpu, [2]))).rejects.toThrow(/hyper must hold at least 3 entries/);
    expect(() => createSgdHyper(gpu, { lr: 0.1, momentum: -0.5, l2: 0 })).toThrow(/momentum must be a finite number ≥ 0, got -0.5/);
  });
});
