// The shipped byte model's integer forward: WGSL (lavapipe, and SwiftShader in a child process) vs
// the CPU reference, bit for bit, on awkward shapes; the predictors' tables; the file round trip;
// the loader's named errors.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ByteMlpGpuBatch, GpuBytePredictor } from '../src/codec/pretrained/gpu.js';
import { CpuBytePredictor } from '../src/codec/pretrained/cpu.js';
import { decodeByteMlp, encodeByteMlp } from '../src/codec/pretrained/file.js';
import { loadPredictorById, modelId, SHIPPED_MODELS, setModelSource } from '../src/codec/pretrained/index.js';
import { BitDecoder, BitEncoder, CmModel, decodeByte, encodeByte } from '../src/codec/cm/index.js';
import type { PredictorStreams } from '../src/codec/predictor.js';
import { ByteMlpWeights } from '../src/kernels/bytemlp.js';
import { randomByteMlp } from '../src/reference/bytemlp.js';
import { CHECK_CASES, checkContexts, cpuLogits, hashOf } from '../scripts/bytemlp-device-check.js';
import { testGpu } from './helpers.js';

describe('bytemlp integer forward', () => {
  it('WGSL on this adapter equals the CPU reference to the bit (awkward shapes, negative shifts)', async () => {
    const gpu = await testGpu();
    for (const [seed, ctx, dim, hidden, shifts] of CHECK_CASES) {
      const m = randomByteMlp(seed, ctx, dim, hidden, shifts);
      const w = ByteMlpWeights.upload(gpu, m);
      const b = new ByteMlpGpuBatch(gpu, w);
      for (const R of [1, 37]) {
        const c = checkContexts(ctx, R, seed);
        const want = cpuLogits(m, c, R);
        const got = await b.logits(c, R);
        expect(Array.from(got), `case ${seed} R=${R}`).toEqual(Array.from(want));
        if (R === 37) expect(new Set(want).size, 'logits not degenerate').toBeGreaterThan(10);
      }
      b.dispose();
      w.dispose();
    }
  });

  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  const script = resolve('dist/scripts/bytemlp-device-check.js');
  it.skipIf(!existsSync(swiftshader) || !existsSync(script))(
    'SwiftShader (a second Vulkan driver) gives the same bits',
    async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [script], {
        env: { ...process.env, VK_ICD_FILENAMES: swiftshader },
        timeout: 120_000,
      });
      const res = JSON.parse(stdout.trim().split('\n').pop()!) as { adapter: string; hashes: string[] };
      expect(res.adapter).toMatch(/swiftshader/i);
      const want = CHECK_CASES.map(([seed, ctx, dim, hidden, shifts]) =>
        hashOf(cpuLogits(randomByteMlp(seed, ctx, dim, hidden, shifts), checkContexts(ctx, 37, seed), 37)),
      );
      expect(res.hashes).toEqual(want);
    },
    150_000,
  );

  it('CPU and GPU predictors give the same cum tables over a stream, ended streams included', async () => {
    const gpu = await testGpu();
    const m = randomByteMlp(9, 16, 16, 48, { emb: 6, l1: 8, l2: 9, l3: 10 });
    const cpu = new CpuBytePredictor('x', 'rand', m).open(3);
    const gp = GpuBytePredictor.create(gpu, 'x', 'rand', m);
    const g = gp.open(3);
    const text = new TextEncoder().encode('The quick brown fox jumps over the lazy dog.');
    for (let t = 0; t < 24; t++) {
      const a = await cpu.next(),
        b = await g.next();
      for (let s = 0; s < 3; s++) {
        expect(a[s]![0]).toBe(0);
        expect(a[s]![256]).toBe(65536);
        expect(Array.from(b[s]!)).toEqual(Array.from(a[s]!));
      }
      const push = Int32Array.from([text[t]!, text[t + 7]!, t > 10 ? -1 : text[t + 1]!]);
      cpu.push(push);
      g.push(push);
    }
    g.dispose();
    gp.weights.dispose();
  });
});

