// Text generation (src/nn/sample.ts): the sampler's next-byte logits are the model's (checked
// against GptModel's forward on the same weights, whatever follows the context), greedy decoding
// follows the argmax chain, seeded sampling repeats, and sampleByte draws from softmax(logits / T).
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/data/random.js';
import { GptModel } from '../src/nn/lm.js';
import { modelFromName } from '../src/nn/model.js';
import { Network } from '../src/nn/network.js';
import { sampleByte, TextSampler } from '../src/nn/sample.js';
import { testGpu } from './helpers.js';

const PRESET = 'gpt:2-16-2-8';
const bytes = (s: string) => new TextEncoder().encode(s);

describe('TextSampler', () => {
  it('gives the logits of GptModel for the byte after a context (short, exact and longer than T)', async () => {
    const gpu = await testGpu();
    const lm = await GptModel.create(gpu, PRESET, { seed: 3, windows: 1, capacity: 64 });
    const s = await TextSampler.create(lm.net);
    try {
      const text = bytes('abracadabra, said the cat');
      for (const n of [1, 5, 8, 13]) {
        const ctx = text.subarray(0, n);
        const win = ctx.subarray(Math.max(0, n - 8));
        // GptModel sees the window followed by other bytes: causal rows must not depend on them
        const tokens = Uint32Array.from({ length: 8 }, (_, i) => (i < win.length ? win[i]! : 200 + i));
        const want = (await lm.logits(tokens)).subarray((win.length - 1) * 256, win.length * 256);
        const got = await s.nextLogits(ctx);
        expect(got.length).toBe(256);
        expect(Array.from(got)).toEqual(Array.from(want));
      }
      // an empty prompt stands after a newline
      expect(Array.from(await s.nextLogits(new Uint8Array(0)))).toEqual(Array.from(await s.nextLogits(bytes('\n'))));
    } finally {
      s.dispose();
      lm.dispose();
    }
  });

  it('decodes greedily at temperature 0 and repeats a seeded sample', async () => {
    const gpu = await testGpu();
    const net = Network.create(gpu, modelFromName(PRESET, { input: [8], numClasses: 256 }), 1);
    const s = await TextSampler.create(net);
    try {
      const prompt = bytes('The ');
      const greedy = await s.generate(prompt, { tokens: 6, temperature: 0 });
      const chain = Uint8Array.from(prompt);
      let text = chain;
      for (let i = 0; i < 6; i++) {
        const l = await s.nextLogits(text);
        let best = 0;
        for (let j = 1; j < 256; j++) if (l[j]! > l[best]!) best = j;
        text = Uint8Array.from([...text, best]);
      }
      expect(Array.from(greedy)).toEqual(Array.from(text.subarray(prompt.length)));
      const seen: number[] = [];
      const a = await s.generate(prompt, { tokens: 12, temperature: 1, seed: 7, onByte: (b) => seen.push(b) });
      const b = await s.generate(prompt, { tokens: 12, temperature: 1, seed: 7 });
      const c = await s.generate(prompt, { tokens: 12, temperature: 1, seed: 8 });
      expect(a.length).toBe(12);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(seen).toEqual(Array.from(a));
      expect(Array.from(a)).not.toEqual(Array.from(c)); // an untrained model is near uniform: 12 equal draws of 256 would be a fluke
      let calls = 0;
      expect((await s.generate(prompt, { tokens: 50, shouldStop: () => ++calls > 3 })).length).toBe(3);
      await expect(s.generate(prompt, { tokens: 2, temperature: -1 })).rejects.toThrow(/temperature must be a finite number ≥ 0, got -1/);
      await expect(s.generate(prompt, { tokens: 1.5 })).rejects.toThrow(/tokens must be a non-negative integer, got 1.5/);
    } finally {
      s.dispose();
      net.dispose();
    }
  });

  it('refuses a model that is not a language model', async () => {
    const gpu = await testGpu();
    const net = Network.create(gpu, modelFromName('mlp:4-3', { input: [4], numClasses: 3 }), 0);
    try {
      await expect(TextSampler.create(net)).rejects.toThrow(/is not a language model/);
    } finally {
      net.dispose();
    }
  });
});

describe('sampleByte', () => {
  it('draws from softmax(logits / temperature); 0 takes the argmax', () => {
    const l = new Float32Array(256).fill(-Infinity);
    l[65] = Math.log(0.75);
    l[66] = Math.log(0.25);
    const rng = new Rng(1);
    let a = 0;
    for (let i = 0; i < 4000; i++) {
      const b = sampleByte(l, 1, rng);
      if (b === 65) a++;
      else if (b !== 66) throw new Error(`drew byte ${b}, which has probability 0`);
    }
    expect(a / 4000).toBeGreaterThan(0.72);
    expect(a / 4000).toBeLessThan(0.78);
    // temperature 0.5 squares the odds: 9 : 1
    let c = 0;
    for (let i = 0; i < 4000; i++) if (sampleByte(l, 0.5, rng) === 65) c++;
    expect(c / 4000).toBeGreaterThan(0.87);
    expect(c / 4000).toBeLessThan(0.93);
    expect(sampleByte(l, 0, rng)).toBe(65);
    expect(() => sampleByte(new Float32Array(10), 1, rng)).toThrow(/logits must hold 256 values, got 10/);
    expect(() => sampleByte(l, NaN, rng)).toThrow(/temperature must be a finite number ≥ 0/);
  });
});
