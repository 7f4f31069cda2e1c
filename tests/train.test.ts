import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawDataset } from '../src/data/dataset.js';
import { loadData, readCheckpoint, runTraining, writeCheckpoint, type RunConfig } from '../src/run/run.js';
import { evaluate, Network, trainNetwork, DivergedError, type TrainOptions } from '../src/nn/trainer.js';
import type { ModelSpec } from '../src/nn/model.js';
import { isPruningStep, keptCount, sparsityAt } from '../src/nn/schedule.js';
import { sparsityScheduleOf } from '../src/nn/trainer.js';
import { expectClose, testGpu, uniform } from './helpers.js';

const base: TrainOptions = { epochs: 1, batch: 64, lr: 0.05, momentum: 0.9, l2: 1e-4, seed: 1 };

async function mnistSmall(trainSize = 1024, testSize = 500) {
  return loadData('mnist-10k', { trainSize, testSize });
}

describe('training on the GPU', () => {
  it('a small model learns MNIST digits within seconds (loss falls, accuracy far above chance)', async () => {
    const gpu = await testGpu();
    const data = await mnistSmall(2048, 1000);
    const net = Network.create(
      gpu,
      {
        name: 'mlp',
        input: [784],
        layers: [{ kind: 'dense', units: 64 }, { kind: 'relu' }, { kind: 'dense', units: 10 }],
        loss: 'softmax-ce',
        task: 'classification',
      },
      3,
    );
    const before = await evaluate(net, data.test);
    const s = await trainNetwork(net, data.train, { ...base, epochs: 3, lr: 0.1, logEvery: 8 }, { step: 0 });
    const after = await evaluate(net, data.test);
    expect(s.history.length).toBeGreaterThan(4);
    expect(s.history[s.history.length - 1]!.loss).toBeLessThan(s.history[0]!.loss * 0.6);
    expect(after.loss).toBeLessThan(before.loss * 0.5);
    expect(after.accuracy!).toBeGreaterThan(0.8); // chance is 0.1
    net.dispose();
  });

  it('the sparsity after every scheduled mask refresh is exact, and masked weights are 0 after every step', async () => {
    const gpu = await testGpu();
    const data = await mnistSmall(640, 100);
    const net = Network.create(
      gpu,
      {
        name: 'mlp',
        input: [784],
        layers: [{ kind: 'dense', units: 37 }, { kind: 'relu' }, { kind: 'dense', units: 10 }],
        loss: 'softmax-ce',
        task: 'classification',
      },
      5,
    );
    const o: TrainOptions = {
      ...base,
      epochs: 2,
      batch: 32,
      sparsity: 0.8,
      schedule: 'polynomial',
      pruneBegin: 2,
      pruneEnd: 14,
      pruneFrequency: 4,
      logEvery: 1,
    };
    const sched = sparsityScheduleOf(o, 40)!;
    const state = { step: 0 };
    const views = net.arena.prunable();
    for (let t = 1; t <= 20; t++) {
      await trainNetwork(net, data.train, { ...o, maxSteps: t }, state);
      expect(state.step).toBe(t);
      const [w, m] = await Promise.all([net.arena.read('weights'), net.arena.read('mask')]);
      const last = [...Array(t).keys()].filter((u) => isPruningStep(sched, u)).pop();
      for (const v of views) {
        const mask = m.get(v.name)!,
          wt = w.get(v.name)!;
        let kept = 0;
        for (let i = 0; i < mask.length; i++) {
          if (mask[i] === 0) expect(wt[i]).toBe(0);
          else kept++;
        }
        // the last refresh at or before step t-1 kept exactly k = round((1 - s)·n) weights
        const want = last === undefined ? v.length : keptCount(v.length, sparsityAt(sched, last));
        expect(kept, `${v.name} after step ${t}`).toBe(want);
      }
    }
    // at the end of pruning the target is reached exactly
    const m = await net.arena.read('mask');
    for (const v of views) expect([...m.get(v.name)!].filter((x) => x !== 0).length).toBe(keptCount(v.length, 0.8));
    net.dispose();
  });

  it('a checkpoint round trip gives identical predictions', async () => {
    const gpu = await testGpu();
    const data = await mnistSmall(512, 300);
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-ckpt-'));
    const cfg: RunConfig = { ...base, model: 'lenet-300-100', data: 'mnist-10k', sparsity: 0.5, trainSize: 512, testSize: 300 };
    const net = Network.create(gpu, (await import('../src/run/run.js')).specFor('lenet-300-100', data.train), 2);
    await trainNetwork(net, data.train, cfg, { step: 0 });
    const path = join(dir, 'c.safetensors');
    await writeCheckpoint(path, net, 8, cfg);
    const a = await evaluate(net, data.test, { predictions: true });
    const { net: net2, step, cfg: cfg2 } = await readCheckpoint(gpu, path);
    expect(step).toBe(8);
    expect(cfg2.model).toBe('lenet-300-100');
    const b = await evaluate(net2, data.test, { predictions: true });
    expect(b.predictions).toEqual(a.predictions);
    expect(b.accuracy).toBe(a.accuracy);
    net.dispose();
    net2.dispose();
    await rm(dir, { recursive: true });
  });

  it('evaluation covers every sample: any batch size gives the same predictions, and accuracy matches them', async () => {
    const gpu = await testGpu();
    const data = await mnistSmall(256, 203);
    const net = Network.create(
      gpu,
      {
        name: 'mlp',
        input: [784],
        layers: [{ kind: 'dense', units: 24 }, { kind: 'relu' }, { kind: 'dense', units: 10 }],
        loss: 'softmax-ce',
        task: 'classification',
      },
      8,
    );
    await trainNetwork(net, data.train, { ...base, lr: 0.1 }, { step: 0 });
    const whole = await evaluate(net, data.test, { batch: 203, predictions: true });
    const small = await evaluate(net, data.test, { batch: 16, predictions: true }); // 12 steps + a tail of 11
    expect(small.n).toBe(203);
    expect(small.predictions).toEqual(whole.predictions);
    let correct = 0;
    const p = whole.predictions!;
    for (let i = 0; i < 203; i++) {
      const row = Array.from(p.subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === data.test.labels![i]) correct++;
    }
    expect(whole.accuracy).toBeCloseTo(correct / 203, 10);
    expect(small.accuracy).toBeCloseTo(correct / 203, 10);
    // rows differ from sample to sample (each batch gathered its own samples)
    expect(Array.from(p.subarray(0, 10))).not.toEqual(Array.from(p.subarray(160, 170)));
    net.dispose();
  });

  it('corrupt or truncated checkpoints are refused with a clear error', async () => {
    const gpu = await testGpu();
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-bad-'));
    const net = Network.create(
      gpu,
      { name: 'tiny', input: [4], layers: [{ kind: 'dense', units: 3 }], loss: 'softmax-ce', task: 'classification' },
      0,
    );
    const good = join(dir, 'good.safetensors');
    await writeCheckpoint(good, net, 0, { ...base, model: 'mlp:4-3', data: 'mnist-10k' });
    const bytes = await readFile(good);
    const cases: [string, Uint8Array][] = [
      ['truncated', bytes.subarray(0, bytes.length - 7)],
      ['header-only', bytes.subarray(0, 5)],
      [
        'huge header length',
        (() => {
          const b = Uint8Array.from(bytes);
          new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
          return b;
        })(),
      ],
      ['garbage', new TextEncoder().encode('not a checkpoint at all, definitely not')],
    ];
    for (const [name, b] of cases) {
      const p = join(dir, `${name}.safetensors`);
      await writeFile(p, b);
      await expect(readCheckpoint(gpu, p), name).rejects.toThrow(/safetensors|checkpoint|header|length|bytes/i);
    }
    net.dispose();
    await rm(dir, { recursive: true });
  });

  it('a resumed run reproduces the uninterrupted run (fixed seed)', async () => {
    const gpu = await testGpu();
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-resume-'));
    const cfg: RunConfig = {
      ...base,
      model: 'mlp:784-32-10',
      data: 'mnist-10k',
      epochs: 2,
      batch: 64,
      trainSize: 512,
      testSize: 200,
      sparsity: 0.7,
      pruneBegin: 2,
      pruneEnd: 12,
      pruneFrequency: 2,
      logEvery: 2,
      out: join(dir, 'full'),
    };
    const full = await runTraining(gpu, cfg);
    // first half, then resume from its checkpoint (written at the end of epoch 1)
    const half = await runTraining(gpu, { ...cfg, epochs: 1, out: join(dir, 'half') });
    const resumed = await runTraining(gpu, { ...cfg, out: join(dir, 'half') }, {}, join(dir, 'half', 'checkpoint.safetensors'));
    const losses = (h: { step: number; loss: number }[]) => h.map((e) => [e.step, e.loss]);
    const fullH = losses(full.summary.history);
    expect([...losses(half.summary.history), ...losses(resumed.summary.history)]).toEqual(fullH);
    expect(resumed.report.metrics.testAccuracy).toBe(full.report.metrics.testAccuracy);
    for (const r of [full, half, resumed]) r.net.dispose();
    await rm(dir, { recursive: true });
  });

  it('lr = 1e6 stops with the NaN message and leaves the checkpoint intact', async () => {
    const gpu = await testGpu();
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-nan-'));
    // 10 steps per epoch: the resumed run diverges long before its next epoch-end checkpoint
    const cfg: RunConfig = { ...base, model: 'mlp:784-32-10', data: 'mnist-10k', epochs: 1, batch: 64, trainSize: 640, testSize: 100, out: dir };
    const first = await runTraining(gpu, cfg);
    first.net.dispose();
    const ckpt = join(dir, 'checkpoint.safetensors');
    const before = await readFile(ckpt);
    const err = await runTraining(gpu, { ...cfg, lr: 1e6, epochs: 3, logEvery: 1 }, {}, ckpt).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DivergedError);
    expect((err as Error).message).toMatch(/loss became (NaN|Infinity|-Infinity).*restored.*checkpoint on disk is intact/s);
    expect(Buffer.compare(await readFile(ckpt), before)).toBe(0);
    const { net } = await readCheckpoint(gpu, ckpt);
    for (const w of (await net.arena.read('weights')).values()) expect(w.every(Number.isFinite)).toBe(true);
    net.dispose();
    await rm(dir, { recursive: true });
  });

  it('no GPU buffer leaks across many train/evaluate/dispose cycles', async () => {
    const gpu = await testGpu();
    const live = new Set<GPUBuffer>();
    const dev = gpu.device as GPUDevice & { createBuffer: GPUDevice['createBuffer'] };
    const create = dev.createBuffer.bind(dev);
    dev.createBuffer = (d: GPUBufferDescriptor) => {
      const b = create(d);
      live.add(b);
      const destroy = b.destroy.bind(b);
      b.destroy = () => {
        live.delete(b);
        destroy();
      };
      return b;
    };
    try {
      const data = await mnistSmall(256, 130);
      const cycle = async () => {
        const net = Network.create(
          gpu,
          {
            name: 'mlp',
            input: [784],
            layers: [{ kind: 'dense', units: 16 }, { kind: 'relu' }, { kind: 'dense', units: 10 }],
            loss: 'softmax-ce',
            task: 'classification',
          },
          0,
        );
        await trainNetwork(net, data.train, { ...base, sparsity: 0.5, pruneBegin: 0, logEvery: 2 }, { step: 0 });
        await evaluate(net, data.test, { batch: 60, predictions: true });
        net.dispose();
      };
      await cycle();
      const after1 = live.size;
      for (let i = 0; i < 8; i++) await cycle();
      expect(live.size).toBe(after1);
      expect(after1).toBeLessThan(40);
    } finally {
      dev.createBuffer = create;
    }
  });
});

