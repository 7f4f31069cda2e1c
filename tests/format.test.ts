// The compressed format's third stage (huffman-coded sections, format version 2) on the CPU: the
// coder on awkward alphabets, a hostile-input decoder, version-1 files still loading, and a fuzz
// of the entropy-coded sections that only ever gets the named error.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  chooseIndex,
  chooseValues,
  COMPRESSED_FORMAT_KEY,
  CompressedModelError,
  compressedSizes,
  decodeCompressed,
  HUFFMAN_MAX_LENGTH,
  huffmanDecode,
  huffmanEncode,
  huffmanLengths,
  huffmanSectionBytes,
  histogram,
  relativeSymbols,
  serializeCompressed,
  type CompressInput,
} from '../src/io/export.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import type { ModelSpec } from '../src/nn/model.js';
import { randn, rng } from './helpers.js';

function entropyBits(counts: ArrayLike<number>): number {
  let n = 0,
    h = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) h -= counts[i]! * Math.log2(counts[i]! / n);
  return h;
}

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

describe('canonical huffman sections', () => {
  it('round trip over awkward alphabets and counts; size within 1 bit/symbol of the entropy and equal to huffmanSectionBytes', () => {
    const r = rng(3);
    for (const A of [1, 2, 3, 5, 17, 32, 256, 4096]) {
      for (const N of [1, 2, 7, 1000]) {
        // a skewed distribution: symbol s with weight ~ 1/(s+1)^1.5
        const cum: number[] = [];
        let t = 0;
        for (let s = 0; s < A; s++) {
          t += 1 / (s + 1) ** 1.5;
          cum.push(t);
        }
        const sym = Uint32Array.from({ length: N }, () => {
          const u = r() * t;
          let s = 0;
          while (cum[s]! < u) s++;
          return s;
        });
        const bytes = huffmanEncode(sym, A);
        const counts = histogram(sym, A);
        expect(bytes.length).toBe(huffmanSectionBytes(counts, huffmanLengths(counts)));
        expect(Array.from(huffmanDecode(bytes, A, N, 'sec'))).toEqual(Array.from(sym));
        const streamBits = (bytes.length - Math.ceil(A / 2)) * 8;
        expect(streamBits).toBeLessThan(entropyBits(counts) + N + 8);
      }
    }
    expect(huffmanEncode([], 8).length).toBe(0);
    expect(huffmanDecode(new Uint8Array(0), 8, 0, 'sec').length).toBe(0);
  });

  it('one used symbol gets a 1-bit code; a Fibonacci histogram is limited to 15-bit codes', () => {
    const one = huffmanEncode([2, 2, 2], 4);
    expect(Array.from(one)).toEqual([0x00, 0x01, 0x00]); // lengths [0,0,1,0], three 0 bits
    expect(Array.from(huffmanDecode(one, 4, 3, 'sec'))).toEqual([2, 2, 2]);
    const fib = [1, 1];
    while (fib.length < 30) fib.push(fib[fib.length - 1]! + fib[fib.length - 2]!);
    const lengths = huffmanLengths(fib);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(HUFFMAN_MAX_LENGTH); // unlimited, the rarest would take 29 bits
    expect(lengths.reduce((s, l) => s + 2 ** -l, 0)).toBe(1);
    const sym: number[] = [];
    fib.forEach((c, s) => {
      for (let i = 0; i < Math.min(c, 50); i++) sym.push(s);
    });
    expect(Array.from(huffmanDecode(huffmanEncode(sym, 30), 30, sym.length, 'sec'))).toEqual(sym);
  });

  it('refuses bad code lengths, truncation, trailing bytes, bad padding and wrong counts with a named error', () => {
    const sym = [0, 1, 2, 3, 0, 0, 1, 0];
    const good = huffmanEncode(sym, 4);
    expectNamed(
      () => huffmanDecode(good.subarray(0, 1), 4, 8, 'dense1.weight: values'),
      /dense1.weight: values: .*fewer than its 2-byte code-length table/,
    );
    expectNamed(() => huffmanDecode(Uint8Array.of(0x11, 0x11, 0), 4, 1, 'sec'), /over-subscribed/);
    expectNamed(() => huffmanDecode(Uint8Array.of(0x22, 0x02, 0), 4, 1, 'sec'), /incomplete/);
    expectNamed(() => huffmanDecode(Uint8Array.of(0x00, 0x00, 0), 4, 1, 'sec'), /gives no symbol a code/);
    expectNamed(() => huffmanDecode(Uint8Array.of(0x02, 0x00, 0), 4, 1, 'sec'), /single symbol must give it length 1/);
    expectNamed(() => huffmanDecode(Uint8Array.of(0x01, 0x00, 0x01), 4, 1, 'sec'), /symbol 0 of the huffman stream is not a valid code/);
    expectNamed(() => huffmanDecode(Uint8Array.of(0x11, 0x10, 0x00), 3, 1, 'sec'), /padding bits of the huffman code-length table/);
    expectNamed(() => huffmanDecode(good.subarray(0, good.length - 1), 4, 8, 'sec'), /(ends after \d+ of 8 symbols|cannot fit)/);
    expectNamed(() => huffmanDecode(good, 4, 20, 'sec'), /(ends after \d+ of 20|cannot fit)/);
    expectNamed(() => huffmanDecode(Uint8Array.of(...good, 0), 4, 8, 'sec'), /1 bytes follow the last of the 8/);
    expectNamed(() => huffmanDecode(good, 4, 2, 'sec'), /bytes follow the last of the 2|padding bits after the last huffman code/);
    const padded = good.slice();
    padded[padded.length - 1]! |= 0x80;
    expectNamed(() => huffmanDecode(padded, 4, 8, 'sec'), /padding bits after the last huffman code are not 0/);
    expectNamed(() => huffmanDecode(new Uint8Array(3), 4, 0, 'sec'), /a huffman section of 0 symbols must be empty/);
    // count far beyond the stream: refused before any allocation-heavy work
    expectNamed(() => huffmanDecode(good, 4, 1e9, 'sec'), /cannot fit/);
  });

  it('chooses huffman only when smaller; deflate (zlib, raw, level 9) of the same symbols is measured alongside', () => {
    const r = rng(5);
    const n = 235_200;
    const pos: number[] = [];
    for (let i = 0; i < n; i++) if (r() < 0.05) pos.push(i);
    const positions = Uint32Array.from(pos);
    const packed = chooseIndex(positions, n);
    const coded = chooseIndex(positions, n, { huffman: true });
    expect(coded.coding).toBe('huffman');
    expect(coded.bytes.length).toBeLessThan(packed.bytes.length);
    // the coded relative index is within 2% of the bitmask's entropy n·H(p)
    const p = pos.length / n;
    const bound = (n * -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p))) / 8;
    expect(coded.bytes.length).toBeLessThan(bound * 1.02);
    const syms = relativeSymbols(positions, coded.bits);
    const deflated = deflateRawSync(Uint8Array.from(syms), { level: 9 }).length;
    expect(coded.bytes.length).toBeLessThan(deflated);
    // uniform 4-bit values: packed wins (huffman cannot beat 4 bits), so packed is kept
    const uni = Uint32Array.from({ length: 1000 }, (_, i) => i % 16);
    expect(chooseValues(uni, 1000, 4, 16, { huffman: true }).coding).toBe('packed');
  });
});

