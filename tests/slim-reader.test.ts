// python/slim_reader.py (numpy only, written from docs/format.md) against slimgpu's own decoder on a
// file that uses every encoding: full / bitmask / relative index (with filler entries), f32 kept
// values and codebooks of 1, 3 and 11 bits, conv and dense layers. No PyTorch needed.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WeightSharing } from '../src/compress/sharing.js';
import { decodeCompressed, huffmanDecode, packBits, serializeCompressed } from '../src/io/export.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import type { ModelSpec } from '../src/nn/model.js';
import { randn, rng } from './helpers.js';

const exec = promisify(execFile);
const PY = process.env.SLIMGPU_PYTHON ?? '/usr/bin/python3';
const READER = resolve(__dirname, '..', 'python', 'slim_reader.py');

const SPEC: ModelSpec = {
  name: 'every-encoding',
  input: [1, 6, 6],
  loss: 'softmax-ce',
  task: 'classification',
  layers: [
    { kind: 'conv2d', filters: 3, kernel: 3 },
    { kind: 'relu' },
    { kind: 'maxPool2d', size: 2 },
    { kind: 'flatten' },
    { kind: 'dense', units: 40 },
    { kind: 'relu' },
    { kind: 'dense', units: 300 },
    { kind: 'relu' },
    { kind: 'dense', units: 7 },
  ],
};

function shared(
  layer: string,
  w: Float32Array,
  mask: Float32Array,
  bits: number,
  K: number,
  seed: number,
  one = false,
): WeightSharing['layers'][string] {
  const codebook = randn(K, seed);
  const r = rng(seed);
  const assignments: number[] = [];
  for (let i = 0; i < w.length; i++) {
    if (mask[i] === 0) {
      w[i] = 0;
      continue;
    }
    const a = one ? 5 : Math.floor(r() * K);
    assignments.push(a);
    w[i] = codebook[a]!;
  }
  return {
    layer,
    param: `${layer}.weight`,
    shape: [],
    bits,
    codebook,
    assignments: Uint8Array.from(assignments),
    kept: assignments.length,
    params: w.length,
    counts: new Uint32Array(K),
  };
}

/** Version 3 (compact header), version 2 (Huffman where smaller, or all packed), or the same file written as version 1. */
function everyEncoding(version: '3' | '2' | '2-packed' | '1'): Uint8Array {
  const r = rng(7);
  const conv = randn(27, 1); // no mask: full index, f32 values
  const d1 = new Float32Array(12 * 40),
    m1 = Float32Array.from(d1, () => (r() < 0.5 ? 1 : 0)); // dense half: bitmask
  const d2 = randn(40 * 300, 2),
    m2 = new Float32Array(12000); // runs of neighbours, gaps > 1: relative r = 1 with fillers
  for (let i = 0; i < 12000; i++) m2[i] = i % 400 < 200 ? 1 : 0;
  for (let i = 0; i < 12000; i++) if (!m2[i]) d2[i] = 0;
  const d3 = new Float32Array(300 * 7),
    m3 = Float32Array.from(d3, () => (r() < 0.15 ? 1 : 0)); // sparse: relative
  const sharing: WeightSharing = {
    init: 'linear',
    iterations: 0,
    // dense1: every kept weight the same centroid (a one-symbol Huffman code); dense3: 200 of 2^11
    layers: { dense1: shared('dense1', d1, m1, 3, 8, 3, true), dense3: shared('dense3', d3, m3, 11, 200, 4) },
  };
  const values = new Map<string, Float32Array>([
    ['conv2d1.weight', conv],
    ['conv2d1.bias', randn(3, 5)],
    ['dense1.weight', d1],
    ['dense1.bias', randn(40, 6)],
    ['dense2.weight', d2],
    ['dense2.bias', randn(300, 8)],
    ['dense3.weight', d3],
    ['dense3.bias', randn(7, 9)],
  ]);
  const input = {
    spec: SPEC,
    values,
    masks: new Map([
      ['dense1.weight', m1],
      ['dense2.weight', m2],
      ['dense3.weight', m3],
    ]),
    sharing,
  };
  const v2 = serializeCompressed(input, { entropyCoding: version === '2' || version === '3', formatVersion: version === '3' ? 3 : 2 });
  if (version !== '1') return v2;
  // version 1 is version 2 with every section packed and no coding fields
  const { tensors, metadata } = parseSafetensors(v2);
  const params = (JSON.parse(metadata.params!) as Record<string, unknown>[]).map(({ indexCoding, valueCoding, ...rest }) => {
    expect([indexCoding ?? 'packed', valueCoding ?? 'packed']).toEqual(['packed', 'packed']);
    return rest;
  });
  return serializeSafetensors(tensors, { ...metadata, 'slimgpu.compressed': '1', params: JSON.stringify(params) });
}

