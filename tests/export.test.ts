import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fineTuneCentroids, initLinear, shareWeights, type WeightSharing } from '../src/compress/sharing.js';
import {
  chooseIndex,
  COMPRESSED_FORMAT_KEY,
  CompressedModelError,
  compressedSizes,
  decodeBitmask,
  decodeCompressed,
  decodeRelative,
  encodeBitmask,
  encodeRelative,
  exportCompressed,
  loadCompressed,
  packBits,
  readCompressed,
  relativeEntries,
  serializeCompressed,
  unpackBits,
  writeCompressed,
  type CompressInput,
} from '../src/io/export.js';
import { parseSafetensors, SafetensorsError, serializeSafetensors, type TensorMap } from '../src/io/safetensors.js';
import type { ModelSpec } from '../src/nn/model.js';
import { evaluate, Network, trainNetwork, type TrainOptions } from '../src/nn/trainer.js';
import { kmeansCpu } from '../src/reference/cluster.js';
import { loadData, specFor } from '../src/run/run.js';
import { randn, rng, testGpu } from './helpers.js';

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe('bit streams and sparse index encodings', () => {
  it('packBits/unpackBits round trip every width 1..16 and refuse bad lengths and padding', () => {
    const r = rng(1);
    for (let w = 1; w <= 16; w++) {
      for (const count of [0, 1, 7, 1000]) {
        const vals = Uint32Array.from({ length: count }, () => Math.floor(r() * 2 ** w));
        const bytes = packBits(vals, w);
        expect(bytes.length).toBe(Math.ceil((count * w) / 8));
        expect(Array.from(unpackBits(bytes, count, w, 'x'))).toEqual(Array.from(vals));
      }
    }
    expect(() => unpackBits(new Uint8Array(3), 5, 5, 'vals')).toThrow(/vals: 5 values of 5 bits need 4 bytes, the tensor holds 3/);
    expect(() => unpackBits(new Uint8Array([0, 0, 0, 0x80]), 5, 5, 'vals')).toThrow(/vals: the padding bits after the last value are not 0/);
  });

  it('relative indices: gaps larger than 2^r − 1 become filler entries; the decoder checks every position and count', () => {
    const n = 100_000;
    const pos = Uint32Array.from([0, 5, 6, 40_000, 99_999]);
    for (const r of [1, 3, 4, 5, 8, 13, 16]) {
      const M = 2 ** r - 1;
      const enc = encodeRelative(pos, r);
      expect(enc.entries).toBe(relativeEntries(pos, r));
      const fillers = [1, 5, 1, 39_994, 59_999].reduce((s, g) => s + Math.floor((g - 1) / M), 0);
      expect(enc.entries).toBe(pos.length + fillers);
      expect(Array.from(decodeRelative(enc.bytes, enc.entries, r, n, pos.length, 'idx'))).toEqual(Array.from(pos));
    }
    const e4 = encodeRelative(pos, 4);
    expect(() => decodeRelative(e4.bytes, e4.entries, 4, n, 4, 'idx')).toThrow(
      /idx: relative index entry \d+ follows the last of the 4 kept positions/,
    );
    expect(() => decodeRelative(e4.bytes, e4.entries, 4, n, 6, 'idx')).toThrow(
      /idx: the relative index decodes to 5 kept positions, the metadata says 6/,
    );
    expect(() => decodeRelative(e4.bytes, e4.entries, 4, 99_999, 5, 'idx')).toThrow(
      /idx: relative index (filler )?entry \d+ (gives|moves to) position \d+, (beyond the 99999 weights|past the last position 99998)/,
    );
    // all fillers: runs past the end
    expect(() => decodeRelative(new Uint8Array(100), 200, 4, 1000, 1, 'idx')).toThrow(
      /filler entry \d+ moves to position \d+, past the last position 999/,
    );
    // all 15s: positions 14, 29, ... beyond n
    expect(() => decodeRelative(new Uint8Array(50).fill(0xff), 100, 4, 100, 100, 'idx')).toThrow(
      /entry 6 gives position 104, beyond the 100 weights/,
    );
  });

  it('bitmask: round trip, and refuses wrong counts and padding', () => {
    const n = 21;
    const pos = Uint32Array.from([0, 3, 8, 20]);
    const b = encodeBitmask(pos, n);
    expect(b.length).toBe(3);
    expect(Array.from(decodeBitmask(b, n, 4, 'm'))).toEqual(Array.from(pos));
    expect(() => decodeBitmask(b, n, 5, 'm')).toThrow(/m: the bitmask marks 4 kept positions, the metadata says 5/);
    expect(() => decodeBitmask(b, n, 3, 'm')).toThrow(/m: the bitmask marks more than the 3 kept positions/);
    const bad = b.slice();
    bad[2]! |= 0x80;
    expect(() => decodeBitmask(bad, n, 4, 'm')).toThrow(/m: the bitmask's padding bits after position 20 are not 0/);
    expect(() => decodeBitmask(b, 30, 4, 'm')).toThrow(/m: a bitmask of 30 positions needs 4 bytes, the tensor holds 3/);
  });

  it('chooseIndex picks the smallest: full, bitmask for dense-ish, relative for very sparse', () => {
    const r = rng(3);
    const n = 10_000;
    const pick = (keep: number) => Uint32Array.from([...Array(n).keys()].filter(() => r() < keep));
    expect(
      chooseIndex(
        Uint32Array.from({ length: n }, (_, i) => i),
        n,
      ).index,
    ).toBe('full');
    const half = chooseIndex(pick(0.5), n);
    expect(half.index).toBe('bitmask');
    expect(half.bytes.length).toBe(n / 8);
    const sparse = chooseIndex(pick(0.02), n);
    expect(sparse.index).toBe('relative');
    expect(sparse.bytes.length).toBeLessThan(n / 8);
    // r minimises the size over 1..16
    const p2 = pick(0.08);
    const c2 = chooseIndex(p2, n);
    for (let rr = 1; rr <= 16; rr++) expect(c2.bytes.length).toBeLessThanOrEqual(Math.ceil((relativeEntries(p2, rr) * rr) / 8));
    const none = chooseIndex(new Uint32Array(0), n);
    expect(none.index).toBe('relative');
    expect(none.bytes.length).toBe(0);
  });
});

// ---- the file format on the CPU -------------------------------------------------------------------

const SPEC: ModelSpec = {
  name: 'fmt',
  input: [200],
  loss: 'softmax-ce',
  task: 'classification',
  layers: [{ kind: 'dense', units: 60 }, { kind: 'relu' }, { kind: 'dense', units: 300 }],
};

/** dense1: 50% kept and 4-bit shared (bitmask); dense2: 100 consecutive + 1 far position, f32 (relative with fillers). */
function formatInput(): CompressInput {
  const r = rng(7);
  const K = 16;
  const codebook = Float32Array.from(randn(K, 8, 0.1)).sort();
  const w1 = new Float32Array(200 * 60),
    m1 = new Float32Array(200 * 60);
  const assignments: number[] = [];
  for (let i = 0; i < w1.length; i++) {
    if (r() < 0.5) {
      const a = Math.floor(r() * K);
      m1[i] = 1;
      w1[i] = codebook[a]!;
      assignments.push(a);
    }
  }
  const w2 = new Float32Array(60 * 300),
    m2 = new Float32Array(60 * 300);
  const far = [...Array(100).keys(), 17_999];
  const v2 = randn(far.length, 9);
  far.forEach((p, j) => {
    m2[p] = 1;
    w2[p] = v2[j]!;
  });
  const sharing: WeightSharing = {
    init: 'linear',
    iterations: 0,
    layers: {
      dense1: {
        layer: 'dense1',
        param: 'dense1.weight',
        shape: [200, 60],
        bits: 4,
        codebook,
        assignments: Uint8Array.from(assignments),
        kept: assignments.length,
        params: w1.length,
        counts: new Uint32Array(K),
      },
    },
  };
  return {
    spec: SPEC,
    sharing,
    values: new Map([
      ['dense1.weight', w1],
      ['dense1.bias', randn(60, 10)],
      ['dense2.weight', w2],
      ['dense2.bias', randn(300, 11)],
    ]),
    masks: new Map([
      ['dense1.weight', m1],
      ['dense2.weight', m2],
    ]),
  };
}

/** Parses a file, lets `mutate` change its tensors and metadata, and serialises it again. */
function rebuild(bytes: Uint8Array, mutate: (t: TensorMap, meta: Record<string, string>) => void): Uint8Array {
  const { tensors, metadata } = parseSafetensors(bytes);
  mutate(tensors, metadata);
  return serializeSafetensors(tensors, metadata);
}

function mutateParams(bytes: Uint8Array, f: (params: Record<string, unknown>[]) => void, t?: (t: TensorMap) => void): Uint8Array {
  return rebuild(bytes, (tensors, meta) => {
    const p = JSON.parse(meta.params!) as Record<string, unknown>[];
    f(p);
    meta.params = JSON.stringify(p);
    t?.(tensors);
  });
}

describe('the compressed file format', () => {
  it('round trips exactly; per-layer encodings and sizes add up to the file size (packed, no entropy coding)', () => {
    const input = formatInput();
    const bytes = serializeCompressed(input, { entropyCoding: false });
    const d = decodeCompressed(bytes);
    expect(d.spec).toEqual(SPEC);
    for (const [name, v] of input.values) expect(sameBits(d.values.get(name)!, v), name).toBe(true);
    for (const [name, m] of input.masks!) expect(Array.from(d.masks.get(name)!)).toEqual(Array.from(m));
    const p1 = d.params.find((p) => p.name === 'dense1.weight')!,
      p2 = d.params.find((p) => p.name === 'dense2.weight')!;
    expect(p1).toMatchObject({ kind: 'sparse', index: 'bitmask', bits: 4, codebook: 16 });
    expect(p2).toMatchObject({ kind: 'sparse', index: 'relative', bits: 32, codebook: 0, kept: 101 });
    if (p2.kind !== 'sparse') throw new Error('kind');
    // the far position needs fillers: a gap of 17900 > 2^r − 1
    expect(17_900).toBeGreaterThan(2 ** p2.indexBits - 1);
    expect(p2.indexEntries).toBeGreaterThan(p2.kept);

    const sz = compressedSizes(bytes);
    expect(sz.fileBytes).toBe(bytes.length);
    expect(sz.headerBytes + sz.dataBytes).toBe(bytes.length);
    expect(sz.layers.reduce((s, l) => s + l.bytes, 0)).toBe(sz.dataBytes);
    const [l1, l2] = sz.layers;
    expect(l1).toMatchObject({
      layer: 'dense1',
      params: 12_000,
      index: 'bitmask',
      bits: 4,
      indexBytes: 1500,
      valueBytes: Math.ceil(((p1.kind === 'sparse' ? p1.kept : 0) * 4) / 8),
      codebookBytes: 64,
      biasBytes: 240,
    });
    expect(l2).toMatchObject({
      layer: 'dense2',
      params: 18_000,
      kept: 101,
      index: 'relative',
      bits: 32,
      valueBytes: 404,
      codebookBytes: 0,
      biasBytes: 1200,
    });
    expect(l2!.indexBytes).toBe(Math.ceil((p2.indexEntries * p2.indexBits) / 8));
    // deterministic
    expect(Buffer.from(serializeCompressed(formatInput(), { entropyCoding: false })).equals(Buffer.from(bytes))).toBe(true);
  });

  it('the encoder refuses stale sharings, non-zero pruned weights and non-finite values', () => {
    const base = formatInput();
    const stale = formatInput();
    stale.values.get('dense1.weight')![stale.masks!.get('dense1.weight')!.indexOf(1)] += 1e-3;
    expect(() => serializeCompressed(stale)).toThrow(
      /layer 'dense1': weight \d+ is .*, not its codebook value .*the weights changed after shareWeights/,
    );
    const short = formatInput();
    short.sharing!.layers.dense1!.assignments = short.sharing!.layers.dense1!.assignments.slice(1);
    expect(() => serializeCompressed(short)).toThrow(/layer 'dense1' keeps \d+ weights but the sharing has \d+ assignments/);
    const pruned = formatInput();
    pruned.values.get('dense2.weight')![500] = 0.5;
    expect(() => serializeCompressed(pruned)).toThrow(/weight 500 of 'dense2.weight' is pruned \(mask 0\) but holds 0.5/);
    const nan = formatInput();
    nan.values.get('dense2.bias')![3] = NaN;
    expect(() => serializeCompressed(nan)).toThrow(/parameter 'dense2.bias' holds a non-finite value \(NaN\) at 3/);
    const unknown = formatInput();
    unknown.sharing!.layers.conv9 = unknown.sharing!.layers.dense1!;
    expect(() => serializeCompressed(unknown)).toThrow(/the sharing names layer 'conv9'/);
    expect(serializeCompressed(base).length).toBeGreaterThan(0);
  });

  it('refuses hostile and truncated files with clear errors', () => {
    const good = serializeCompressed(formatInput(), { entropyCoding: false, formatVersion: 2 });
    const expectBad = (bytes: Uint8Array, re: RegExp) => {
      let err: unknown;
      try {
        decodeCompressed(bytes);
      } catch (e) {
        err = e;
      }
      expect(err, `expected ${re}`).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toMatch(re);
    };
    // truncated anywhere
    for (const len of [0, 7, 8, 20, 200, Math.floor(good.length / 2), good.length - 1]) expectBad(good.subarray(0, len), /slimgpu\.safetensors/);
    // not ours / wrong version / broken metadata
    expectBad(
      serializeSafetensors({ a: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } }),
      /not a slimgpu compressed model: __metadata__ has no "slimgpu.compressed" key/,
    );
    expectBad(
      rebuild(good, (_, m) => {
        m[COMPRESSED_FORMAT_KEY] = '9';
      }),
      /compressed format version "9" is not supported/,
    );
    expectBad(
      rebuild(good, (_, m) => {
        delete m.params;
      }),
      /__metadata__ lacks the required key "params"/,
    );
    expectBad(
      rebuild(good, (_, m) => {
        m.model = '{"name": ';
      }),
      /__metadata__ "model" is not valid JSON/,
    );
    expectBad(
      rebuild(good, (_, m) => {
        m.model = JSON.stringify({ ...SPEC, layers: [{ kind: 'lstm', units: 3 }] });
      }),
      /"model".layers\[0\] must be an object with a known kind/,
    );
    expectBad(
      rebuild(good, (_, m) => {
        m.model = JSON.stringify({ ...SPEC, layers: [{ kind: 'dense', units: -3 }] });
      }),
      /the model cannot be built: .*units must be a positive integer/,
    );
    expectBad(
      rebuild(good, (_, m) => {
        m.model = JSON.stringify({ ...SPEC, layers: [{ kind: 'dense', units: 61 }, { kind: 'relu' }, { kind: 'dense', units: 300 }] });
      }),
      /shape must be \[200,61\] for this model, got \[200,60\]/,
    );
    expectBad(
      rebuild(good, (_, m) => {
        m.params = '{}';
      }),
      /__metadata__ "params" must be a JSON array/,
    );
    expect(() => decodeCompressed(good, { maxParams: 1000 })).toThrow(/the model has 30360 parameters, more than the limit of 1000/);
    // params entries
    expectBad(
      mutateParams(good, (p) => {
        p.pop();
      }),
      /"params" does not describe parameter 'dense2.bias'/,
    );
    expectBad(
      mutateParams(good, (p) => {
        p.push(p[0]!);
      }),
      /parameter 'dense1.weight' is described twice/,
    );
    expectBad(
      mutateParams(good, (p) => {
        p[0]!.kind = 'f32';
      }),
      /kind must be "sparse" for this parameter, got "f32"/,
    );
    expectBad(
      mutateParams(good, (p) => {
        p[0]!.extra = 1;
      }),
      /has an unknown field "extra"/,
    );
    expectBad(
      mutateParams(good, (p) => {
        p[0]!.kept = 12_001;
      }),
      /kept must be an integer in \[0, 12000\], got 12001/,
    );
    expectBad(
      mutateParams(good, (p) => {
        p[0]!.index = 'full';
      }),
      /index "full" means all 12000 weights are kept/,
    );
    expectBad(
      mutateParams(good, (p) => {
        p[0]!.bits = 9;
        p[0]!.codebook = 600;
      }),
      /codebook must be an integer in \[1, 512\], got 600/,
    );
    expectBad(
      mutateParams(good, (p) => {
        p[2]!.indexEntries = (p[2]!.indexEntries as number) + 5;
      }),
      /tensor "dense2.weight.index" \(the relative index \(\d+-bit packed\) of 'dense2.weight'\) must hold \d+ bytes, it holds \d+/,
    );
    // tensors
    expectBad(
      rebuild(good, (t) => {
        t.extra = { dtype: 'U8', shape: [2], data: new Uint8Array(2) };
      }),
      /tensor "extra" is not part of the model/,
    );
    expectBad(
      rebuild(good, (t) => {
        delete t['dense1.weight.codebook'];
      }),
      /tensor "dense1.weight.codebook" \(the codebook of 'dense1.weight'\) is missing/,
    );
    expectBad(
      rebuild(good, (t) => {
        t['dense1.bias'] = { dtype: 'F32', shape: [60], data: new Float32Array(60) };
      }),
      /tensor "dense1.bias" must have dtype U8, got F32/,
    );
    expectBad(
      rebuild(good, (t) => {
        const d = t['dense2.bias']!.data as Uint8Array;
        t['dense2.bias'] = { dtype: 'U8', shape: [d.length - 4], data: d.slice(4) };
      }),
      /tensor "dense2.bias" \(f32 values of 'dense2.bias'\) must hold 1200 bytes, it holds 1196/,
    );
    // streams
    expectBad(
      rebuild(good, (t) => {
        (t['dense1.weight.index']!.data as Uint8Array)[0]! ^= 0x40;
      }),
      /dense1.weight': bitmask index: the bitmask marks/,
    );
    expectBad(
      rebuild(good, (t) => {
        (t['dense2.weight.index']!.data as Uint8Array).fill(0xff);
      }),
      /dense2.weight': relative index: .*(beyond the 18000 weights|padding bits|decodes to)/,
    );
    expectBad(
      mutateParams(
        good,
        (p) => {
          p[0]!.codebook = 3;
        },
        (t) => {
          t['dense1.weight.codebook'] = { dtype: 'U8', shape: [12], data: new Uint8Array(12) };
        },
      ),
      /dense1.weight': codebook index \d+ is \d+, beyond the 3 codebook entries/,
    );
    expectBad(
      rebuild(good, (t) => {
        new DataView((t['dense1.weight.codebook']!.data as Uint8Array).buffer).setFloat32(8, NaN, true);
      }),
      /dense1.weight': codebook: value 2 is not finite \(NaN\)/,
    );
    expectBad(
      rebuild(good, (t) => {
        new DataView((t['dense2.bias']!.data as Uint8Array).buffer).setFloat32(0, Infinity, true);
      }),
      /parameter 'dense2.bias': value 0 is not finite \(Infinity\)/,
    );
    expect(() =>
      compressedSizes(
        rebuild(good, (_, m) => {
          m[COMPRESSED_FORMAT_KEY] = 'x';
        }),
      ),
    ).toThrow(CompressedModelError);
  });

  it('random corruption of the data or the header never crashes the decoder with anything but a clear error', () => {
    const good = serializeCompressed(formatInput());
    const r = rng(99);
    let refused = 0;
    for (let t = 0; t < 150; t++) {
      const bad = good.slice();
      for (let k = 0; k < 3; k++) bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
      try {
        const d = decodeCompressed(bad);
        expect(d.values.size).toBe(4);
      } catch (e) {
        expect(e, (e as Error).stack).toBeInstanceOf(SafetensorsError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

// ---- on the GPU ---------------------------------------------------------------------------------

const base: TrainOptions = { epochs: 2, batch: 64, lr: 0.05, momentum: 0.9, l2: 1e-4, seed: 1 };

async function prunedNet(spec: ModelSpec, sparsity: number, trainSize = 1024, seed = 2) {
  const gpu = await testGpu();
  const data = await loadData('mnist-10k', { trainSize, testSize: 500 });
  const net = Network.create(gpu, spec, seed);
  await trainNetwork(net, data.train, { ...base, sparsity, pruneEnd: 20 }, { step: 0 });
  return { gpu, data, net };
}

async function checkShared(net: Network, sharing: WeightSharing): Promise<void> {
  const [w, m] = await Promise.all([net.arena.read('weights'), net.arena.read('mask')]);
  for (const s of Object.values(sharing.layers)) {
    const wv = w.get(s.param)!,
      mv = m.get(s.param)!;
    expect(s.codebook.length).toBe(2 ** s.bits);
    let k = 0;
    for (let i = 0; i < wv.length; i++) {
      if (mv[i] === 0) {
        expect(wv[i]).toBe(0);
        continue;
      }
      expect(wv[i]).toBe(s.codebook[s.assignments[k++]!]);
    }
    expect(k).toBe(s.kept);
    expect(s.counts.reduce((a, b) => a + b, 0)).toBe(s.kept);
  }
}

describe('weight sharing and the compressed export on the GPU', () => {
  it('prune → share (5-bit dense) → export → load gives bitwise identical predictions; sizes add up to the file', async () => {
    const spec: ModelSpec = {
      name: 'mlp',
      input: [784],
      loss: 'softmax-ce',
      task: 'classification',
      layers: [{ kind: 'dense', units: 64 }, { kind: 'relu' }, { kind: 'dense', units: 32 }, { kind: 'relu' }, { kind: 'dense', units: 10 }],
    };
    const { gpu, data, net } = await prunedNet(spec, 0.9);
    const before = await evaluate(net, data.test);
    const [w0, m0] = await Promise.all([net.arena.read('weights'), net.arena.read('mask')]);
    const sharing = await shareWeights(net, { iterations: 20 });
    expect(Object.keys(sharing.layers)).toEqual(['dense1', 'dense2', 'dense3']);
    for (const s of Object.values(sharing.layers)) expect(s.bits).toBe(5);
    await checkShared(net, sharing);
    // masks unchanged; the GPU k-means is the CPU reference's from the same (linear) init
    const m1 = await net.arena.read('mask');
    for (const [k, v] of m0) expect(Array.from(m1.get(k)!)).toEqual(Array.from(v));
    const wv = w0.get('dense1.weight')!,
      mv = m0.get('dense1.weight')!;
    const ref = kmeansCpu(
      wv,
      mv,
      initLinear(
        wv.filter((_, i) => mv[i] !== 0),
        32,
      ),
      20,
    );
    const cb = sharing.layers.dense1!.codebook;
    for (let c = 0; c < 32; c++) expect(Math.abs(cb[c]! - ref.centroids[c]!)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(ref.centroids[c]!));
    const shared = await evaluate(net, data.test, { predictions: true });
    expect(shared.accuracy!).toBeGreaterThan(before.accuracy! - 0.05);

    const bytes = await exportCompressed(net, sharing);
    const sz = compressedSizes(bytes);
    expect(sz.headerBytes + sz.layers.reduce((s, l) => s + l.bytes, 0)).toBe(bytes.length);
    expect(sz.layers.map((l) => l.bits)).toEqual([5, 5, 5]);
    expect(sz.layers[0]!.index).toBe('relative'); // 90% sparse
    const net2 = await loadCompressed(gpu, bytes);
    const again = await evaluate(net2, data.test, { predictions: true });
    expect(sameBits(again.predictions!, shared.predictions!)).toBe(true);
    expect(again.accuracy).toBe(shared.accuracy);
    const [w1, w2, m2] = await Promise.all([net.arena.read('weights'), net2.arena.read('weights'), net2.arena.read('mask')]);
    for (const [k, v] of w1) expect(bitsOf(w2.get(k)!), k).toEqual(bitsOf(v));
    for (const [k, v] of m1) if (net.arena.view(k).prunable) expect(Array.from(m2.get(k)!)).toEqual(Array.from(v));

    // the file on disk, written atomically; its size is what compressedSizes counts
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-export-'));
    try {
      const path = join(dir, 'model.slim.safetensors');
      const written = await writeCompressed(path, net, sharing);
      expect(written).toBe(bytes.length);
      expect((await stat(path)).size).toBe(bytes.length);
      expect(Buffer.from(await readFile(path)).equals(Buffer.from(bytes))).toBe(true);
      const net3 = await readCompressed(gpu, path);
      expect(sameBits((await evaluate(net3, data.test, { predictions: true })).predictions!, shared.predictions!)).toBe(true);
      net3.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // without sharing: kept values as f32 (bits 32), also exact
    const plain = await exportCompressed(net);
    expect(compressedSizes(plain).layers.map((l) => l.bits)).toEqual([32, 32, 32]);
    expect(plain.length).toBeGreaterThan(bytes.length);
    const net4 = await loadCompressed(gpu, plain);
    expect(sameBits((await evaluate(net4, data.test, { predictions: true })).predictions!, shared.predictions!)).toBe(true);
    for (const n of [net, net2, net4]) n.dispose();
  });

  it('a conv model: 8-bit conv codebooks by default, density and k-means++ inits, exact round trip', async () => {
    const spec: ModelSpec = {
      name: 'tinyconv',
      input: [1, 28, 28],
      loss: 'softmax-ce',
      task: 'classification',
      layers: [
        { kind: 'conv2d', filters: 4, kernel: 5 },
        { kind: 'relu' },
        { kind: 'maxPool2d', size: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 10 },
      ],
    };
    const { gpu, data, net } = await prunedNet(spec, 0.5, 512);
    for (const init of ['density', 'kmeans++'] as const) {
      const sharing = await shareWeights(net, { init, seed: 3, iterations: 10 });
      expect(sharing.layers.conv2d1!.bits).toBe(8);
      expect(sharing.layers.dense1!.bits).toBe(5);
      await checkShared(net, sharing);
      const p = await evaluate(net, data.test, { predictions: true });
      const bytes = await exportCompressed(net, sharing);
      const sz = compressedSizes(bytes);
      expect(sz.layers.map((l) => [l.layer, l.bits])).toEqual([
        ['conv2d1', 8],
        ['dense1', 5],
      ]);
      expect(sz.layers[1]!.index).toBe('bitmask'); // 50% kept
      const net2 = await loadCompressed(gpu, bytes);
      expect(sameBits((await evaluate(net2, data.test, { predictions: true })).predictions!, p.predictions!)).toBe(true);
      net2.dispose();
    }
    // bits per layer: a record or a function
    const s2 = await shareWeights(net, { bits: { conv2d1: 3 }, iterations: 2 });
    expect([s2.layers.conv2d1!.bits, s2.layers.dense1!.bits]).toEqual([3, 5]);
    const s3 = await shareWeights(net, { bits: (l) => (l.spec.kind === 'dense' ? 2 : 4), iterations: 2, layers: ['dense1'] });
    expect(Object.keys(s3.layers)).toEqual(['dense1']);
    expect(s3.layers.dense1!.codebook.length).toBe(4);
    await checkShared(net, s3);
    await expect(shareWeights(net, { bits: { dense9: 4 } })).rejects.toThrow(
      /bits names layer 'dense9', which has no weights \(layers: conv2d1, dense1\)/,
    );
    await expect(shareWeights(net, { bits: { dense1: 9 } })).rejects.toThrow(/bits for layer 'dense1' must be an integer in \[1, 8\]/);
    await expect(shareWeights(net, { init: 'random' as never })).rejects.toThrow(/init must be one of linear, density, kmeans\+\+/);
    await expect(shareWeights(net, { iterations: -1 })).rejects.toThrow(/iterations must be an integer in \[0, 10000\], got -1/);
    net.dispose();
  });

  it('fineTuneCentroids: SGD on the codebooks (gradient = sum over members) keeps the structure; export needs the new sharing', async () => {
    const spec = specFor('mlp:784-48-10', (await loadData('mnist-10k', { trainSize: 64, testSize: 10 })).train);
    const { gpu, data, net } = await prunedNet(spec, 0.8, 1024, 4);
    const sharing = await shareWeights(net, { bits: { dense1: 3, dense2: 3 }, iterations: 10 });
    const before = await evaluate(net, data.train);
    const biases0 = await net.arena.read('weights');
    const { sharing: tuned, trainLoss, steps } = await fineTuneCentroids(net, sharing, data.train, { steps: 24, lr: 0.002, batch: 64, seed: 1 });
    expect(steps).toBe(24);
    expect(Number.isFinite(trainLoss)).toBe(true);
    await checkShared(net, tuned);
    expect(Array.from(tuned.layers.dense1!.assignments)).toEqual(Array.from(sharing.layers.dense1!.assignments));
    expect(sameBits(tuned.layers.dense1!.codebook, sharing.layers.dense1!.codebook)).toBe(false);
    const w = await net.arena.read('weights');
    for (const b of ['dense1.bias', 'dense2.bias']) expect(bitsOf(w.get(b)!)).toEqual(bitsOf(biases0.get(b)!));
    expect(bitsOf(await net.arena.parts.momentum.read()).every((x) => x === 0)).toBe(true);
    const after = await evaluate(net, data.train);
    expect(after.loss).toBeLessThan(before.loss * 1.05);
    await expect(exportCompressed(net, sharing)).rejects.toThrow(/not its codebook value .*pass the sharing returned by fineTuneCentroids/);
    const bytes = await exportCompressed(net, tuned);
    const p = await evaluate(net, data.test, { predictions: true });
    const net2 = await loadCompressed(gpu, bytes);
    expect(sameBits((await evaluate(net2, data.test, { predictions: true })).predictions!, p.predictions!)).toBe(true);
    await expect(fineTuneCentroids(net, tuned, data.train, { steps: 1, lr: -1 })).rejects.toThrow(/lr must be a finite number ≥ 0, got -1/);
    await expect(fineTuneCentroids(net, tuned, data.train, { steps: 1, lr: 0, denseLr: -1 })).rejects.toThrow(
      /denseLr must be a finite number ≥ 0, got -1/,
    );
    // denseLr: the fp32 parameters (biases) train too, with either optimizer; shared weights stay on their codebooks
    let cur = tuned;
    for (const optimizer of ['sgd', 'adamw'] as const) {
      const w0 = await net.arena.read('weights');
      const r = await fineTuneCentroids(net, cur, data.train, { steps: 12, lr: 0.002, batch: 64, seed: 2, denseLr: 0.01, optimizer });
      await checkShared(net, r.sharing);
      const w1 = await net.arena.read('weights');
      for (const b of ['dense1.bias', 'dense2.bias']) expect(sameBits(w1.get(b)!, w0.get(b)!), `${optimizer} ${b}`).toBe(false);
      expect(bitsOf(await net.arena.parts.momentum.read()).every((x) => x === 0)).toBe(true);
      cur = r.sharing;
    }
    const net3 = await loadCompressed(gpu, await exportCompressed(net, cur));
    expect(
      sameBits(
        (await evaluate(net3, data.test, { predictions: true })).predictions!,
        (await evaluate(net, data.test, { predictions: true })).predictions!,
      ),
    ).toBe(true);
    net3.dispose();
    net2.dispose();
    net.dispose();
  });

  it('LeNet-300-100 at 92% sparsity with 5-bit sharing: compression ratio = fp32 dense bytes / file bytes', async () => {
    const gpu = await testGpu();
    const data = await loadData('mnist-10k', { trainSize: 2048, testSize: 500 });
    const net = Network.create(gpu, specFor('lenet-300-100', data.train), 1);
    await trainNetwork(net, data.train, { ...base, epochs: 2, sparsity: 0.92, pruneEnd: 40 }, { step: 0 });
    const sharing = await shareWeights(net);
    const bytes = await exportCompressed(net, sharing);
    const dense = net.paramCount * 4;
    const ratio = dense / bytes.length;
    const sz = compressedSizes(bytes);
    console.log(
      `LeNet-300-100, 92% sparse, 5-bit: ${dense} B dense fp32 → ${bytes.length} B file (header ${sz.headerBytes} B): ${ratio.toFixed(1)}×; ` +
        sz.layers.map((l) => `${l.layer} ${l.index}${l.indexBits ? `(r=${l.indexBits})` : ''} ${l.bytes} B`).join(', '),
    );
    expect(ratio).toBeGreaterThan(30);
    net.dispose();
  });
});