// ---- whole files -------------------------------------------------------------------------------

const SPEC: ModelSpec = {
  name: 'fmt2',
  input: [300],
  loss: 'softmax-ce',
  task: 'classification',
  layers: [{ kind: 'dense', units: 40 }, { kind: 'relu' }, { kind: 'dense', units: 10 }],
};

/** dense1: 6% kept, 5-bit shared with a skewed histogram (huffman index and values); dense2: 30% kept, f32. */
function input(): CompressInput {
  const r = rng(11);
  const K = 32;
  const codebook = Float32Array.from(randn(K, 4, 0.1)).sort();
  const w1 = new Float32Array(300 * 40),
    m1 = new Float32Array(300 * 40);
  const assignments: number[] = [];
  for (let i = 0; i < w1.length; i++) {
    if (r() < 0.06) {
      const a = Math.min(K - 1, Math.floor(-Math.log(1 - r()) * 4));
      m1[i] = 1;
      w1[i] = codebook[a]!;
      assignments.push(a);
    }
  }
  const w2 = new Float32Array(400),
    m2 = new Float32Array(400);
  for (let i = 0; i < 400; i++)
    if (r() < 0.3) {
      m2[i] = 1;
      w2[i] = r() - 0.5 || 0.25;
    }
  return {
    spec: SPEC,
    sharing: {
      init: 'linear',
      iterations: 0,
      layers: {
        dense1: {
          layer: 'dense1',
          param: 'dense1.weight',
          shape: [300, 40],
          bits: 5,
          codebook,
          assignments: Uint8Array.from(assignments),
          kept: assignments.length,
          params: w1.length,
          counts: new Uint32Array(K),
        },
      },
    },
    values: new Map([
      ['dense1.weight', w1],
      ['dense1.bias', randn(40, 12)],
      ['dense2.weight', w2],
      ['dense2.bias', randn(10, 13)],
    ]),
    masks: new Map([
      ['dense1.weight', m1],
      ['dense2.weight', m2],
    ]),
  };
}

