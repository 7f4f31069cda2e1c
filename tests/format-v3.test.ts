// Format version 3 (the compact header, src/io/format/compact.ts, docs/format.md §9): the same
// sections as version 2 in one "data" tensor with terse metadata. Round trips bit-exactly against
// version 2, keeps LeNet headers ≤ 600 bytes, and refuses inconsistent metadata with a named error.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompressedModelError, compressedSizes, decodeCompressed, serializeCompressed } from '../src/io/export.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { modelFromName, type ModelSpec } from '../src/nn/model.js';
import { prunedShared } from './compressed-fixtures.js';

const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const headerOf = (b: Uint8Array) => 8 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));

function expectNamed(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${re}`).toBeInstanceOf(CompressedModelError);
  expect((err as Error).message).toMatch(re);
}

const LENET300 = modelFromName('lenet-300-100', { input: [784], numClasses: 10 });
const LENET5 = modelFromName('lenet-5', { input: [1, 28, 28], numClasses: 10 });

describe('format version 3 (compact header)', () => {
  it.each([
    ['lenet-300-100', LENET300, 0.92],
    ['lenet-5', LENET5, 0.92],
  ] as const)('%s: header ≤ 600 bytes, decodes bit-exactly like the v2 file of the same model', (_, spec, sparsity) => {
    const inp = prunedShared(spec, sparsity, 5);
    const v3 = serializeCompressed(inp),
      v2 = serializeCompressed(inp, { formatVersion: 2 });
    expect(parseSafetensors(v3).metadata['slimgpu.compressed']).toBe('3');
    expect(Object.keys(parseSafetensors(v3).tensors)).toEqual(['data']);
    expect(headerOf(v3)).toBeLessThanOrEqual(600);
    expect(headerOf(v2)).toBeGreaterThan(1500);
    expect(v2.length - v3.length).toBe(headerOf(v2) - headerOf(v3)); // same data bytes
    const a = decodeCompressed(v3),
      b = decodeCompressed(v2);
    expect(a.version).toBe('3');
    expect(a.spec).toEqual(spec);
    expect(a.params).toEqual(b.params);
    for (const [k, v] of b.values) expect(sameBits(a.values.get(k)!, v), k).toBe(true);
    const sz = compressedSizes(v3);
    expect(sz.headerBytes).toBe(headerOf(v3));
    expect(sz.headerBytes + sz.dataBytes).toBe(v3.length);
    expect(sz.layers.map((l) => l.bytes)).toEqual(compressedSizes(v2).layers.map((l) => l.bytes));
    // re-encoding the decoded model gives the same bytes (the preset form round trips)
    const again = serializeCompressed({ spec: a.spec, values: a.values, masks: a.masks, sharing: inp.sharing });
    expect(parseSafetensors(again).metadata).toEqual(parseSafetensors(v3).metadata);
    expect(Buffer.from(again).equals(Buffer.from(v3))).toBe(true);
  });

  it('version 2 stays byte-reproducible with formatVersion: 2 (hash of a file written before version 3 existed)', () => {
    const v2 = serializeCompressed(prunedShared(LENET300, 0.9, 4, 3), { formatVersion: 2 });
    expect(createHash('sha256').update(v2).digest('hex')).toBe(V2_SHA256);
  });

  it('a model that is no preset keeps its JSON spec; packed and f32 sections work too', () => {
    const spec: ModelSpec = {
      name: 'custom',
      input: [12],
      loss: 'mse',
      task: 'regression',
      layers: [{ kind: 'dense', units: 5, name: 'a' }, { kind: 'tanh' }, { kind: 'dense', units: 3 }],
    };
    const inp = prunedShared(spec, 0.3, 3, 9);
    delete inp.sharing!.layers.dense2; // f32 kept values
    const bytes = serializeCompressed(inp, { entropyCoding: false });
    const md = parseSafetensors(bytes).metadata;
    expect(md.model!.startsWith('{')).toBe(true);
    expect(md.params).toMatch(/^a\.weight 12x5 \d+ (m|r\d+p\d+) 3p\d+,a\.bias 5,dense2\.weight 5x3 \d+ (m|r\d+p\d+) f,dense2\.bias 3$/);
    const d = decodeCompressed(bytes);
    for (const [k, v] of inp.values) expect(sameBits(d.values.get(k)!, v), k).toBe(true);
  });

  it('refuses inconsistent terse metadata before decoding anything, naming the problem', () => {
    const bytes = serializeCompressed(prunedShared(LENET300, 0.9, 4, 3));
    const { tensors, metadata } = parseSafetensors(bytes);
    const with_ =
      (md: Record<string, string>, t = tensors) =>
      () =>
        decodeCompressed(serializeSafetensors(t, { ...metadata, ...md }));
    const p = metadata.params!;
    expectNamed(with_({ params: p.replace(/^dense1\.weight 784x300 (\d+)/, (_, k) => `dense1.weight 784x300 ${Number(k) + 1}`) }), /dense1\.weight/);
    expectNamed(
      with_({ params: p.replace('dense1.bias 300', 'dense1.bias 301') }),
      /hold \d+ bytes, the "data" tensor \d+|runs past the end of "data"/,
    );
    expectNamed(with_({ params: p.replace(/ 4h(\d+):/, ' 4q$1:') }), /values must be f, \{bits\}p\{K\}/);
    expectNamed(
      with_({ params: p.replace(/ 4h(\d+):(\d+)/, (_, k, b) => ` 4h${k}:${Number(b) + 1}`) }),
      /hold \d+ bytes, the "data" tensor \d+|must hold|runs past the end of "data"/,
    );
    expectNamed(with_({ params: p.replace(/ 4h(\d+):(\d+)/, ' 4h$1') }), /huffman values \(h\) and only they carry/);
    expectNamed(with_({ params: p.split(',').slice(0, -1).join(',') }), /does not describe parameter 'dense3.bias'|hold \d+ bytes/);
    expectNamed(with_({ model: 'lenet-300-100;784;11' }), /shape must be \[100,11\]|shape must be \[100, ?11\]|hold \d+ bytes|shape/);
    expectNamed(with_({ model: 'nosuch;784;10' }), /names no model/);
    expectNamed(with_({}, { ...tensors, extra: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), /exactly one tensor "data"/);
    expectNamed(with_({ 'slimgpu.compressed': '4' }), /version "4" is not supported/);
  });
});

// sha256 of serializeCompressed(prunedShared(LENET300, 0.9, 4, 3)) as written by the encoder before format version 3 (commit c58e09d)
const V2_SHA256 = '6569b50c784c3545805a7fd7d47df0c140f9505818c57b3b8a45d55d50a5a04a';

describe('convertCompressed', () => {
  it('v3 → v2 → v3 gives back the same bytes; the v2 file has the tensors the encoder writes as v2 (the model JSON may order its keys differently)', async () => {
    const { convertCompressed } = await import('../src/io/export.js');
    const inp = prunedShared(LENET5, 0.9, 5, 6);
    const v3 = serializeCompressed(inp);
    const v2 = convertCompressed(v3, { formatVersion: 2 });
    const direct = parseSafetensors(serializeCompressed(inp, { formatVersion: 2 }));
    const conv = parseSafetensors(v2);
    expect(conv.tensors).toEqual(direct.tensors);
    expect(conv.metadata.params).toBe(direct.metadata.params);
    expect(JSON.parse(conv.metadata.model!)).toEqual(JSON.parse(direct.metadata.model!));
    expect(Buffer.from(convertCompressed(v2)).equals(Buffer.from(v3))).toBe(true);
  });
});

describe('python/slim_reader.py on a version-3 preset file', () => {
  it('decodes LeNet-5 (model "lenet-5;1x28x28;10") bit for bit like slimgpu', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
    const { join, resolve } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-v3-'));
    try {
      const bytes = serializeCompressed(prunedShared(LENET5, 0.9, 5, 12));
      expect(parseSafetensors(bytes).metadata.model).toBe('lenet-5;1x28x28;10');
      const file = join(dir, 'l5.slim.safetensors'),
        out = join(dir, 'dense.safetensors');
      await writeFile(file, bytes);
      await promisify(execFile)(process.env.SLIMGPU_PYTHON ?? '/usr/bin/python3', [
        resolve(__dirname, '..', 'python', 'slim_reader.py'),
        file,
        '--out',
        out,
      ]);
      const py = parseSafetensors(new Uint8Array(await readFile(out)));
      expect(JSON.parse(py.metadata.model!)).toEqual({ preset: 'lenet-5', input: [1, 28, 28], classes: 10 });
      for (const [k, v] of decodeCompressed(bytes).values) expect(sameBits(py.tensors[k]!.data as Float32Array, v), k).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
