// State_dicts in and out (src/io/torch.ts): the name/layout mapping, dtype conversion, and hostile
// or foreign files; then the CLI: errors name the tensor and nothing is written.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBf16, fromF16, toBf16, toF16 } from '../src/io/half.js';
import { parseSafetensors, serializeSafetensors, type TensorMap } from '../src/io/safetensors.js';
import { exportStateDict, ImportError, importStateDict, stateDictNames, STATE_DICT_MAX_HEADER_BYTES, transpose2d } from '../src/io/torch.js';
import { initParams, modelFromName, resolveModel } from '../src/nn/model.js';
import { cli, randn } from './helpers.js';

const mnist = { input: [1, 28, 28], numClasses: 10 };
const lenet300 = modelFromName('lenet-300-100', mnist);
const lenet5 = modelFromName('lenet-5', mnist);

/** A torch-layout state_dict of random values for a spec: {fc1.weight: [out, in], ...}. */
function torchTensors(spec = lenet300, seed = 1): TensorMap {
  const t: TensorMap = {};
  stateDictNames(spec, 'torch').forEach((m, i) => {
    const n = m.fileShape.reduce((a, b) => a * b, 1);
    t[m.file] = { dtype: 'F32', shape: m.fileShape, data: randn(n, seed + i, 0.1) };
  });
  return t;
}