const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('format version 2 files', () => {
  it('huffman-coded index and values round trip bit-exactly, are smaller than packed, and sizes add up to the file', () => {
    const inp = input();
    const bytes = serializeCompressed(inp, { formatVersion: 2 });
    const packed = serializeCompressed(inp, { entropyCoding: false, formatVersion: 2 });
    expect(bytes.length).toBeLessThan(packed.length);
    const d = decodeCompressed(bytes);
    expect(d.version).toBe('2');
    for (const [k, v] of inp.values) expect(sameBits(d.values.get(k)!, v), k).toBe(true);
    for (const [k, m] of inp.masks!) expect(Array.from(d.masks.get(k)!)).toEqual(Array.from(m));
    const p1 = d.params.find((p) => p.name === 'dense1.weight')!;
    expect(p1).toMatchObject({ index: 'relative', indexCoding: 'huffman', valueCoding: 'huffman', bits: 5 });
    const sz = compressedSizes(bytes);
    expect(sz.headerBytes + sz.layers.reduce((s, l) => s + l.bytes, 0)).toBe(bytes.length);
    expect(sz.layers[0]).toMatchObject({ indexCoding: 'huffman', valueCoding: 'huffman' });
    const t = parseSafetensors(bytes).tensors;
    expect(sz.layers[0]!.indexBytes).toBe(t['dense1.weight.index']!.data.byteLength);
    expect(sz.layers[0]!.valueBytes).toBe(t['dense1.weight.values']!.data.byteLength);
    // unused codebook entries are dropped: K ≤ 32 and equal to the distinct assignments
    expect(sz.layers[0]!.codebook).toBe(new Set(inp.sharing!.layers.dense1!.assignments).size);
  });

  it('version-1 files (no coding fields, packed streams) still load; coding fields are refused in version 1 and required in version 2', () => {
    const v2 = serializeCompressed(input(), { entropyCoding: false, formatVersion: 2 });
    const { tensors, metadata } = parseSafetensors(v2);
    const params = JSON.parse(metadata.params!) as Record<string, unknown>[];
    const v1params = params.map((p) => {
      const q = { ...p };
      delete q.indexCoding;
      delete q.valueCoding;
      return q;
    });
    const v1 = serializeSafetensors(tensors, { ...metadata, [COMPRESSED_FORMAT_KEY]: '1', params: JSON.stringify(v1params) });
    const d = decodeCompressed(v1);
    expect(d.version).toBe('1');
    for (const [k, v] of input().values) expect(sameBits(d.values.get(k)!, v), k).toBe(true);
    expect(compressedSizes(v1).version).toBe('1');
    expectNamed(
      () => decodeCompressed(serializeSafetensors(tensors, { ...metadata, [COMPRESSED_FORMAT_KEY]: '1' })),
      /unknown field "indexCoding" \(format version 1\)/,
    );
    expectNamed(
      () => decodeCompressed(serializeSafetensors(tensors, { ...metadata, params: JSON.stringify(v1params) })),
      /lacks the field "indexCoding"/,
    );
    const bad = params.map((p) => ({ ...p, valueCoding: p.kind === 'sparse' ? 'rans' : undefined }));
    expectNamed(
      () => decodeCompressed(serializeSafetensors(tensors, { ...metadata, params: JSON.stringify(bad) })),
      /valueCoding must be "packed" or "huffman", got "rans"/,
    );
    const f32huff = params.map((p) => (p.name === 'dense2.weight' ? { ...p, valueCoding: 'huffman' } : p));
    expectNamed(
      () => decodeCompressed(serializeSafetensors(tensors, { ...metadata, params: JSON.stringify(f32huff) })),
      /'dense2.weight'\): valueCoding "huffman" needs a codebook/,
    );
  });

  it('fuzz: corrupting, truncating or extending only the huffman sections gets a named CompressedModelError or a valid decode, never anything else', () => {
    const good = serializeCompressed(input(), { formatVersion: 2 });
    const { tensors, metadata } = parseSafetensors(good);
    const sections = ['dense1.weight.index', 'dense1.weight.values'];
    const r = rng(21);
    let refused = 0,
      decoded = 0;
    for (let t = 0; t < 300; t++) {
      const name = sections[t % 2]!;
      let data = (tensors[name]!.data as Uint8Array).slice();
      const mode = t % 5;
      if (mode === 0) data = data.subarray(0, Math.floor(r() * data.length));
      else if (mode === 1) data = Uint8Array.of(...data, Math.floor(r() * 256));
      else for (let k = 0; k < 1 + (t % 3); k++) data[Math.floor(r() * data.length)] ^= 1 << Math.floor(r() * 8);
      const bytes = serializeSafetensors({ ...tensors, [name]: { dtype: 'U8', shape: [data.length], data } }, metadata);
      try {
        const d = decodeCompressed(bytes);
        expect(d.values.get('dense1.weight')!.length).toBe(12_000);
        decoded++;
      } catch (e) {
        expect(e, (e as Error).stack).toBeInstanceOf(CompressedModelError);
        expect((e as Error).message).toMatch(/dense1\.weight/);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(150);
    expect(refused + decoded).toBe(300);
  });
});
