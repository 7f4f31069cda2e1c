import { describe, expect, it } from 'vitest';
import { encodeDispatches, run } from '../src/gpu/dispatch.js';
import { createTensor } from '../src/gpu/tensor.js';
import type { Gpu } from '../src/gpu/device.js';
import { CLUSTER } from '../src/kernels/cluster.js';
import { qatInitLinear, qatRestore, qatSnap } from '../src/kernels/qat.js';
import { qatDampCpu, qatInitLinearCpu, qatSnapCpu } from '../src/reference/qat.js';
import { clusterReduceCpu, clusterSgdCpu } from '../src/reference/cluster.js';
import { synthetic } from '../src/data/synthetic.js';
import { Network, evaluate, trainNetwork } from '../src/nn/trainer.js';
import { StepPlan } from '../src/nn/plan.js';
import { hyperRow } from '../src/nn/optimizer.js';
import { QatState, validateQat } from '../src/nn/qat.js';
import { deviceDataOf } from '../src/nn/network.js';
import { exportCompressed, decodeCompressed, loadCompressed } from '../src/io/export.js';
import { compressNetwork, qatStagesOf, specFor, type RunConfig } from '../src/run/run.js';
import { cli, expectClose, randn, rng, testGpu } from './helpers.js';

function randomMask(n: number, keep: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < keep ? 1 : 0));
}

async function gpuSnap(gpu: Gpu, w: Float32Array, m: Float32Array, c: Float32Array) {
  const n = w.length;
  const tw = createTensor(gpu, [n], w),
    tm = createTensor(gpu, [n], m),
    tl = createTensor(gpu, [n]),
    tc = createTensor(gpu, [c.length], c);
  const ta = createTensor(gpu, [n], undefined, { dtype: 'u32' });
  await run(gpu, await qatSnap(gpu, { w: tw, mask: tm, latent: tl, centroids: tc, assign: ta }));
  const out = { w: await tw.read(), latent: await tl.read(), assign: await ta.read() };
  // restore brings the latent weights back
  await run(gpu, await qatRestore(gpu, { w: tw, latent: tl }));
  const restored = await tw.read();
  for (const t of [tw, tm, tl, tc, ta]) t.dispose();
  return { ...out, restored };
}

