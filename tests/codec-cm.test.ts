// The context-mixing (CM) companion model: exact round trips with and without an external model's
// table, named errors on truncated chunks and bad arguments, determinism, integer tables, and that
// mixing in a good external model makes the code smaller than CM alone.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CodecError, frequencies } from '../src/codec/index.js';
import { BitDecoder, BitEncoder, CmModel, decodeByte, encodeByte } from '../src/codec/cm/index.js';
import { SQUASH, STATES, STRETCH, squash } from '../src/codec/cm/tables.js';
import { rng } from './helpers.js';

/** Real English text that does not change with the docs: the GNU GPL v3 the text page ships (35 KB). */
const TEXT = new Uint8Array(readFileSync(new URL('../demo/samples/gpl-3.txt', import.meta.url))).subarray(0, 20000);
const MEM = 18; // small tables: fast tests

type CumFn = (stream: number, pos: number) => Uint32Array | null;

/** Codes `data` as `streams` contiguous streams, round robin; returns the code and Σ ideal bits. */
function encodeAll(data: Uint8Array, streams: number, cum: CumFn, mem = MEM): { code: Uint8Array; bits: number } {
  const m = new CmModel(streams, { memoryLog2: mem });
  const enc = new BitEncoder();
  let bits = 0;
  for (const [s, i] of order(data.length, streams)) bits += encodeByte(m, enc, s, data[i]!, cum(s, i));
  return { code: enc.finish(), bits };
}

function decodeAll(code: Uint8Array, n: number, streams: number, cum: CumFn, mem = MEM): Uint8Array {
  const m = new CmModel(streams, { memoryLog2: mem });
  const dec = new BitDecoder(code);
  const out = new Uint8Array(n);
  for (const [s, i] of order(n, streams)) out[i] = decodeByte(m, dec, s, cum(s, i));
  dec.end();
  return out;
}

function order(n: number, streams: number): [number, number][] {
  const per = Math.ceil(n / streams),
    o: [number, number][] = [];
  for (let j = 0; j < per; j++) for (let s = 0; s < streams; s++) if (s * per + j < n) o.push([s, s * per + j]);
  return o;
}

function roundTrip(data: Uint8Array, streams: number, cum: CumFn): Uint8Array {
  const { code } = encodeAll(data, streams, cum);
  expect(decodeAll(code, data.length, streams, cum)).toEqual(data);
  return code;
}

const none: CumFn = () => null;