describe('PyTorch names and layouts', () => {
  it('maps fc{i} [out, in] ↔ dense{i} [in, out] (transposed) and conv{i} ↔ conv2d{i} (as is)', () => {
    expect(stateDictNames(lenet300).map((m) => `${m.file}=${m.param}:${m.fileShape}`)).toEqual([
      'fc1.weight=dense1.weight:300,784',
      'fc1.bias=dense1.bias:300',
      'fc2.weight=dense2.weight:100,300',
      'fc2.bias=dense2.bias:100',
      'fc3.weight=dense3.weight:10,100',
      'fc3.bias=dense3.bias:10',
    ]);
    expect(stateDictNames(lenet5).map((m) => `${m.file}=${m.param}:${m.fileShape}`)).toEqual([
      'conv1.weight=conv2d1.weight:20,1,5,5',
      'conv1.bias=conv2d1.bias:20',
      'conv2.weight=conv2d2.weight:50,20,5,5',
      'conv2.bias=conv2d2.bias:50',
      'fc1.weight=dense1.weight:500,800',
      'fc1.bias=dense1.bias:500',
      'fc2.weight=dense2.weight:10,500',
      'fc2.bias=dense2.bias:10',
    ]);
    const t = torchTensors(lenet5);
    const { values } = importStateDict(serializeSafetensors(t), lenet5);
    // fc1.weight[o][i] is dense1.weight[i][o]
    const fc1 = t['fc1.weight']!.data as Float32Array,
      d1 = values.get('dense1.weight')!;
    for (const [o, i] of [
      [0, 0],
      [499, 0],
      [3, 799],
      [250, 401],
    ] as const)
      expect(d1[i * 500 + o]).toBe(fc1[o * 800 + i]);
    expect(same(values.get('conv2d2.weight')!, t['conv2.weight']!.data as Float32Array)).toBe(true);
    // export gives the same file content back, and the slimgpu scheme transposes nothing
    const back = parseSafetensors(serializeChunks(exportStateDict(lenet5, values))).tensors;
    for (const [k, v] of Object.entries(t)) expect(same(back[k]!.data as Float32Array, v.data as Float32Array), k).toBe(true);
    const slim = importStateDict(serializeChunks(exportStateDict(lenet5, values, 'slimgpu')), lenet5, { names: 'slimgpu' });
    for (const [k, v] of values) expect(same(slim.values.get(k)!, v), k).toBe(true);
    expect(transpose2d(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3)).toEqual(Float32Array.from([1, 4, 2, 5, 3, 6]));
  });

  it("gpt: presets take nanoGPT's names: transformer.*, Linear weights transposed, lm_head tied to wte, attn.bias masks skipped", () => {
    const gpt = modelFromName('gpt:1-8-2-4', { input: [4], numClasses: 256 });
    const names = stateDictNames(gpt);
    // exactly the keys and shapes of python/twins.py GPT(1, 8, 2, 4).state_dict(), in its order
    expect(names.map((m) => `${m.file}:${m.fileShape}`).join(' ')).toBe(
      'transformer.wte.weight:256,8 transformer.wpe.weight:4,8 ' +
        'transformer.h.0.ln_1.weight:8 transformer.h.0.ln_1.bias:8 transformer.h.0.attn.c_attn.weight:24,8 transformer.h.0.attn.c_attn.bias:24 ' +
        'transformer.h.0.attn.c_proj.weight:8,8 transformer.h.0.attn.c_proj.bias:8 transformer.h.0.ln_2.weight:8 transformer.h.0.ln_2.bias:8 ' +
        'transformer.h.0.mlp.c_fc.weight:32,8 transformer.h.0.mlp.c_fc.bias:32 transformer.h.0.mlp.c_proj.weight:8,32 transformer.h.0.mlp.c_proj.bias:8 ' +
        'transformer.ln_f.weight:8 transformer.ln_f.bias:8 lm_head.weight:256,8',
    );
    expect(names.find((m) => m.file === 'transformer.h.0.mlp.c_fc.weight')).toMatchObject({
      param: 'h0.mlp.c_fc.weight',
      shape: [8, 32],
      transpose: true,
    });
    expect(names.find((m) => m.file === 'lm_head.weight')).toMatchObject({ param: 'wte.weight', tied: true });
    const values = initParams(resolveModel(gpt), 3);
    const file = serializeChunks(exportStateDict(gpt, values));
    const t = parseSafetensors(file).tensors;
    expect(same(t['lm_head.weight']!.data as Float32Array, values.get('wte.weight')!)).toBe(true);
    const back = importStateDict(file, gpt);
    for (const [k, v] of values) expect(same(back.values.get(k)!, v), k).toBe(true);
    // without lm_head (deduplicated on save) and with nanoGPT's causal-mask buffers: fine
    delete t['lm_head.weight'];
    t['transformer.h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 4, 4], data: new Float32Array(16) };
    expect(importStateDict(serializeSafetensors(t), gpt).values.size).toBe(values.size);
    // a head that is not the embedding is refused: slimgpu's GPT ties them
    t['lm_head.weight'] = { dtype: 'F32', shape: [256, 8], data: Float32Array.from(values.get('wte.weight')!, (x, i) => (i === 9 ? x + 1 : x)) };
    expect(() => importStateDict(serializeSafetensors(t), gpt)).toThrow(
      /tensor 'lm_head\.weight' differs from the tensor it is tied to \('wte\.weight' in slimgpu\) at \[1, 1\]/,
    );
    t['transformer.h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 5, 5], data: new Float32Array(25) };
    expect(() => importStateDict(serializeSafetensors(t), gpt)).toThrow(/tensor 'transformer\.h\.0\.attn\.bias' is not a parameter/);
  });

  it('converts F16, BF16 and F64 to f32 (round to nearest) and says which it converted', () => {
    const t = torchTensors();
    const w = t['fc2.weight']!.data as Float32Array,
      b = t['fc1.bias']!.data as Float32Array,
      b3 = t['fc3.bias']!.data as Float32Array;
    t['fc2.weight'] = { dtype: 'F16', shape: [100, 300], data: toF16(w) };
    t['fc1.bias'] = { dtype: 'BF16', shape: [300], data: toBf16(b) };
    t['fc3.bias'] = { dtype: 'F64', shape: [10], data: Float64Array.from(b3, (x) => x + 1e-12) };
    const r = importStateDict(serializeSafetensors(t), lenet300);
    expect([...r.converted.entries()]).toEqual([
      ['fc1.bias', 'BF16'],
      ['fc2.weight', 'F16'],
      ['fc3.bias', 'F64'],
    ]);
    expect(same(r.values.get('dense2.weight')!, transpose2d(fromF16(toF16(w)), 100, 300))).toBe(true);
    expect(same(r.values.get('dense1.bias')!, fromBf16(toBf16(b)))).toBe(true);
    expect(r.values.get('dense3.bias')).toEqual(Float32Array.from(b3, (x) => Math.fround(x + 1e-12)));
    expect(r.values.get('dense2.weight')![0]).not.toBe(w[0]); // really rounded through f16
  });

  it('lists every missing, unknown, mis-shaped, wrongly typed and non-finite tensor by name with the expected shape', () => {
    const t = torchTensors();
    delete t['fc2.bias'];
    t['fc4.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
    t['fc1.weight'] = { dtype: 'F32', shape: [784, 300], data: new Float32Array(235200) };
    t['fc3.weight'] = { dtype: 'I32', shape: [10, 100], data: new Int32Array(1000) };
    const nan = new Float32Array(100);
    nan[7] = NaN;
    nan[9] = Infinity;
    t['fc2.weight'] = { dtype: 'F32', shape: [100, 300], data: new Float32Array(30000).fill(0.5) };
    (t['fc2.weight'].data as Float32Array)[301] = -Infinity;
    t['fc3.bias'] = { dtype: 'F64', shape: [10], data: Float64Array.from({ length: 10 }, (_, i) => (i === 4 ? 1e300 : 0)) };
    let msg = '';
    try {
      importStateDict(serializeSafetensors(t), lenet300, { name: 'bad.safetensors' });
    } catch (e) {
      expect(e).toBeInstanceOf(ImportError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^slimgpu\.import: 'bad\.safetensors': cannot import as model 'lenet-300-100' \(--names torch\)/);
    expect(msg).toMatch(/tensor 'fc2\.bias' is missing \(expected torch Linear bias, shape \[100\]\)/);
    expect(msg).toMatch(
      /tensor 'fc4\.weight' is not a parameter of model 'lenet-300-100' with --names torch \(expected: fc1\.weight \[300, 784\], fc1\.bias \[300\]/,
    );
    expect(msg).toMatch(
      /tensor 'fc1\.weight' has shape \[784, 300\], expected \[300, 784\] \(torch Linear weight \[out, in\]\) — it looks transposed: a file in slimgpu's \[in, out\] layout needs --names slimgpu/,
    );
    expect(msg).toMatch(
      /tensor 'fc3\.weight' has dtype I32; import takes F32, F16, BF16 or F64 \(expected torch Linear weight \[out, in\], shape \[10, 100\]\)/,
    );
    expect(msg).toMatch(/tensor 'fc2\.weight' holds 1 non-finite value \(first: -Infinity at \[1, 1\]\)/);
    expect(msg).toMatch(/tensor 'fc3\.bias' holds 1 non-finite value \(first: Infinity at \[4\] \(1e\+300 overflows float32\)\)/);
    const nt = torchTensors();
    nt['fc1.bias'] = { dtype: 'F32', shape: [300], data: new Float32Array(300) };
    (nt['fc1.bias'].data as Float32Array)[17] = NaN;
    expect(() => importStateDict(serializeSafetensors(nt), lenet300)).toThrow(/tensor 'fc1\.bias' holds 1 non-finite value \(first: NaN at \[17\]\)/);
    // a file in slimgpu's layout read as torch, and the other way round
    const slimFile = serializeChunks(exportStateDict(lenet300, initParams(resolveModel(lenet300), 0), 'slimgpu'));
    expect(() => importStateDict(slimFile, lenet300)).toThrow(/tensor 'dense1\.weight' is not a parameter/);
    expect(() => importStateDict(serializeSafetensors(torchTensors()), lenet300, { names: 'slimgpu' })).toThrow(
      /tensor 'dense1\.weight' is missing \(expected slimgpu dense weight \[in, out\], shape \[784, 300\]\)/,
    );
    // the wrong model
    expect(() => importStateDict(serializeSafetensors(torchTensors()), lenet5)).toThrow(
      /tensor 'conv1\.weight' is missing \(expected torch Conv2d weight \[OC, C, KH, KW\], shape \[20, 1, 5, 5\]\)/,
    );
  });

  it('refuses huge headers, broken containers and slimgpu checkpoints before reading any tensor', () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => importStateDict(huge, lenet300)).toThrow(/header length 1099511627776 exceeds the limit of 16777216 bytes \(maxHeaderBytes\)/);
    const big = new Uint8Array(8 + STATE_DICT_MAX_HEADER_BYTES + 8);
    new DataView(big.buffer).setBigUint64(0, BigInt(STATE_DICT_MAX_HEADER_BYTES + 1), true);
    expect(() => importStateDict(big, lenet300)).toThrow(/exceeds the limit of 16777216 bytes/);
    expect(() => importStateDict(new Uint8Array(5), lenet300)).toThrow(/shorter than the 8-byte header length field/);
    const ck = serializeSafetensors(torchTensors(), { 'slimgpu.checkpoint': '1' });
    expect(() => importStateDict(ck, lenet300)).toThrow(/this is a slimgpu checkpoint, not a state_dict; continue it with 'slimgpu train --resume'/);
  });
});

/** Bit-identical (vitest's toEqual on 100k-element arrays takes seconds). */
function same(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function serializeChunks(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

describe('slimgpu import / train --init on bad files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimgpu-import-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the tensor and writes nothing; a good file imports and its mapping is printed', async () => {
    const t = torchTensors();
    t['fc2.weight'] = { dtype: 'F32', shape: [300, 100], data: t['fc2.weight']!.data };
    const bad = join(dir, 'bad.safetensors'),
      out = join(dir, 'ckpt.safetensors');
    await writeFile(bad, serializeSafetensors(t));
    const r = await cli(['import', bad, '--model', 'lenet-300-100', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tensor 'fc2\.weight' has shape \[300, 100\], expected \[100, 300\] \(torch Linear weight \[out, in\]\)/);
    expect(existsSync(out)).toBe(false);
    const run = join(dir, 'run');
    const tr = await cli(['train', '--init', bad, '--model', 'lenet-300-100', '--max-steps', '2', '--out', run]);
    expect(tr.code).toBe(1);
    expect(tr.stderr).toMatch(/tensor 'fc2\.weight' has shape \[300, 100\]/);
    expect(existsSync(run)).toBe(false);
    const both = await cli(['train', '--init', bad, '--resume', out]);
    expect(both.stderr).toMatch(/--init starts a new run from a state_dict, --resume continues a checkpoint/);
    const good = join(dir, 'good.safetensors');
    const h = torchTensors();
    h['fc1.weight'] = { dtype: 'F16', shape: [300, 784], data: toF16(h['fc1.weight']!.data as Float32Array) };
    await writeFile(good, serializeSafetensors(h));
    const ok = await cli(['import', good, '--model', 'lenet-300-100', '--out', out, '--json']);
    expect(ok.code).toBe(0);
    const j = JSON.parse(ok.stdout);
    expect(j.tensors[0]).toEqual({
      file: 'fc1.weight',
      fileShape: [300, 784],
      param: 'dense1.weight',
      shape: [784, 300],
      transposed: true,
      convertedFrom: 'F16',
    });
    const ck = parseSafetensors(new Uint8Array(await (await import('node:fs/promises')).readFile(out))).tensors;
    expect(same(ck['dense1.weight']!.data as Float32Array, transpose2d(fromF16(h['fc1.weight']!.data as Uint16Array), 300, 784))).toBe(true);
    expect(Array.from(ck['dense1.weight.mask']!.data as Float32Array).every((x) => x === 1)).toBe(true);
  });
});