// ---- golden test: one step of a tiny conv + dense model against an independent CPU implementation ----

function cpuStep(x: Float64Array, labels: number[], p: Record<string, Float64Array>, B: number) {
  // x (B,1,6,6) → conv 3×(1×3×3) pad 1 + relu → maxpool 2 → flatten 27 → dense 27×4 → softmax CE (mean)
  const C1 = 3,
    H = 6,
    P = 3,
    F = 27,
    K = 4;
  const z1 = new Float64Array(B * C1 * H * H),
    a1 = new Float64Array(z1.length);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < C1; o++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < H; j++) {
          let s = p.b1![o]!;
          for (let ki = 0; ki < 3; ki++)
            for (let kj = 0; kj < 3; kj++) {
              const ii = i + ki - 1,
                jj = j + kj - 1;
              if (ii >= 0 && ii < H && jj >= 0 && jj < H) s += p.w1![o * 9 + ki * 3 + kj]! * x[b * 36 + ii * 6 + jj]!;
            }
          const idx = ((b * C1 + o) * H + i) * H + j;
          z1[idx] = s;
          a1[idx] = Math.max(0, s);
        }
  const pooled = new Float64Array(B * F),
    arg = new Int32Array(B * F);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < C1; o++)
      for (let i = 0; i < P; i++)
        for (let j = 0; j < P; j++) {
          let best = -Infinity,
            bi = -1;
          for (let di = 0; di < 2; di++)
            for (let dj = 0; dj < 2; dj++) {
              const idx = ((b * C1 + o) * H + 2 * i + di) * H + 2 * j + dj;
              if (a1[idx]! > best) {
                best = a1[idx]!;
                bi = idx;
              }
            }
          const q = b * F + (o * P + i) * P + j;
          pooled[q] = best;
          arg[q] = bi;
        }
  const logits = new Float64Array(B * K);
  for (let b = 0; b < B; b++)
    for (let k = 0; k < K; k++) {
      let s = p.b2![k]!;
      for (let f = 0; f < F; f++) s += pooled[b * F + f]! * p.w2![f * K + k]!;
      logits[b * K + k] = s;
    }
  const dl = new Float64Array(B * K);
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const row = logits.subarray(b * K, b * K + K);
    const m = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - m));
    const se = e.reduce((a, c) => a + c, 0);
    loss += -(row[labels[b]!]! - m - Math.log(se));
    for (let k = 0; k < K; k++) dl[b * K + k] = (e[k]! / se - (k === labels[b] ? 1 : 0)) / B;
  }
  const g: Record<string, Float64Array> = { w2: new Float64Array(F * K), b2: new Float64Array(K), w1: new Float64Array(27), b1: new Float64Array(3) };
  const dp = new Float64Array(B * F);
  for (let b = 0; b < B; b++)
    for (let k = 0; k < K; k++) {
      const d = dl[b * K + k]!;
      g.b2![k]! += d;
      for (let f = 0; f < F; f++) {
        g.w2![f * K + k]! += pooled[b * F + f]! * d;
        dp[b * F + f]! += d * p.w2![f * K + k]!;
      }
    }
  const dz1 = new Float64Array(z1.length);
  for (let q = 0; q < dp.length; q++) dz1[arg[q]!]! += dp[q]!;
  for (let i = 0; i < dz1.length; i++) if (!(z1[i]! > 0)) dz1[i] = 0;
  for (let b = 0; b < B; b++)
    for (let o = 0; o < C1; o++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < H; j++) {
          const d = dz1[((b * C1 + o) * H + i) * H + j]!;
          if (d === 0) continue;
          g.b1![o]! += d;
          for (let ki = 0; ki < 3; ki++)
            for (let kj = 0; kj < 3; kj++) {
              const ii = i + ki - 1,
                jj = j + kj - 1;
              if (ii >= 0 && ii < H && jj >= 0 && jj < H) g.w1![o * 9 + ki * 3 + kj]! += d * x[b * 36 + ii * 6 + jj]!;
            }
        }
  return { loss: loss / B, g };
}