/** Computes each position's table once (the encoder and decoder ask for the same ones). */
function memo(f: CumFn): CumFn {
  const seen = new Map<number, Uint32Array | null>();
  return (s, i) => {
    let v = seen.get(i);
    if (v === undefined) seen.set(i, (v = f(s, i)));
    return v;
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** A table from random logits (same for encoder and decoder: a function of the position). */
const randomCum: CumFn = memo((_s, i) => {
  const r = rng(1 + i);
  return frequencies(
    Array.from({ length: 256 }, () => r() * 6),
    0,
    new Uint32Array(257),
  );
});

/** All mass on one byte that is never the right one (ith byte's complement). */
function wrongCum(data: Uint8Array): CumFn {
  return memo((_s, i) => {
    const logits = new Float32Array(256).fill(-30);
    logits[(data[i]! ^ 0x55) & 255] = 30;
    return frequencies(logits, 0, new Uint32Array(257));
  });
}

/** An order-2 count model built offline over `data` itself: a good (cheating) external model. */
function order2Cum(data: Uint8Array, streams: number): CumFn {
  const counts = new Float64Array(65536 * 256);
  for (let i = 2; i < data.length; i++) counts[(((data[i - 2]! << 8) | data[i - 1]!) << 8) | data[i]!]!++;
  const per = Math.ceil(data.length / streams);
  return memo((s, i) => {
    const a = i - s * per >= 2 ? data[i - 2]! : 0,
      b = i - s * per >= 1 ? data[i - 1]! : 0;
    const base = ((a << 8) | b) << 8;
    return frequencies(
      Array.from({ length: 256 }, (_, c) => Math.log(counts[base + c]! + 0.02)),
      0,
      new Uint32Array(257),
    );
  });
}

describe('CM tables (integer-built)', () => {
  it('squash follows the logistic curve, stretch inverts it', () => {
    for (let d = -2047; d <= 2047; d += 7) {
      expect(Math.abs(squash(d) - 4096 / (1 + Math.exp(-d / 256)))).toBeLessThan(5); // linear interpolation between knots 1/4 nat apart
    }
    for (let p = 1; p < 4095; p++) {
      expect(SQUASH[STRETCH[p]! + 2048]!).toBeGreaterThanOrEqual(p);
      if (STRETCH[p]! > -2047) expect(SQUASH[STRETCH[p]! - 1 + 2048]!).toBeLessThan(p);
    }
  });

  it('bit-history states fit a byte and every transition counts the bit', () => {
    expect(STATES.count).toBeLessThanOrEqual(256);
    for (let s = 0; s < STATES.count; s++) {
      for (const y of [0, 1]) {
        const t = STATES.next[2 * s + y]!;
        expect(t).toBeLessThan(STATES.count);
        const grew = y ? STATES.n1 : STATES.n0;
        expect(grew[t]! >= grew[s]! || grew[t] === 40).toBe(true);
      }
    }
  });
});

describe('CM round trips', () => {
  it('is exact on empty, 1 byte, random, binary and non-UTF-8 data, CM alone', () => {
    const cases = [
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(255),
      randomBytes(256, 7),
      new Uint8Array(2000), // all zeros: long runs, probabilities pinned near the clamp
      Uint8Array.from({ length: 2048 }, (_, i) => (i * 37 + (i >> 8)) & 255),
      Uint8Array.of(0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc, 0xff, 0xfe, 0xfd),
    ];
    for (const data of cases) for (const streams of [1, 3]) roundTrip(data, streams, none);
    expect(encodeAll(new Uint8Array(0), 1, none).code.length).toBe(0);
  });

  it('is exact on text in several interleaved streams, with no table, a real table, and a wrong peaky one', () => {
    const data = TEXT.subarray(0, 4000);
    const wrongTable = wrongCum(data);
    for (const streams of [1, 5]) {
      const plain = roundTrip(data, streams, none).length;
      roundTrip(data, streams, randomCum);
      const wrong = roundTrip(data, streams, wrongTable).length;
      // a model that is always confidently wrong costs a bounded amount: the mixer learns to ignore it
      expect(wrong).toBeLessThan(plain * 1.15 + 64);
    }
  });

  it('round-trips random bytes under random tables and the code stays near 8 bits per byte', () => {
    const data = randomBytes(3000, 3);
    const code = roundTrip(data, 2, randomCum);
    expect(code.length).toBeLessThan(3000 * 1.05);
  });
});

describe('CM determinism and usefulness', () => {
  it('two independent models give identical bytes', () => {
    const a = encodeAll(TEXT.subarray(0, 5000), 3, randomCum).code;
    const b = encodeAll(TEXT.subarray(0, 5000), 3, randomCum).code;
    expect(b).toEqual(a);
  });

  it('compresses text well alone, and a good external model makes the code smaller', () => {
    const streams = 2;
    const alone = encodeAll(TEXT, streams, none);
    expect(alone.code.length).toBeLessThan(gzipSync(TEXT, { level: 9 }).length * 0.95);
    // the ideal code length is the arithmetic coder's size within a few bytes
    expect(Math.abs(alone.bits / 8 - alone.code.length)).toBeLessThan(8);
    const good = order2Cum(TEXT, streams);
    const mixed = encodeAll(TEXT, streams, good);
    expect(mixed.code.length).toBeLessThan(alone.code.length * 0.9);
    expect(decodeAll(mixed.code, TEXT.length, streams, good)).toEqual(TEXT);
  });

  it('a weak, overconfident, nonstationary external model (like the prequential GPT) costs next to nothing', () => {
    // an order-1 count model that is only updated every 64 positions (it "trains after each chunk"),
    // and whose logits are sharpened 4× (wildly overconfident while its counts are few)
    const streams = 8,
      data = TEXT,
      per = Math.ceil(data.length / streams);
    const counts = new Float64Array(65536);
    let trained = 0;
    const weak: CumFn = memo((s, i) => {
      const j = i - s * per;
      for (; trained < Math.floor(j / 64) * 64; trained++) {
        for (let t = 0; t < streams; t++)
          if (t * per + trained >= 1 && trained < per) counts[(data[t * per + trained - 1]! << 8) | data[t * per + trained]!]!++;
      }
      const prev = j >= 1 ? data[i - 1]! : 10;
      return frequencies(
        Array.from({ length: 256 }, (_, c) => 4 * Math.log(counts[(prev << 8) | c]! + 0.1)),
        0,
        new Uint32Array(257),
      );
    });
    const alone = encodeAll(data, streams, none).code.length;
    const mixed = encodeAll(data, streams, weak);
    expect(mixed.code.length).toBeLessThan(alone * 1.01 + 16);
    expect(decodeAll(mixed.code, data.length, streams, weak)).toEqual(data);
  });

  it('the default memory size works (memoryLog2 = 22)', () => {
    const data = TEXT.subarray(0, 2000);
    const { code } = encodeAll(data, 1, none, 22);
    expect(decodeAll(code, data.length, 1, none, 22)).toEqual(data);
  });
});

describe('CM errors', () => {
  it('a truncated chunk fails with a named CodecError, garbage never hangs or reads out of bounds', () => {
    const data = TEXT.subarray(0, 3000);
    const { code } = encodeAll(data, 1, none);
    expect(() => decodeAll(code.subarray(0, code.length >> 1), data.length, 1, none)).toThrow(CodecError);
    expect(() => decodeAll(code.subarray(0, code.length >> 1), data.length, 1, none)).toThrow(
      /CM chunk is truncated or damaged: the decoder needs bytes past the end/,
    );
    expect(() => decodeAll(Uint8Array.from([...code, 1, 2]), data.length, 1, none)).toThrow(/2 of its \d+ bytes are left over/);
    // garbage: either some bytes come out (the codec's CRC then rejects them) or a CodecError
    for (const seed of [1, 2, 3]) {
      const junk = randomBytes(500, seed);
      try {
        const out = decodeAll(junk, data.length, 1, none);
        expect(out).not.toEqual(data);
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
      }
    }
  });

  it('bad arguments are named', () => {
    expect(() => new CmModel(0)).toThrow(/streams must be an integer in \[1, 65536\], got 0/);
    expect(() => new CmModel(1, { memoryLog2: 40 })).toThrow(/memoryLog2 must be an integer in \[16, 28\], got 40/);
    const m = new CmModel(2, { memoryLog2: 16 });
    const enc = new BitEncoder();
    expect(() => encodeByte(m, enc, 2, 65, null)).toThrow(/stream must be an integer in \[0, 2\), got 2/);
    expect(() => encodeByte(m, enc, 0, 256, null)).toThrow(/byte must be an integer in \[0, 255\], got 256/);
    expect(() => encodeByte(m, enc, 0, 65, new Uint32Array(10))).toThrow(/cum must be a Uint32Array\(257\)/);
    expect(() => new BitDecoder([1, 2] as unknown as Uint8Array)).toThrow(/bytes must be a Uint8Array/);
    enc.finish();
    expect(() => enc.finish()).toThrow(/finish called twice/);
  });
});