describe('docs/format.md examples', () => {
  it('§3 bit stream and §5 Huffman section decode as the page says, in slimgpu and in slim_reader.py', async () => {
    expect(Array.from(packBits([5, 1, 7], 3))).toEqual([0xcd, 0x01]);
    expect(Array.from(huffmanDecode(new Uint8Array([0x21, 0x02, 0x0b]), 3, 3, 'example'))).toEqual([2, 0, 1]);
    const r = await exec(PY, [
      '-c',
      `import sys; sys.path.insert(0, ${JSON.stringify(resolve(__dirname, '..', 'python'))}); import slim_reader as s; ` +
        'print(list(s.unpack(bytes([0xCD, 0x01]), 3, 3)), list(s.huffman(bytes([0x21, 0x02, 0x0B]), 3, 3)))',
    ]);
    expect(r.stdout.trim()).toBe('[5, 1, 7] [2, 0, 1]');
  });
});

describe('python/slim_reader.py', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimgpu-reader-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['3', '2', '2-packed', '1'] as const)('decodes every index and value encoding of version %s bit for bit like slimgpu', async (version) => {
    const bytes = everyEncoding(version);
    const ts = decodeCompressed(bytes);
    expect(parseSafetensors(bytes).metadata['slimgpu.compressed']).toBe(version[0]);
    const kinds = ts.params
      .filter((p) => p.kind === 'sparse')
      .map((p) => p.kind === 'sparse' && `${p.name}:${p.index}${p.indexBits || ''}:${p.indexCoding}:${p.bits}:${p.valueCoding}`);
    expect(kinds).toEqual(
      version === '2' || version === '3'
        ? [
            'conv2d1.weight:full:packed:32:packed',
            'dense1.weight:bitmask:packed:3:huffman',
            'dense2.weight:relative6:huffman:32:packed',
            'dense3.weight:relative2:huffman:11:huffman',
          ]
        : [
            'conv2d1.weight:full:packed:32:packed',
            'dense1.weight:bitmask:packed:3:packed',
            'dense2.weight:relative1:packed:32:packed',
            'dense3.weight:relative3:packed:11:packed',
          ],
    );
    const relative = ts.params.find((p) => p.name === 'dense2.weight')!;
    expect(relative.kind === 'sparse' && relative.indexEntries).toBeGreaterThan(6000); // 6000 kept + filler entries
    const file = join(dir, `every-v${version}.slim.safetensors`),
      out = join(dir, `dense-v${version}.safetensors`);
    await writeFile(file, bytes);
    const r = await exec(PY, [READER, file, '--out', out]);
    expect(r.stdout).toMatch(/dense2\.weight\s+\[40, 300\]\s+non-zeros\s+6000 of 12000/);
    const py = parseSafetensors(new Uint8Array(await readFile(out)));
    expect(JSON.parse(py.metadata.model!)).toEqual(SPEC);
    expect(Object.keys(py.tensors).sort()).toEqual([...ts.values.keys()].sort());
    for (const [k, v] of ts.values) {
      expect(py.tensors[k]!.shape).toEqual(ts.params.find((p) => p.name === k)!.shape);
      expect(Buffer.from((py.tensors[k]!.data as Float32Array).buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
    }
    if (version !== '2') return;
    // torch names: dense weights transposed to [out, in]
    const tout = join(dir, 'torch.safetensors');
    await exec(PY, [READER, file, '--names', 'torch', '--out', tout]);
    const tt = parseSafetensors(new Uint8Array(await readFile(tout))).tensors;
    expect(tt['fc2.weight']!.shape).toEqual([300, 40]);
    expect((tt['fc2.weight']!.data as Float32Array)[5 * 40 + 3]).toBe(ts.values.get('dense2.weight')![3 * 300 + 5]);
    expect(tt['conv1.weight']!.shape).toEqual([3, 1, 3, 3]);
    // a damaged file is refused with a message, not decoded wrongly
    await writeFile(join(dir, 'cut.slim.safetensors'), bytes.subarray(0, bytes.length - 3));
    await expect(exec(PY, [READER, join(dir, 'cut.slim.safetensors')])).rejects.toThrow(
      /slim_reader: tensor .* runs past the end of the file \(truncated\)/,
    );
  });
});
