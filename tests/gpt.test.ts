import { describe, expect, it } from 'vitest';
import { encodeDispatches } from '../src/gpu/dispatch.js';
import { LOSS_STATS } from '../src/kernels/loss.js';
import { splitText } from '../src/data/text.js';
import { Network, uploadText } from '../src/nn/network.js';
import { StepPlan } from '../src/nn/plan.js';
import { gptSpec } from '../src/nn/presets.js';
import { hyperRow, type OptimizerKind } from '../src/nn/optimizer.js';
import { gptStepCpu } from '../src/reference/gpt.js';
import { sgdL2Cpu } from '../src/reference/sgd-l2.js';
import { adamwCpu } from '../src/reference/adamw.js';
import { expectClose, rng, testGpu } from './helpers.js';
import { GptModel } from '../src/nn/lm.js';
import { Decoder, sampleLogits } from '../src/nn/decode.js';

const TEXT = new TextEncoder().encode(
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness. ',
);

// One whole GPT step on the GPU (gather, forward, loss, every gradient, the update) against the CPU
// reference composed from the kernels' references (src/reference/gpt.ts), on gpt:2-16-2-8 with B = 3.
async function oneStep(kind: OptimizerKind, clip = 0) {
  const gpu = await testGpu();
  const cfg = { L: 2, D: 16, H: 2, T: 8 };
  const B = 3;
  const spec = gptSpec(cfg);
  const net = Network.create(gpu, spec, 5);
  if (kind === 'adamw') net.arena.ensureVariance();
  // perturb the layer norms and biases away from 1/0 so their gradients are exercised
  const w0 = await net.arena.read('weights');
  const r = rng(9);
  for (const [name, v] of w0)
    if ((!name.startsWith('wte') && !name.includes('.weight')) || name.includes('ln'))
      for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.1 * (r() - 0.5);
  for (const [, v] of w0) for (let i = 0; i < v.length; i++) v[i] = v[i]! * 5; // larger weights: gradients well above rounding
  await net.setParams(w0);
  const data = uploadText(gpu, { kind: 'text', name: 't', bytes: TEXT }, cfg.T, 'train');
  const plan = await StepPlan.build(gpu, spec, net.layers, net.arena, data, B, { optimizer: kind, clip: clip > 0 });
  try {
    const perm = Uint32Array.from({ length: data.n }, (_, i) => (i * 7 + 3) % data.n);
    plan.setPermutation(perm);
    plan.setStep(0, 0);
    const h = { momentum: 0, l2: kind === 'adamw' ? 0.1 : 0.01, beta1: 0.9, beta2: 0.95, clip };
    const lr = 0.05;
    plan.setHyperRows(0, [hyperRow(kind, h, 0, lr)]);
    const enc = gpu.device.createCommandEncoder();
    encodeDispatches(enc, plan.train);
    gpu.device.queue.submit([enc.finish()]);
    const tokens = await plan.input.read(),
      targets = await plan.labels!.read();
    // the gathered windows are T + 1 consecutive bytes at the permutation's offsets
    for (let j = 0; j < B; j++)
      for (let t = 0; t < cfg.T; t++) {
        expect(tokens[j * cfg.T + t]).toBe(TEXT[perm[j]! + t]);
        expect(targets[j * cfg.T + t]).toBe(TEXT[perm[j]! + t + 1]);
      }
    const stats = await plan.stats.read();
    const ref = gptStepCpu(w0, tokens, targets, { ...cfg, B, V: 256 });
    expect(stats[LOSS_STATS.count]).toBe(B * cfg.T);
    expect(Math.abs(stats[LOSS_STATS.lossSum]! / (B * cfg.T) - ref.loss)).toBeLessThan(1e-4 * Math.max(1, ref.loss));
    const g = await net.arena.read('grads');
    for (const [name, want] of ref.grads) {
      const scale = Math.max(...want.map(Math.abs));
      expectClose(g.get(name)!, want, { atol: 2e-3 * scale + 1e-7, rtol: 2e-3 }, `gradient of ${name}`);
    }
    expect(new Set(ref.grads.keys())).toEqual(new Set(net.arena.views.keys()));
    return { net, w0, g, grads: ref.grads, lr, h, after: await net.arena.read('weights') };
  } finally {
    plan.destroy();
    data.dispose();
  }
}

