import { describe, expect, it } from 'vitest';
import { createTensor, encodeDispatches, ops, Tensor, type Dispatch, type Gpu } from '../src/index.js';
import * as ew from '../src/kernels/elementwise.js';
import {
  axpyCpu,
  copyCpu,
  fillCpu,
  reluBackwardCpu,
  reluCpu,
  scaleCpu,
  sigmoidBackwardCpu,
  sigmoidCpu,
  tanhBackwardCpu,
  tanhCpu,
} from '../src/reference/elementwise.js';
import { expectClose, randn, testGpu } from './helpers.js';

// 1..5, around the vec4 body/tail split and the workgroup, a prime, a large case
const SIZES = [1, 2, 3, 4, 5, 63, 64, 65, 255, 257, 1021, 100003, 1_000_003];

async function submit(gpu: Gpu, records: Dispatch[]): Promise<void> {
  const enc = gpu.device.createCommandEncoder({ label: 'elementwise test' });
  encodeDispatches(enc, records);
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
  gpu.check();
}

describe('element-wise kernels against the CPU reference', () => {
  it('forward activations: relu, sigmoid, tanh', async () => {
    const gpu = await testGpu();
    for (const n of SIZES) {
      const x = randn(n, n, 4);
      const tx = createTensor(gpu, [n], x);
      for (const [name, f, ref] of [
        ['relu', ops.relu, reluCpu],
        ['sigmoid', ops.sigmoid, sigmoidCpu],
        ['tanh', ops.tanh, tanhCpu],
      ] as const) {
        const y = await f(tx);
        expect(y.shape).toEqual([n]);
        expectClose(await y.read(), ref(x), { atol: 1e-6, rtol: 1e-5 }, `${name} n=${n}`);
        y.dispose();
      }
      tx.dispose();
    }
  });

  it('backward: relu, sigmoid, tanh (from the forward output)', async () => {
    const gpu = await testGpu();
    for (const n of SIZES) {
      const x = randn(n, n + 7, 3),
        dy = randn(n, n + 8);
      const y = { relu: reluCpu(x), sigmoid: sigmoidCpu(x), tanh: tanhCpu(x) };
      const tdy = createTensor(gpu, [n], dy);
      const cases = [
        ['relu', ops.reluBackward, reluBackwardCpu, y.relu],
        ['sigmoid', ops.sigmoidBackward, sigmoidBackwardCpu, y.sigmoid],
        ['tanh', ops.tanhBackward, tanhBackwardCpu, y.tanh],
      ] as const;
      for (const [name, f, ref, yv] of cases) {
        const ty = createTensor(gpu, [n], yv);
        const dx = await f(ty, tdy);
        expectClose(await dx.read(), ref(yv, dy), { atol: 1e-6, rtol: 1e-5 }, `${name} backward n=${n}`);
        ty.dispose();
        dx.dispose();
      }
      tdy.dispose();
    }
  });

  it('fill, scale, axpy, copy', async () => {
    const gpu = await testGpu();
    for (const n of SIZES) {
      const x = randn(n, 2 * n),
        y = randn(n, 2 * n + 1);
      const tx = createTensor(gpu, [n], x),
        ty = createTensor(gpu, [n], y);
      const t = createTensor(gpu, [n]);
      await ops.fill(t, -2.5);
      expectClose(await t.read(), fillCpu(n, -2.5), { atol: 0, rtol: 0 }, `fill n=${n}`);
      expectClose(await (await ops.scale(tx, 0.3)).read(), scaleCpu(x, 0.3), { atol: 1e-7, rtol: 1e-6 }, `scale n=${n}`);
      await ops.axpy(-0.7, tx, ty);
      expectClose(await ty.read(), axpyCpu(-0.7, x, y), { atol: 1e-6, rtol: 1e-6 }, `axpy n=${n}`);
      expectClose(await (await ops.copy(tx)).read(), copyCpu(x), { atol: 0, rtol: 0 }, `copy n=${n}`);
      tx.dispose();
      ty.dispose();
      t.dispose();
    }
  });

  it('in place: the output may be the same tensor as an input', async () => {
    const gpu = await testGpu();
    for (const n of [5, 1021]) {
      const x = randn(n, n, 3),
        dy = randn(n, n + 1);
      // sigmoid over x, then dx over dy from that y
      const t = createTensor(gpu, [n], x),
        tdy = createTensor(gpu, [n], dy);
      await submit(gpu, await ew.sigmoid(gpu, t, t));
      const ys = sigmoidCpu(x);
      expectClose(await t.read(), ys, { atol: 1e-6, rtol: 1e-5 }, 'sigmoid in place');
      await submit(gpu, await ew.sigmoidBackward(gpu, t, tdy, tdy));
      expectClose(await tdy.read(), sigmoidBackwardCpu(ys, dy), { atol: 1e-6, rtol: 1e-5 }, 'sigmoidBackward dx over dy');
      // relu backward with dx over y (the mask input)
      const ty = createTensor(gpu, [n], reluCpu(x)),
        tdy2 = createTensor(gpu, [n], dy);
      await submit(gpu, await ew.reluBackward(gpu, ty, tdy2, ty));
      expectClose(await ty.read(), reluBackwardCpu(reluCpu(x), dy), { atol: 0, rtol: 0 }, 'reluBackward dx over y');
      // tanh in place, then scale in place, axpy with x = y
      const t2 = createTensor(gpu, [n], x);
      await submit(gpu, [...(await ew.tanh(gpu, t2, t2)), ...(await ew.scale(gpu, t2, 2, t2)), ...(await ew.axpy(gpu, 0.5, t2, t2))]);
      expectClose(
        await t2.read(),
        tanhCpu(x).map((v) => 2 * v * 1.5),
        { atol: 1e-6, rtol: 1e-5 },
        'tanh, scale, axpy in place',
      );
    }
  });

  it('is stable far out: sigmoid and tanh saturate without NaN', async () => {
    const gpu = await testGpu();
    const x = Float32Array.from([-1e30, -1000, -100, -20, -1e-8, 0, 1e-8, 20, 100, 1000, 1e30, -0]);
    const tx = createTensor(gpu, [x.length], x);
    const s = await (await ops.sigmoid(tx)).read();
    const t = await (await ops.tanh(tx)).read();
    expect(s.every(Number.isFinite) && t.every(Number.isFinite)).toBe(true);
    expectClose(s, sigmoidCpu(x), { atol: 1e-7, rtol: 1e-6 }, 'sigmoid');
    expectClose(t, tanhCpu(x), { atol: 1e-7, rtol: 1e-6 }, 'tanh');
    expect(t[0]).toBe(-1);
    expect(t[10]).toBe(1);
    expect(s[10]).toBe(1);
    expect(s[0]).toBe(0);
  });

  it('tensor views at an aligned offset and a 2-D workgroup grid', async () => {
    const gpu = await testGpu();
    const n = 70001,
      pad = 64; // 256-byte offset: aligned on every device
    const big = createTensor(
      gpu,
      [pad + n + 3],
      Float32Array.from({ length: pad + n + 3 }, (_, i) => i),
    );
    const view = new Tensor(gpu, big.buffer, [n], 'f32', pad * 4, false);
    const out = createTensor(gpu, [n]);
    const recs = await ew.scale(gpu, view, 2, out);
    // the same records dispatched over a 2-D grid (as grid() does beyond 65535 workgroups)
    const body = recs[0]!;
    const groups = body.workgroups[0] * body.workgroups[1];
    const split = { ...body, workgroups: [Math.ceil(groups / 3), 3, 1] as const };
    await submit(gpu, [split, ...recs.slice(1)]);
    const got = await out.read();
    expectClose(
      got,
      Float32Array.from({ length: n }, (_, i) => 2 * (i + pad)),
      { atol: 0, rtol: 0 },
      'scale of a view, 2-D grid',
    );
    // the elements around the view are untouched by an in-place op on it
    await submit(gpu, await ew.fill(gpu, view, 7));
    const all = await big.read();
    expect(all[pad - 1]).toBe(pad - 1);
    expect(all[pad]).toBe(7);
    expect(all[pad + n - 1]).toBe(7);
    expect(all[pad + n]).toBe(pad + n);
  });

  it('finite differences: relu, sigmoid and tanh backward are the gradients of Σ G⊙f(x)', async () => {
    const gpu = await testGpu();
    const n = 41;
    const x = randn(n, 99, 2),
      G = randn(n, 100);
    for (let i = 0; i < n; i++) if (Math.abs(x[i]!) < 1e-2) x[i] = 0.5; // keep relu away from its kink
    const fns = {
      relu: [(v: number) => Math.max(v, 0), ops.relu, ops.reluBackward],
      sigmoid: [(v: number) => 1 / (1 + Math.exp(-v)), ops.sigmoid, ops.sigmoidBackward],
      tanh: [(v: number) => Math.tanh(v), ops.tanh, ops.tanhBackward],
    } as const;
    const tx = createTensor(gpu, [n], x),
      tg = createTensor(gpu, [n], G);
    for (const [name, [f, fwd, bwd]] of Object.entries(fns)) {
      const y = await fwd(tx);
      const dx = await (await bwd(y, tg)).read();
      const h = 1e-4;
      const L = (xs: Float64Array) => xs.reduce((s, v, i) => s + G[i]! * f(v), 0);
      const fd = new Float64Array(n);
      const xd = Float64Array.from(x);
      for (let i = 0; i < n; i++) {
        const v = xd[i]!;
        xd[i] = v + h;
        const lp = L(xd);
        xd[i] = v - h;
        const lm = L(xd);
        xd[i] = v;
        fd[i] = (lp - lm) / (2 * h);
      }
      expectClose(dx, fd, { atol: 1e-5, rtol: 1e-4 }, `${name} backward vs FD`);
    }
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const a = createTensor(gpu, [10]),
      b = createTensor(gpu, [2, 5]),
      c = createTensor(gpu, [11]);
    await expect(ops.reluBackward(a, c)).rejects.toThrow(/reluBackward: y must have 11 elements like dx \[11\], got shape \[10\]/);
    await expect(ops.axpy(1, c, a)).rejects.toThrow(/axpy: x must have 10 elements like y/);
    await expect(ops.sigmoid(createTensor(gpu, [4], undefined, { dtype: 'u32' }))).rejects.toThrow(/sigmoid: x must have dtype f32, got u32/);
    await expect(ops.fill(a, NaN)).rejects.toThrow(/fill: value must be a finite number, got NaN/);
    await expect(ops.scale(a, Infinity)).rejects.toThrow(/scale: a must be a finite number, got Infinity/);
    expect((await (await ops.tanhBackward(a, b)).read()).length).toBe(10); // same element count, other shape: fine
    const big = createTensor(gpu, [128]);
    const lo = new Tensor(gpu, big.buffer, [64], 'f32', 0, false),
      hi = new Tensor(gpu, big.buffer, [64], 'f32', 256, false);
    await expect(ew.copy(gpu, lo, hi)).rejects.toThrow(/copy: out shares a GPU buffer with x at another range/);
    const odd = new Tensor(gpu, big.buffer, [8], 'f32', 4, false);
    await expect(ew.copy(gpu, odd, createTensor(gpu, [8]))).rejects.toThrow(/copy: x must start at a byte offset that is a multiple of/);
    const gone = createTensor(gpu, [10]);
    gone.dispose();
    await expect(ops.copy(gone)).rejects.toThrow(/copy: x was disposed/);
  });
});
