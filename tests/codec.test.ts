// The codec without a GPU: frequency tables, the range coder, the .slimz container and the coding
// loop (driven by a CPU test double; tests/codec-gpt.test.ts drives the GPT preset).
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  FREQ_TOTAL,
  RangeDecoder,
  RangeEncoder,
  SlimzReader,
  codeBits,
  compressText,
  crc32,
  decompressText,
  encodeSlimz,
  frequencies,
  type CompressOptions,
  type SlimzHeader,
} from '../src/codec/index.js';
import { CountModel } from './codec-double.js';
import { NoModel } from '../src/codec/model.js';
import { randn, rng } from './helpers.js';

const cumOf = (logits: ArrayLike<number>) => frequencies(logits, 0, new Uint32Array(257));
const freqsOf = (cum: Uint32Array) => Array.from({ length: 256 }, (_, s) => cum[s + 1]! - cum[s]!);

describe('frequencies (logits → integer table)', () => {
  it('gives every byte a frequency ≥ 1, totals 2^16, and follows the softmax', () => {
    for (const seed of [1, 2, 3]) {
      const x = randn(256, seed, 3);
      const f = freqsOf(cumOf(x));
      expect(Math.min(...f)).toBeGreaterThanOrEqual(1);
      expect(f.reduce((a, b) => a + b)).toBe(FREQ_TOTAL);
      // KL(softmax ‖ table) is small: the quantisation costs little
      const m = Math.max(...x),
        z = x.reduce((a, v) => a + Math.exp(v - m), 0);
      let kl = 0;
      for (let s = 0; s < 256; s++) {
        const p = Math.exp(x[s]! - m) / z;
        kl += p * Math.log2(p / (f[s]! / FREQ_TOTAL));
      }
      expect(kl).toBeLessThan(0.01);
    }
  });

  it('handles extreme rows: one-hot, equal, NaN, ±Inf, all −Inf, huge magnitudes', () => {
    const row = (fill: number, at?: [number, number][]) => {
      const r = new Float32Array(256).fill(fill);
      for (const [i, v] of at ?? []) r[i] = v;
      return r;
    };
    const cases = [
      row(0),
      row(-1e30, [[7, 1e30]]),
      row(NaN),
      row(-Infinity),
      row(0, [
        [3, Infinity],
        [9, Infinity],
      ]),
      row(NaN, [[200, 5]]),
      row(3.4e38),
      row(-3.4e38, [[0, 3.4e38]]),
    ];
    for (const r of cases) {
      const f = freqsOf(cumOf(r));
      expect(Math.min(...f)).toBeGreaterThanOrEqual(1);
      expect(f.reduce((a, b) => a + b)).toBe(FREQ_TOTAL);
    }
    expect(freqsOf(cumOf(row(0)))).toEqual(Array(256).fill(256)); // uniform
    expect(freqsOf(cumOf(row(-1e30, [[7, 1e30]])))[7]).toBe(FREQ_TOTAL - 255); // one-hot: all but the floor
    const inf = freqsOf(
      cumOf(
        row(0, [
          [3, Infinity],
          [9, Infinity],
        ]),
      ),
    );
    expect(inf[3]! + inf[9]!).toBe(FREQ_TOTAL - 254);
    expect(freqsOf(cumOf(row(NaN, [[200, 5]])))[200]).toBe(FREQ_TOTAL - 255);
  });

  it('is a pure function of the logits (same input, same table, any offset)', () => {
    const x = randn(3 * 256, 9, 5);
    const a = frequencies(x, 256, new Uint32Array(257));
    const b = frequencies(Float32Array.from(x), 256, new Uint32Array(257));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(frequencies(x, 0, new Uint32Array(257))));
  });
});

/** Codes `syms` under per-symbol tables, decodes them back, and returns the code with Σ ideal bits. */
function roundTrip(tables: Uint32Array[], syms: number[]): { code: Uint8Array; bits: number } {
  const enc = new RangeEncoder();
  let bits = 0;
  syms.forEach((s, i) => {
    enc.encode(tables[i % tables.length]!, s);
    bits += codeBits(tables[i % tables.length]!, s);
  });
  const code = enc.finish();
  const dec = new RangeDecoder(code);
  const back = syms.map((_, i) => dec.decode(tables[i % tables.length]!));
  dec.end();
  expect(back).toEqual(syms);
  return { code, bits };
}