describe('qat kernels', () => {
  // n, K, kept share; K > kept weights (7 weights, 3 kept, K = 32), everything pruned, K = 1
  const cases: [number, number, number][] = [
    [1, 1, 1],
    [7, 32, 0.45],
    [13, 4, 0],
    [257, 2, 0.5],
    [4099, 32, 0.25],
    [70_001, 256, 0.6],
  ];
  for (const [n, K, keep] of cases) {
    it(`snap matches the reference exactly, restore returns the latent weights: n=${n}, K=${K}, keep ${keep}`, async () => {
      const gpu = await testGpu();
      const w = randn(n, n + 3 * K, 0.2);
      const m = n === 1 ? new Float32Array([1]) : randomMask(n, keep, 11 * n + K);
      const c = qatInitLinearCpu(w, m, K);
      const got = await gpuSnap(gpu, w, m, c);
      const want = qatSnapCpu(w, m, c);
      expect(Array.from(got.assign)).toEqual(Array.from(want.assign));
      expect(Array.from(got.w)).toEqual(Array.from(want.w));
      expect(Array.from(got.latent)).toEqual(Array.from(w));
      expect(Array.from(got.restored)).toEqual(Array.from(w));
      // pruned weights are exactly 0 with no index; kept ones are codebook values
      for (let i = 0; i < n; i++) {
        if (m[i] === 0) {
          expect(got.w[i]).toBe(0);
          expect(got.assign[i]).toBe(CLUSTER.NONE);
        } else expect(got.w[i]).toBe(c[got.assign[i]!]);
      }
    });
  }

  it('init_linear spaces K centroids over the kept range (K = 1: the midpoint; none kept: zeros; K > kept)', async () => {
    const gpu = await testGpu();
    for (const [n, K, keep] of [
      [1, 1, 1],
      [5, 1, 1],
      [7, 32, 0.45],
      [9, 8, 0],
      [1000, 256, 0.3],
      [100_003, 32, 0.5],
    ] as const) {
      const w = randn(n, n + K, 0.5);
      const m = n === 1 ? new Float32Array([1]) : randomMask(n, keep, n + 2 * K);
      const tw = createTensor(gpu, [n], w),
        tm = createTensor(gpu, [n], m),
        tc = createTensor(gpu, [K], new Float32Array(K).fill(7));
      await run(gpu, await qatInitLinear(gpu, { w: tw, mask: tm, centroids: tc }));
      const got = await tc.read();
      const want = qatInitLinearCpu(w, m, K);
      expectClose(got, want, { atol: 1e-6, rtol: 1e-6 }, `init_linear n=${n} K=${K}`);
      if (keep === 0) expect(Array.from(got)).toEqual(new Array(K).fill(0));
      for (const t of [tw, tm, tc]) t.dispose();
    }
  });

  it('the damped restore adds λ·(latent − snapped) to the gradient, then restores the latent weights', async () => {
    const gpu = await testGpu();
    const n = 1031,
      K = 8;
    const w = randn(n, 5, 0.3),
      m = randomMask(n, 0.4, 6),
      g = randn(n, 7, 0.01);
    const c = qatInitLinearCpu(w, m, K);
    const tw = createTensor(gpu, [n], w),
      tm = createTensor(gpu, [n], m),
      tl = createTensor(gpu, [n]),
      tc = createTensor(gpu, [K], c);
    const ta = createTensor(gpu, [n], undefined, { dtype: 'u32' }),
      tg = createTensor(gpu, [n], g);
    await run(gpu, [
      ...(await qatSnap(gpu, { w: tw, mask: tm, latent: tl, centroids: tc, assign: ta })),
      ...(await qatRestore(gpu, { w: tw, latent: tl, grads: tg, dampen: 0.3 })),
    ]);
    const want = qatDampCpu(g, w, qatSnapCpu(w, m, c).w, 0.3);
    expectClose(await tg.read(), want, { atol: 1e-8, rtol: 1e-6 }, 'damped gradient');
    expect(Array.from(await tw.read())).toEqual(Array.from(w));
    await expect(qatRestore(gpu, { w: tw, latent: tl, dampen: 0.1 })).rejects.toThrow(/dampen > 0 needs grads/);
    await expect(qatRestore(gpu, { w: tw, latent: tl, grads: tg, dampen: -1 })).rejects.toThrow(/dampen must be a finite number ≥ 0, got -1/);
    for (const t of [tw, tm, tl, tc, ta, tg]) t.dispose();
  });

  it('bad arguments name the argument and the expected size', async () => {
    const gpu = await testGpu();
    const w = createTensor(gpu, [10]),
      m = createTensor(gpu, [10]),
      lat = createTensor(gpu, [9]),
      c = createTensor(gpu, [4]);
    const a = createTensor(gpu, [10], undefined, { dtype: 'u32' }),
      big = createTensor(gpu, [300]);
    await expect(qatSnap(gpu, { w, mask: m, latent: lat, centroids: c, assign: a })).rejects.toThrow(
      /slimgpu\.qat: latent must have 10 elements \(like w\), got shape \[9\]/,
    );
    await expect(qatSnap(gpu, { w, mask: m, latent: w, centroids: c, assign: a })).rejects.toThrow(/w and latent must be in different GPU buffers/);
    await expect(qatSnap(gpu, { w, mask: m, latent: m, centroids: big, assign: a })).rejects.toThrow(/centroids must hold K ≤ 256/);
    await expect(qatSnap(gpu, { w, mask: m, latent: createTensor(gpu, [10]), centroids: c, assign: w })).rejects.toThrow(
      /assign must have dtype u32/,
    );
    await expect(qatRestore(gpu, { w, latent: lat })).rejects.toThrow(/latent must have 10 elements/);
    await expect(qatInitLinear(gpu, { w, mask: lat, centroids: c })).rejects.toThrow(/mask must have 10 elements/);
  });
});