describe('GPT', () => {
  it('one SGD step (loss, every gradient, the update) matches the CPU reference', async () => {
    const { net, w0, grads, lr, h, after } = await oneStep('sgd');
    for (const v of net.arena.views.values()) {
      const w = Float32Array.from(w0.get(v.name)!),
        m = new Float32Array(w.length);
      sgdL2Cpu({ w, g: grads.get(v.name)!, v: m }, { lr, momentum: h.momentum, l2: v.prunable ? h.l2 : 0 });
      expectClose(after.get(v.name)!, w, { atol: 1e-4, rtol: 1e-4 }, `updated ${v.name}`);
    }
    net.dispose();
  });

  it('one AdamW step with global-norm clipping (loss, every gradient, the clipped update) matches the CPU reference', async () => {
    const { net, w0, grads, lr, h, after } = await oneStep('adamw', 0.5);
    let sq = 0;
    for (const g of grads.values()) for (const x of g) sq += x * x;
    const norm = Math.sqrt(sq);
    expect(norm).toBeGreaterThan(0.5); // the clip is active
    for (const v of net.arena.views.values()) {
      const w = Float32Array.from(w0.get(v.name)!),
        m = new Float32Array(w.length),
        vv = new Float32Array(w.length);
      const g = grads.get(v.name)!;
      adamwCpu(
        { w, g, m, v: vv },
        { lr, beta1: h.beta1, beta2: h.beta2, eps: 1e-8, weightDecay: v.prunable ? h.l2 : 0, step: 1 },
        Math.min(1, 0.5 / (norm + 1e-6)),
      );
      // Adam's first step moves each weight by ≈ lr·sign(g): where the true gradient is 0 up to
      // rounding (the key bias: softmax ignores a per-row shift), only that bound is checked
      const gmax = Math.max(...g.map(Math.abs)),
        got = after.get(v.name)!,
        w0v = w0.get(v.name)!;
      const tiny = (i: number) => Math.abs(g[i]!) < 1e-5 * gmax;
      for (let i = 0; i < g.length; i++) if (tiny(i)) expect(Math.abs(got[i]! - w0v[i]!), `${v.name}[${i}]`).toBeLessThanOrEqual(lr * 1.01);
      expectClose(
        got.filter((_, i) => !tiny(i)),
        w.filter((_, i) => !tiny(i)),
        { atol: 2e-4 * lr, rtol: 1e-4 },
        `updated ${v.name}`,
      );
    }
    net.dispose();
  });

  it("incremental decoding with a key/value cache gives the full forward's logits, row by row", async () => {
    const gpu = await testGpu();
    const lm = await GptModel.create(gpu, 'gpt:2-16-2-8', { seed: 4, windows: 1 });
    const w = await lm.net.arena.read('weights');
    for (const [, v] of w) for (let i = 0; i < v.length; i++) v[i] = v[i]! * 8; // sharper logits
    await lm.net.setParams(w);
    const dec = await Decoder.create(lm.net);
    try {
      const tokens = Uint32Array.from(TEXT.subarray(3, 11));
      const full = await lm.logits(tokens);
      for (let t = 0; t < 8; t++)
        expectClose(await dec.step(tokens[t]!), full.subarray(t * 256, (t + 1) * 256), { atol: 1e-4, rtol: 1e-4 }, `logits at t = ${t}`);
      // past the context: the cache restarts from the last T/2 tokens, as a fresh window of them
      const next = await dec.step(TEXT[11]!);
      const fresh = await lm.logits(Uint32Array.from([...TEXT.subarray(7, 12), 0, 0, 0]));
      expectClose(next, fresh.subarray(4 * 256, 5 * 256), { atol: 1e-4, rtol: 1e-4 }, 'logits after the restart');
      expect(sampleLogits(Float32Array.of(0, 3, 1), 0, 0.5)).toBe(1);
      expect(() => sampleLogits(Float32Array.of(0, 1), -1, 0.5)).toThrow(/temperature must be a finite number ≥ 0/);
    } finally {
      dec.dispose();
      lm.dispose();
    }
  });

  it('text data: a 90/10 split, and empty, binary and too-short texts are refused by name', () => {
    const s = splitText(TEXT, 'dickens', 8);
    expect(s.train.bytes.length + s.test.bytes.length).toBe(TEXT.length);
    expect(s.test.bytes.length).toBe(Math.floor(TEXT.length * 0.1));
    expect(() => splitText(new Uint8Array(0), 'e.txt')).toThrow(/text 'e.txt' is empty/);
    expect(() =>
      splitText(
        Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) % 32),
        'b.bin',
        8,
      ),
    ).toThrow(/'b.bin' looks like binary data/);
    expect(() => splitText(TEXT, 'short.txt', 64)).toThrow(/short.txt' has 110 bytes; a context of 64 needs at least 650/);
  });
});