describe('range coder', () => {
  it('round-trips random distributions within 0.1% + 5 bytes of Σ −log2 p', () => {
    const r = rng(5);
    const tables = Array.from({ length: 64 }, (_, i) => cumOf(randn(256, 100 + i, 1 + (i % 6))));
    const syms: number[] = [];
    for (let i = 0; i < 40000; i++) {
      // sample from the table, so the code length is near the entropy
      const cum = tables[i % tables.length]!,
        v = Math.floor(r() * FREQ_TOTAL);
      let s = 0;
      while (cum[s + 1]! <= v) s++;
      syms.push(s);
    }
    const { code, bits } = roundTrip(tables, syms);
    expect(code.length * 8).toBeGreaterThanOrEqual(bits - 8);
    expect(code.length * 8).toBeLessThanOrEqual(bits * 1.001 + 40);
  });

  it('codes the least likely byte (frequency 1, 16 bits each) and the most likely one (≈ 0.006 bits each)', () => {
    const onehot = new Float32Array(256).fill(-100);
    onehot[65] = 100;
    const cum = cumOf(onehot);
    const rare = roundTrip([cum], Array(3000).fill(0));
    expect(rare.bits).toBeCloseTo(3000 * 16, 6);
    expect(Math.abs(rare.code.length * 8 - rare.bits)).toBeLessThanOrEqual(40);
    const common = roundTrip([cum], Array(100000).fill(65));
    expect(common.code.length).toBeLessThanOrEqual(Math.ceil(common.bits / 8) + 5);
    // alternating extremes exercise the carry (low crosses 2^32)
    roundTrip(
      [cum],
      Array.from({ length: 20000 }, (_, i) => (i % 7 === 0 ? 255 : 65)),
    );
    roundTrip(
      [cum],
      Array.from({ length: 5000 }, (_, i) => (i % 2 ? 0 : 255)),
    );
  });

  it('empty and one-symbol inputs', () => {
    const cum = cumOf(new Float32Array(256));
    expect(roundTrip([cum], []).code.length).toBe(4);
    for (const s of [0, 1, 128, 255]) expect(roundTrip([cum], [s]).code.length).toBeLessThanOrEqual(5);
  });

  it('a truncated or extended code stream is an error, not a wrong answer', () => {
    const cum = cumOf(randn(256, 3, 2));
    const { code } = roundTrip(
      [cum],
      Array.from({ length: 500 }, (_, i) => (i * 31) % 256),
    );
    const readAll = (c: Uint8Array) => {
      const d = new RangeDecoder(c, 'test stream');
      for (let i = 0; i < 500; i++) d.decode(cum);
      d.end();
    };
    expect(() => readAll(code.subarray(0, code.length - 2))).toThrow(/test stream is damaged or truncated/);
    expect(() => readAll(Uint8Array.from([...code, 0, 0]))).toThrow(/left over/);
  });
});

// ---------------------------------------------------------------------------------------------
const WRITER = {
  library: 'slimgpu test',
  adapter: { backend: 'cpu', vendor: 'test', architecture: 'double', device: 'count-model', description: 'CPU test double' },
};

function options(over: Partial<CompressOptions> = {}): CompressOptions {
  return {
    mode: 'prequential',
    chunkBytes: 48,
    recordBytes: 1,
    stepsPerChunk: 1,
    model: { kind: 'count-model', windows: 3, context: 16 },
    writer: WRITER,
    ...over,
  };
}
const build = (skew?: 'forward' | 'train') => async (h: SlimzHeader) => new CountModel(h.model.windows as number, h.model.context as number, skew);

async function compress(text: Uint8Array, over: Partial<CompressOptions> = {}) {
  const o = options(over);
  return compressText(text, new CountModel(o.model.windows as number, o.model.context as number), o);
}

const english = new TextEncoder().encode(
  'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. '.repeat(12) +
    'However little known the feelings or views of such a man may be on his first entering a neighbourhood, this truth is so well fixed.',
);