describe('golden step: tiny conv + dense model vs an independent CPU implementation', () => {
  it('gradients, loss, mask and the L2-SGD update of one step match', async () => {
    const gpu = await testGpu();
    const B = 5;
    const xs = uniform(B * 36, 77, 0, 1);
    const labels = [0, 3, 1, 2, 3];
    const ds: RawDataset = {
      name: 'golden',
      task: 'classification',
      n: B,
      inputShape: [1, 6, 6],
      featureCount: 36,
      inputs: xs,
      normalization: { scale: 1, mean: 0, std: 1 },
      labels: Uint8Array.from(labels),
      numClasses: 4,
      targets: undefined,
      targetDim: 0,
    };
    const spec: ModelSpec = {
      name: 'golden',
      input: [1, 6, 6],
      loss: 'softmax-ce',
      task: 'classification',
      layers: [
        { kind: 'conv2d', filters: 3, kernel: 3, padding: 1 },
        { kind: 'relu' },
        { kind: 'maxPool2d', size: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 4 },
      ],
    };
    const net = Network.create(gpu, spec, 11);
    // give the biases non-zero values so their gradients and the relu pattern are exercised
    const w0 = await net.arena.read('weights');
    w0.set('conv2d1.bias', Float32Array.from([0.05, -0.1, 0.2]));
    w0.set('dense1.bias', Float32Array.from([0.1, -0.2, 0.3, 0]));
    await net.setParams(w0);
    const lr = 0.3,
      mom = 0.9,
      l2 = 0.01;
    const summary = await trainNetwork(
      net,
      ds,
      { epochs: 1, batch: B, lr, momentum: mom, l2, seed: 4, sparsity: 0.5, schedule: 'constant', pruneBegin: 0, logEvery: 1 },
      { step: 0 },
    );
    expect(summary.steps).toBe(1);
    const [w1, g, v, m] = await Promise.all(['weights', 'grads', 'momentum', 'mask'].map((p) => net.arena.read(p as 'weights')));
    // the batch is a permutation of all 5 samples: gradients do not depend on the order
    const P = (n: string) => Float64Array.from(w0.get(n)!);
    const ref = cpuStep(
      Float64Array.from(xs),
      labels,
      { w1: P('conv2d1.weight'), b1: P('conv2d1.bias'), w2: P('dense1.weight'), b2: P('dense1.bias') },
      B,
    );
    expect(summary.history[0]!.loss).toBeCloseTo(ref.loss, 5);
    const names: [string, string][] = [
      ['conv2d1.weight', 'w1'],
      ['conv2d1.bias', 'b1'],
      ['dense1.weight', 'w2'],
      ['dense1.bias', 'b2'],
    ];
    for (const [name, key] of names) {
      expectClose(g.get(name)!, ref.g[key]!, { atol: 1e-6, rtol: 1e-4 }, `grad ${name}`);
      const prunable = name.endsWith('weight');
      const wOld = w0.get(name)!;
      // mask: exactly round(0.5·n) largest |w0| (no ties in random weights)
      let mask = new Float64Array(wOld.length).fill(1);
      if (prunable) {
        const k = Math.round(0.5 * wOld.length);
        const order = [...wOld.keys()].sort((a, b) => Math.abs(wOld[b]!) - Math.abs(wOld[a]!) || a - b);
        mask = new Float64Array(wOld.length);
        for (const i of order.slice(0, k)) mask[i] = 1;
        expect(Array.from(m.get(name)!)).toEqual(Array.from(mask));
      }
      const lam = prunable ? l2 : 0;
      const vRef = Float64Array.from(ref.g[key]!, (gi, i) => gi + lam * wOld[i]!);
      expectClose(v.get(name)!, vRef, { atol: 1e-6, rtol: 1e-4 }, `momentum ${name}`);
      const wRef = Float64Array.from(wOld, (wi, i) => (wi - lr * vRef[i]!) * mask[i]!);
      expectClose(w1.get(name)!, wRef, { atol: 1e-6, rtol: 1e-4 }, `weights ${name}`);
      if (prunable) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) expect(w1.get(name)![i]).toBe(0);
    }
    net.dispose();
  });
});