describe('quantisation-aware training', () => {
  for (const centroidLr of [0, 0.05])
    it(`a QAT step runs forward and backward on the snapped weights and moves the latent ones (straight-through), centroid lr ${centroidLr}`, async () => {
      const gpu = await testGpu();
      const { train } = synthetic({ n: 64, testN: 8, features: 10, seed: 3 });
      const spec = specFor('mlp:10-12-1', train);
      const B = 16,
        lr = 0.05;
      const nets: Network[] = [];
      const plans: StepPlan[] = [];
      const data = deviceDataOf(gpu, spec, train, 'train');
      let qat: QatState | undefined;
      try {
        const a = Network.create(gpu, spec, 1);
        nets.push(a);
        const W = await a.arena.read('weights');
        const M = new Map([
          ['dense1.weight', randomMask(120, 0.5, 9)],
          ['dense2.weight', randomMask(12, 0.75, 10)],
        ]);
        await a.setParams(W, M);
        qat = await QatState.create(a, { bits: { dense1: 2, dense2: 3 }, iterations: 4, refitIterations: 1, centroidLr });
        const pa = await StepPlan.build(gpu, spec, a.layers, a.arena, data, B, { qat });
        plans.push(pa);
        const step = async (p: StepPlan, records: readonly import('../src/gpu/dispatch.js').Dispatch[], rate: number) => {
          p.setPermutation(Uint32Array.from({ length: 64 }, (_, i) => (i * 37) % 64));
          p.setStep(0, 0);
          p.setHyperRows(0, [hyperRow('sgd', { momentum: 0, l2: 0 }, 0, rate)]);
          const enc = gpu.device.createCommandEncoder();
          enc.clearBuffer(p.stats.buffer);
          encodeDispatches(enc, records);
          gpu.device.queue.submit([enc.finish()]);
          await gpu.device.queue.onSubmittedWorkDone();
        };
        const e0 = gpu.device.createCommandEncoder();
        encodeDispatches(e0, qat.init);
        gpu.device.queue.submit([e0.finish()]);
        const c0 = await qat.codebooks();
        await step(pa, pa.trainQat, lr);
        const latent = await a.arena.read('weights'),
          g1 = await a.arena.read('grads'),
          loss1 = await pa.stats.read();
        const sharing = await qat.sharing();
        // the snapped weights the step's forward and backward should have seen
        const snapped = new Map(W);
        for (const s of Object.values(sharing.layers)) {
          const sn = qatSnapCpu(W.get(s.param)!, M.get(s.param)!, c0.get(s.layer)!);
          expect(Array.from(s.assignments)).toEqual(Array.from(sn.assign).filter((x) => x !== CLUSTER.NONE));
          // centroids trained by gradient: each moved by −lr·Σ(its members' gradients); else unchanged
          const want = clusterSgdCpu(c0.get(s.layer)!, clusterReduceCpu(g1.get(s.param)!, sn.assign, s.codebook.length).sums, centroidLr);
          expectClose(s.codebook, want, { atol: 1e-7, rtol: 1e-6 }, `codebook ${s.layer}`);
          snapped.set(s.param, sn.w);
          expect(new Set(sn.w).size).toBeLessThanOrEqual(s.codebook.length + 1);
          expect(Array.from(sn.w)).not.toEqual(Array.from(W.get(s.param)!));
        }
        // the same step without QAT on a network holding the snapped weights: same loss, same gradients
        const b = Network.create(gpu, spec, 1);
        nets.push(b);
        await b.setParams(snapped, M);
        const pb = await StepPlan.build(gpu, spec, b.layers, b.arena, data, B, {});
        plans.push(pb);
        await step(pb, pb.train, 0);
        const g2 = await b.arena.read('grads'),
          loss2 = await pb.stats.read();
        expect(Array.from(loss1)).toEqual(Array.from(loss2));
        for (const [k, g] of g2) expect(Array.from(g1.get(k)!), `gradient of ${k}`).toEqual(Array.from(g));
        // and the update moved the latent weights (not the snapped ones) by that gradient; pruned stay 0
        for (const [k, w0] of W) {
          const mk = M.get(k);
          const want = w0.map((x, i) => Math.fround(Math.fround(x - Math.fround(lr * g1.get(k)![i]!)) * (mk ? mk[i]! : 1)));
          expectClose(latent.get(k)!, want, { atol: 1e-7, rtol: 1e-6 }, `latent ${k}`);
        }
      } finally {
        qat?.destroy();
        for (const p of plans) p.destroy();
        data.dispose();
        for (const n of nets) n.dispose();
      }
    });

  it('a run with pruning and QAT ends on codebook values; the export decodes to exactly those weights (K > kept weights too)', async () => {
    const gpu = await testGpu();
    const { train, test } = synthetic({ n: 256, testN: 64, features: 10, seed: 5 });
    const spec = specFor('mlp:10-24-8-1', train);
    const net = Network.create(gpu, spec, 2);
    try {
      // dense3 keeps 4 of 8 weights with K = 8 centroids
      const s = await trainNetwork(
        net,
        train,
        {
          epochs: 3,
          batch: 16,
          lr: 0.02,
          momentum: 0.9,
          l2: 0,
          seed: 1,
          sparsity: 0.5,
          pruneBegin: 2,
          pruneEnd: 12,
          pruneFrequency: 2,
          maxSteps: 40,
          qat: { bits: { dense1: 3, dense2: 2, dense3: 3 }, refitEvery: 5 },
        },
        { step: 0 },
      );
      const sharing = s.qat!;
      expect(Object.keys(sharing.layers)).toEqual(['dense1', 'dense2', 'dense3']);
      expect(sharing.layers.dense3!.kept).toBe(4);
      const w = await net.arena.read('weights'),
        m = await net.arena.read('mask');
      for (const l of Object.values(sharing.layers)) {
        const wv = w.get(l.param)!,
          mv = m.get(l.param)!;
        let k = 0;
        for (let i = 0; i < wv.length; i++) {
          if (mv[i] === 0) expect(wv[i]).toBe(0);
          else expect(wv[i]).toBe(l.codebook[l.assignments[k++]!]);
        }
      }
      const bytes = await exportCompressed(net, sharing);
      const d = decodeCompressed(bytes);
      for (const [k, v] of w) expect(Array.from(d.values.get(k)!), k).toEqual(Array.from(v));
      const back = await loadCompressed(gpu, bytes);
      const [e1, e2] = [await evaluate(net, test), await evaluate(back, test)];
      back.dispose();
      expect(e2.loss).toBe(e1.loss);
      // compressNetwork writes the QAT codebooks as they are (no k-means, no fine-tuning by default)
      const cfg = { model: spec.name, data: 'synthetic', epochs: 1, batch: 16, lr: 0.02, momentum: 0.9, l2: 0, seed: 1 } as RunConfig;
      const c = await compressNetwork(net, cfg, train, test, sharing);
      expect(Array.from(c.bytes)).toEqual(Array.from(bytes));
      await expect(compressNetwork(net, { ...cfg, qatSteps: 5 }, train, test)).rejects.toThrow(/--qat-steps needs --bits/);
      // the export's QAT fine-tuning of a (pruned) network: its masks stay, its file decodes to its weights
      const q = await compressNetwork(net, { ...cfg, bits: 2, qatSteps: 6, qatRefitEvery: 2 }, train, test);
      const w2 = await net.arena.read('weights');
      const d2 = decodeCompressed(q.bytes);
      for (const [k, v] of w2) expect(Array.from(d2.values.get(k)!), k).toEqual(Array.from(v));
      expect(Object.values(q.sharing!.layers).map((l) => l.codebook.length)).toEqual([4, 4, 4]);
      expect(q.pruned).toBeDefined();
      // staged: dense1, then dense1 + dense2, then all three (the rest join a last stage)
      expect(qatStagesOf(['dense1', 'dense2', 'dense3'], 'dense1;dense2')).toEqual([
        ['dense1'],
        ['dense1', 'dense2'],
        ['dense1', 'dense2', 'dense3'],
      ]);
      expect(qatStagesOf(['wte', 'h0.attn.c_attn', 'h0.mlp.c_fc', 'h1.attn.c_attn'], 'wte;h0')).toEqual([
        ['wte'],
        ['wte', 'h0.attn.c_attn', 'h0.mlp.c_fc'],
        ['wte', 'h0.attn.c_attn', 'h0.mlp.c_fc', 'h1.attn.c_attn'],
      ]);
      expect(() => qatStagesOf(['dense1'], 'dense;dense1')).toThrow(/--qat-stages: 'dense' matches no layer with weights \(layers: dense1\)/);
      const st = await compressNetwork(net, { ...cfg, bits: 3, qatSteps: 3, qatStages: 'dense3;dense2' }, train, test);
      const w3 = await net.arena.read('weights');
      const d3 = decodeCompressed(st.bytes);
      for (const [k, v] of w3) expect(Array.from(d3.values.get(k)!), k).toEqual(Array.from(v));
      expect(Object.keys(st.sharing!.layers).sort()).toEqual(['dense1', 'dense2', 'dense3']);
      await expect(compressNetwork(net, { ...cfg, bits: 3, qatStages: 'dense1' }, train, test)).rejects.toThrow(/--qat-stages needs --qat-steps/);
    } finally {
      net.dispose();
    }
  });

  it('bad QAT options name the option', async () => {
    const gpu = await testGpu();
    const { train } = synthetic({ n: 32, testN: 8, features: 4, seed: 1 });
    const net = Network.create(gpu, specFor('mlp:4-3-1', train), 0);
    try {
      expect(() => validateQat(net, { bits: { dense9: 4 } })).toThrow(
        /qat\.bits names layer 'dense9', which has no weights \(layers: dense1, dense2\)/,
      );
      expect(() => validateQat(net, { bits: { dense1: 9 } })).toThrow(/qat\.bits of layer 'dense1' must be an integer in \[1, 8\]/);
      expect(() => validateQat(net, { bits: {} })).toThrow(/qat\.bits must name at least one layer/);
      expect(() => validateQat(net, { bits: { dense1: 2 }, refitEvery: -1 })).toThrow(/qat\.refitEvery must be an integer in \[0, /);
    } finally {
      net.dispose();
    }
  });

  it('CLI: bad --qat flags are refused with the flag named', async () => {
    const base = [
      'train',
      '--model',
      'mlp:784-8-10',
      '--data',
      'mnist-10k',
      '--train-size',
      '64',
      '--test-size',
      '32',
      '--epochs',
      '1',
      '--batch',
      '32',
      '--no-progress',
    ];
    const [bits, begin, both, lr] = await Promise.all([
      cli([...base, '--qat-bits', '9']),
      cli([...base, '--qat-begin', '3']),
      cli([...base, '--qat-bits', '5', '--bits', '4']),
      cli(['export', '--checkpoint', 'x.safetensors', '--out', 'y', '--bits', '5', '--qat-steps', '10', '--qat-lr', '0']),
    ]);
    expect(bits.code).not.toBe(0);
    expect(bits.stderr).toMatch(/--qat-bits.*must be an integer in \[1, 8\]/);
    expect(begin.code).not.toBe(0);
    expect(begin.stderr).toMatch(/--qat-begin needs --qat-bits/);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/--bits gives layer 'dense1' 4 bits but --qat-bits 5/);
    expect(lr.code).not.toBe(0);
    expect(lr.stderr).toMatch(/--qat-lr must be a number > 0, got '0'/);
  });
});
