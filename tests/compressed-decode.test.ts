// GPT decoding from compressed matrices: CompressedModel.generate (qkv, projections, MLP and the tied
// head through spmm, a KvDecoder with `matrices`) against the dense decoder on the same file: logits
// within float tolerance step by step, and the same greedy text across the context restart.
import { describe, expect, it } from 'vitest';
import { CompressedModel, serializeCompressed } from '../src/index.js';
import { loadCompressed } from '../src/io/export.js';
import { matrixOf } from '../src/io/compressed-model.js';
import { decodeSparse } from '../src/io/format/index.js';
import { uploadMatrix, type GpuMatrix } from '../src/kernels/spmm.js';
import { Decoder } from '../src/nn/decode.js';
import { gptSpec } from '../src/nn/model.js';
import { sampleText } from '../src/cli/sample.js';
import { prunedShared } from './compressed-fixtures.js';
import { expectClose, testGpu } from './helpers.js';

describe('GPT decode from compressed weights', () => {
  it('gpt:2-32-2-16 at 75% + 5-bit: compressed-matrix logits match the dense decoder; greedy text identical', async () => {
    const gpu = await testGpu();
    const spec = gptSpec({ L: 2, D: 32, H: 2, T: 16 });
    const inp = prunedShared(spec, 0.75, 5, 21);
    for (const [k, v] of inp.values) if (k.includes('ln_') && k.endsWith('.weight')) v.fill(1); // layer norm gains 1
    const bytes = serializeCompressed(inp);
    const net = await loadCompressed(gpu, bytes);
    // logits step by step
    const d = decodeSparse(bytes);
    const byName = new Map(d.params.map((p) => [p.entry.name, p]));
    const matrices = new Map<string, GpuMatrix>();
    for (const l of net.layers) {
      if (l.spec.kind === 'dense')
        matrices.set(l.name, uploadMatrix(gpu, matrixOf(l, byName.get(`${l.name}.weight`)!, byName.get(`${l.name}.bias`)!.values!, 'auto')));
      if (l.spec.kind === 'embedding')
        matrices.set(l.name, uploadMatrix(gpu, matrixOf(l, byName.get(`${l.name}.weight`)!, new Float32Array(256), 'csr')));
    }
    const a = await Decoder.create(net),
      b = await Decoder.create(net, matrices);
    for (const t of [72, 101, 108, 108, 111]) expectClose(await b.step(t), await a.step(t), { atol: 1e-4, rtol: 1e-3 }, `token ${t}`);
    a.dispose();
    b.dispose();
    for (const m of matrices.values()) m.dispose();
    // greedy generation past the context (T = 16: the decoder restarts from the last 8 tokens)
    const dense = await sampleText(net, { prompt: 'Hi', tokens: 30, temperature: 0, seed: 1 });
    net.dispose();
    const m = await CompressedModel.load(gpu, bytes);
    expect(m.info.map((l) => l.name)).toContain('wte');
    expect(Array.from(await m.generate('Hi', { tokens: 30, temperature: 0 }))).toEqual(Array.from(dense));
    await expect(m.predict(new Float32Array(16))).rejects.toThrow(/is a language model: use generate/);
    m.dispose();
  }, 120_000);
});

describe('slimgpu sample --compressed', () => {
  it('runs the compressed form; --dense the decoded one; greedy text identical', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { cli } = await import('./helpers.js');
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-sample-'));
    try {
      const inp = prunedShared(gptSpec({ L: 1, D: 16, H: 2, T: 8 }), 0.75, 5, 5);
      const file = join(dir, 'gpt.slim.safetensors');
      await writeFile(file, serializeCompressed(inp));
      const args = ['sample', '--compressed', file, '--prompt', 'ab', '--tokens', '12', '--temperature', '0'];
      const [c, d] = await Promise.all([cli(args), cli([...args, '--dense'])]);
      expect(c.code, c.stderr).toBe(0);
      expect(d.code, d.stderr).toBe(0);
      expect(c.stdout.startsWith('ab')).toBe(true);
      expect(c.stdout).toBe(d.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