describe('bytemlp in the CM coder', () => {
  it('a text coded with the GPU tables decodes with the CPU tables (and back), 2 streams', async () => {
    const gpu = await testGpu();
    const m = randomByteMlp(11, 16, 16, 40, { emb: 6, l1: 9, l2: 9, l3: 10 });
    const gp = GpuBytePredictor.create(gpu, 'x', 'rand', m);
    const cp = new CpuBytePredictor('x', 'rand', m);
    const texts = ['Plain English text, with some punctuation; and digits 12345.', 'Ünïcödé ßtrings — and a short one'].map((t) =>
      new TextEncoder().encode(t),
    );
    const L = Math.max(...texts.map((t) => t.length));
    const encode = async (st: PredictorStreams) => {
      const cm = new CmModel(2, { memoryLog2: 16 }),
        enc = new BitEncoder();
      for (let t = 0; t < L; t++) {
        const tables = await st.next();
        const push = new Int32Array(2).fill(-1);
        for (let s = 0; s < 2; s++)
          if (t < texts[s]!.length) {
            encodeByte(cm, enc, s, texts[s]![t]!, tables[s]!);
            push[s] = texts[s]![t]!;
          }
        st.push(push);
      }
      return enc.finish();
    };
    const decode = async (st: PredictorStreams, bytes: Uint8Array) => {
      const cm = new CmModel(2, { memoryLog2: 16 }),
        dec = new BitDecoder(bytes);
      const out = texts.map((t) => new Uint8Array(t.length));
      for (let t = 0; t < L; t++) {
        const tables = await st.next();
        const push = new Int32Array(2).fill(-1);
        for (let s = 0; s < 2; s++)
          if (t < texts[s]!.length) {
            out[s]![t] = decodeByte(cm, dec, s, tables[s]!);
            push[s] = out[s]![t]!;
          }
        st.push(push);
      }
      return out;
    };
    const g = gp.open(2);
    const coded = await encode(g);
    expect(await encode(cp.open(2))).toEqual(coded);
    const back = await decode(cp.open(2), coded);
    expect(back).toEqual(texts);
    g.dispose();
    gp.weights.dispose();
  });
});

describe('bytemlp file and loader', () => {
  it('round-trips through the .slim.safetensors format', () => {
    const m = randomByteMlp(5, 16, 16, 32);
    m.w2[3] = 0; // a pruned weight
    const back = decodeByteMlp(encodeByteMlp(m));
    for (const k of ['emb', 'w1', 'b1', 'w2', 'b2', 'w3', 'b3'] as const) expect(Array.from(back[k]), k).toEqual(Array.from(m[k]));
    expect(back.shifts).toEqual(m.shifts);
  });

  it('names a model it does not have, and a file that fails its hash', async () => {
    await expect(loadPredictorById('0123456789abcdef0123456789abcdef')).rejects.toThrow(/0123456789abcdef0123456789abcdef.*does not have/);
    const entry = SHIPPED_MODELS[0]!;
    setModelSource(async () => new Uint8Array([1, 2, 3]));
    try {
      await expect(loadPredictorById(entry.id)).rejects.toThrow(/fails its hash/);
    } finally {
      setModelSource(null);
    }
  });

  const shipped = resolve('models', SHIPPED_MODELS[0]?.file ?? 'none');
  it.skipIf(!existsSync(shipped))('the shipped model file matches its id, loads, and is ≤ 512 KB', async () => {
    const bytes = new Uint8Array(readFileSync(shipped));
    expect(bytes.length).toBeLessThanOrEqual(512 * 1024);
    expect(await modelId(bytes)).toBe(SHIPPED_MODELS[0]!.id);
    const p = await loadPredictorById(SHIPPED_MODELS[0]!.id);
    const tables = await p.open(1).next();
    expect(tables[0]![256]).toBe(65536);
  });
});