describe('.slimz files (prequential loop, container)', () => {
  it('round-trips exactly: empty, 1 byte, binary, non-UTF-8, lengths that are not chunk multiples', async () => {
    const r = rng(11);
    const inputs = [
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(255),
      Uint8Array.of(0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe),
      Uint8Array.from({ length: 1000 }, () => Math.floor(r() * 256)),
      english.subarray(0, 433),
      english,
    ];
    for (const text of inputs) {
      const c = await compress(text);
      const { text: back, header } = await decompressText(c.bytes, build());
      expect(back).toEqual(text);
      expect(header.length).toBe(text.length);
      expect(header.crc32).toBe(crc32(text));
    }
  });

  it('learns as it codes, and the file is the code plus a fixed overhead', async () => {
    const fixed = await compress(english, { stepsPerChunk: 0 });
    const learning = await compress(english);
    expect(learning.bytes.length).toBeLessThan(0.75 * fixed.bytes.length);
    for (const c of [fixed, learning]) {
      const code = c.records.reduce((a, ch) => a + ch.code.length, 0);
      // each chunk's code is its ideal length rounded up plus at most 5 bytes of flush
      expect(code).toBeGreaterThanOrEqual(c.bits / 8 - c.records.length);
      expect(code).toBeLessThanOrEqual(c.bits / 8 + 5 * c.records.length + 1);
      const header = new TextEncoder().encode(JSON.stringify(c.header)).length;
      // codec 5: one check byte per chunk
      expect(c.bytes.length).toBe(16 + header + 4 + 24 * c.records.length + c.header.coding.chunks + code + 12);
    }
    // the model is told to train once per chunk boundary, never after the last
    const m = new CountModel(3, 16);
    const o = options();
    const c = await compressText(english, m, o);
    expect(m.calls.train).toBe(c.header.coding.chunks - 1);
    expect(c.header.coding.records).toBe(c.header.coding.chunks); // recordBytes 1: a record per chunk
    const S = Math.ceil(english.length / 3);
    expect(m.calls.prefill).toBe(Math.ceil(S / 8)); // one prefill per block of T/2
    expect(m.calls.step).toBe(S); // one step (all streams) per stream position
  });

  it('stops at the first chunk whose model differs (a different adapter) and names it', async () => {
    const c = await compress(english);
    await expect(decompressText(c.bytes, build('forward'))).rejects.toThrow(
      /record 0 of \d+: the model's predictions differ from the encoder's .*CPU test double/,
    );
    // training arithmetic that differs shows up at chunk 1, before any byte of it is decoded
    await expect(decompressText(c.bytes, build('train'))).rejects.toThrow(/record 1 of \d+: the model's predictions differ/);
  });

  it('names the chunk of a truncated or damaged file, and refuses other versions and non-slimz files', async () => {
    const c = await compress(english);
    const n = c.header.coding.records;
    const reader = new SlimzReader(c.bytes);
    const offsets: number[] = [];
    let pos = c.bytes.length - 12 - c.records.reduce((a, ch) => a + 24 + ch.checks!.length + ch.code.length, 0);
    for (const ch of c.records) {
      offsets.push(pos);
      pos += 24 + ch.checks!.length + ch.code.length;
    }
    expect(reader.chunkCount).toBe(n);
    // truncated inside chunk 2's code, and inside chunk 3's record header
    await expect(decompressText(c.bytes.subarray(0, offsets[2]! + 30), build())).rejects.toThrow(new RegExp(`record 2 of ${n} is truncated`));
    await expect(decompressText(c.bytes.subarray(0, offsets[3]! + 5), build())).rejects.toThrow(new RegExp(`record 3 of ${n} is truncated`));
    await expect(decompressText(c.bytes.subarray(0, c.bytes.length - 3), build())).rejects.toThrow(/truncated after record/);
    // one flipped bit in chunk 1's code
    const bad = c.bytes.slice();
    bad[offsets[1]! + 26]! ^= 0x10;
    await expect(decompressText(bad, build())).rejects.toThrow(new RegExp(`record 1 of ${n} is damaged`));
    // a header bit
    const badHead = c.bytes.slice();
    badHead[20]! ^= 1;
    await expect(decompressText(badHead, build())).rejects.toThrow(/header is damaged/);
    // bytes appended
    await expect(decompressText(Uint8Array.from([...c.bytes, 0]), build())).rejects.toThrow(/unexpected byte/);
    // other versions, other files
    const v6 = c.bytes.slice();
    v6[8] = 6;
    await expect(decompressText(v6, build())).rejects.toThrow(
      /written by codec version 6; this slimgpu reads codec versions 4 and 5 \(it was written by a newer slimgpu\)/,
    );
    for (const old of [2, 3]) {
      const v = c.bytes.slice();
      v[8] = old;
      await expect(decompressText(v, build())).rejects.toThrow(
        new RegExp(`written by codec version ${old}; .*older layout or CM; decompress it with the slimgpu that wrote it`),
      );
    }
    const v1 = c.bytes.slice();
    v1[8] = 1;
    await expect(decompressText(v1, build())).rejects.toThrow(/written by codec version 1; .*decompress it with the slimgpu that wrote it/);
    await expect(decompressText(english, build())).rejects.toThrow(/not a \.slimz file/);
    await expect(decompressText(new Uint8Array(0), build())).rejects.toThrow(CodecError);
  });

  it("mixer cm (the CM codes each byte with the model's table as an input) and CM alone round-trip exactly", async () => {
    const r = rng(12);
    const inputs = [
      new Uint8Array(0),
      Uint8Array.of(7),
      Uint8Array.of(0xc3, 0x28, 0xff, 0xfe),
      Uint8Array.from({ length: 301 }, () => Math.floor(r() * 256)),
      english,
    ];
    for (const text of inputs) {
      const c = await compress(text, { mixer: 'cm', cmMemoryLog2: 16 });
      expect(c.header.coding.mixer).toBe('cm');
      expect((await decompressText(c.bytes, build())).text).toEqual(text);
      const alone = await compressText(text, new NoModel(2), {
        ...options(),
        model: { kind: 'none' },
        mixer: 'cm',
        cmMemoryLog2: 16,
        stepsPerChunk: 0,
        chunkBytes: 100,
      });
      expect((await decompressText(alone.bytes, async (h) => new NoModel(h.coding.streams))).text).toEqual(text);
    }
    // on this repetitive text the mixed code beats the model's tables alone, and both are counted
    const c = await compress(english, { mixer: 'cm', cmMemoryLog2: 16 });
    expect(c.bits).toBeLessThan(c.modelBits);
    // a different model is still refused at its first chunk, before a byte is decoded
    await expect(decompressText(c.bytes, build('forward'))).rejects.toThrow(/record 0 of \d+: the model's predictions differ/);
    // a damaged CM chunk fails its checks, naming it
    const bad = encodeSlimz(
      c.header,
      c.records.map((ch, i) => (i === 1 ? { ...ch, code: ch.code.map((x, k) => (k === 0 ? x ^ 0x80 : x)) } : ch)),
    );
    await expect(decompressText(bad, build())).rejects.toThrow(/record 1 of \d+/);
    await expect(compressText(english, new NoModel(2), { ...options(), mixer: 'none' })).rejects.toThrow(/needs mixer 'cm'/);
  });

  it('groups chunks into records (one code, CRC-32 and fingerprint each) and round-trips with both coders', async () => {
    for (const mixer of ['none', 'cm'] as const) {
      const per = await compress(english, { mixer, cmMemoryLog2: 16 });
      // 3 streams × 48 bytes per chunk: recordBytes 300 puts ⌈300 / 144⌉ = 3 chunks in a record
      const m = new CountModel(3, 16);
      const c = await compressText(english, m, options({ mixer, cmMemoryLog2: 16, recordBytes: 300 }));
      const cs = c.header.coding;
      expect(cs.chunksPerRecord).toBe(3);
      expect(cs.records).toBe(Math.ceil(cs.chunks / 3));
      expect(c.records.length).toBe(cs.records);
      expect(m.calls.train).toBe(cs.chunks - 1); // training still follows every chunk
      expect(c.records.reduce((a, r) => a + r.rawLength, 0)).toBe(english.length);
      expect(c.bits).toBeCloseTo(per.bits, 6); // the same predictions, fewer records
      expect(c.bytes.length).toBeLessThan(per.bytes.length - 20 * (per.records.length - c.records.length));
      expect((await decompressText(c.bytes, build())).text).toEqual(english);
      // training arithmetic that differs (another adapter) stops at chunk 1, the first after a
      // training round, before a byte of it is decoded: codec 5's per-chunk check byte
      await expect(decompressText(c.bytes, build('train'))).rejects.toThrow(
        /record 0 of \d+, chunk 1: the model's predictions differ from the encoder's \(check byte/,
      );
      // a record whose CRC-32 was forged consistently fails after its last chunk
      const forged = encodeSlimz(
        c.header,
        c.records.map((r, i) => (i === 1 ? { ...r, rawCrc: (r.rawCrc ^ 1) >>> 0 } : r)),
      );
      await expect(decompressText(forged, build())).rejects.toThrow(/record 1 of \d+: the decoded bytes fail their CRC-32/);
    }
    // a header whose record count disagrees with chunks / chunksPerRecord
    const c = await compress(english, { recordBytes: 300 });
    const bad = encodeSlimz({ ...c.header, coding: { ...c.header.coding, chunksPerRecord: 2 } }, c.records);
    await expect(decompressText(bad, build())).rejects.toThrow(/coding\.records must be ⌈chunks \/ chunksPerRecord⌉/);
  });

  it('a record that lies about its contents (consistent CRC, wrong bytes) fails the chunk CRC', async () => {
    const c = await compress(english);
    const chunks = c.records.map((ch, i) => (i === 2 ? { ...ch, rawCrc: (ch.rawCrc ^ 1) >>> 0 } : ch));
    const forged = encodeSlimz(c.header, chunks);
    await expect(decompressText(forged, build())).rejects.toThrow(/record 2 of \d+: the decoded bytes fail their CRC-32/);
    // a header whose length does not match its chunks
    const lying = encodeSlimz({ ...c.header, length: c.header.length + 1000 }, c.records);
    await expect(decompressText(lying, build())).rejects.toThrow(/header's \d+ chunks in \d+ records do not match its length/);
  });
});
