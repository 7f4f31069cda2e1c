// .slimz v5 (src/codec/v5): the binary header, single and records framing, the CM alone and with a
// fixed predictor (a deterministic double, bench/predictor-double.ts), streaming in odd pieces, and
// every bad input named.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../src/codec/errors.js';
import { compressBytes, decompressBytes, decodeStream, encodeStream, defaultStreams, type PredictorResolver } from '../src/codec/v5/index.js';
import { shippedResolver } from '../src/codec/v5/shipped.js';
import { CountPredictor } from '../bench/predictor-double.js';
import { rng } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const gpl = new Uint8Array(readFileSync(join(ROOT, 'demo/samples/gpl-3.txt')));
const double = new CountPredictor(gpl.subarray(0, 20000));
const resolve: PredictorResolver = async (id) => {
  if (!double.id.startsWith(id)) throw new CodecError(`no model ${id}`);
  return double;
};
const text = gpl.subarray(20000, 26000);

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: number[] = [];
  for await (const p of it) parts.push(...p);
  return Uint8Array.from(parts);
}

function pieces(b: Uint8Array, r: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length;) {
    const n = 1 + Math.floor(r() * 700);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe('.slimz v5: round trips', () => {
  it('is exact for the CM alone and with a predictor: empty, 1 byte, random, non-UTF-8, text', async () => {
    const r = rng(5);
    const inputs = [
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(0xc3, 0x28, 0xff, 0xfe),
      Uint8Array.from({ length: 777 }, () => Math.floor(r() * 256)),
      text,
    ];
    for (const p of [null, double]) {
      for (const t of inputs) {
        const c = await compressBytes(t, p);
        const back = await decompressBytes(c.bytes, resolve);
        expect(back.text).toEqual(t);
        expect(back.header.kind).toBe(p ? 'predictor' : 'none');
      }
    }
  });

  it('costs 11-12 bytes of header with the CM alone and 19-20 with a predictor (up to 16 KB; +1 byte above), and the predictor helps', async () => {
    for (const [n, extra] of [
      [0, 0],
      [100, 0],
      [16383, 0],
      [16384, 1],
    ] as const) {
      const t = gpl.subarray(0, n);
      const none = await compressBytes(t, null),
        pred = await compressBytes(t, double);
      // the code is its ideal length rounded up, plus at most 1 byte of flush
      for (const [c, head] of [
        [none, 11 + extra],
        [pred, 19 + extra],
      ] as const) {
        expect(c.bytes.length - Math.ceil(c.bits / 8)).toBeGreaterThanOrEqual(head);
        expect(c.bytes.length - Math.ceil(c.bits / 8)).toBeLessThanOrEqual(head + 1);
      }
    }
    const none = await compressBytes(text, null),
      pred = await compressBytes(text, double);
    expect(pred.bytes.length).toBeLessThan(none.bytes.length);
    expect(pred.modelBits).toBeGreaterThan(pred.bits); // the CM improves on the fixed tables alone
  });

  it('records framing: several records and streams, streamed in odd pieces both ways, one predictor call per position', async () => {
    const r = rng(9);
    for (const [streams, p] of [
      [1, null],
      [4, double],
    ] as const) {
      {
        const o = { recordBytes: 1000, streams };
        const whole = await compressBytes(text, p, o);
        expect(whole.header.records).toBe(true);
        const streamed = await collect(encodeStream(pieces(text, r), p, o));
        expect(streamed).toEqual(whole.bytes);
        expect(await collect(decodeStream(pieces(whole.bytes, r), resolve))).toEqual(text);
        expect((await decompressBytes(whole.bytes, resolve)).text).toEqual(text);
      }
    }
    const calls = double.stats.calls;
    await compressBytes(text, double, { streams: 4 });
    expect(double.stats.calls - calls).toBe(Math.ceil(text.length / 4));
    // an input of exactly one record is single; one byte more is two records
    expect((await compressBytes(text.subarray(0, 1000), null, { recordBytes: 1000 })).header.records).toBe(false);
    const two = await compressBytes(text.subarray(0, 1001), null, { recordBytes: 1000 });
    expect(two.header.records).toBe(true);
    expect((await decompressBytes(two.bytes, null)).text).toEqual(text.subarray(0, 1001));
  });

  it('default streams: 1 for the CM alone, a CPU predictor and small inputs, up to 16 for long ones with a batched (GPU) predictor', async () => {
    const big = new Uint8Array(131072);
    const header = async (batched: boolean) => {
      const stats = { inBytes: 0, bits: 0, modelBits: 0, outBytes: 0 };
      const p = Object.assign(new CountPredictor(big.subarray(0, 100)), { batched });
      await encodeStream([big], p, {}, stats).next(); // the header is out before any coding
      return stats.header!;
    };
    expect((await header(false)).streams).toBe(1);
    expect((await header(true)).streams).toBe(2);
    expect(defaultStreams(10 << 20, false)).toBe(1);
    expect(defaultStreams(131071, true)).toBe(1);
    expect(defaultStreams(131072, true)).toBe(2);
    expect(defaultStreams(1 << 20, true)).toBe(16);
    expect(defaultStreams(undefined, true)).toBe(16);
  });
});

describe('.slimz v5: bad input', () => {
  it('mutated files (truncated, bit flips, inserted bytes): a value or a CodecError, never another error, a hang or a huge allocation', async () => {
    const r = rng(21);
    const seeds = [
      (await compressBytes(text.subarray(0, 600), null)).bytes,
      (await compressBytes(text.subarray(0, 600), double)).bytes,
      (await compressBytes(text.subarray(0, 900), null, { recordBytes: 300 })).bytes,
    ];
    let named = 0;
    for (let i = 0; i < 60; i++) {
      const s = seeds[i % 3]!;
      let b = s.slice();
      const kind = i % 3;
      if (kind === 0) b = b.subarray(0, Math.floor(r() * b.length));
      else if (kind === 1) for (let k = 0; k < 1 + Math.floor(r() * 3); k++) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
      else {
        const at = Math.floor(r() * b.length);
        b = Uint8Array.from([
          ...b.subarray(0, at),
          ...Array.from({ length: 1 + Math.floor(r() * 4) }, () => Math.floor(r() * 256)),
          ...b.subarray(at),
        ]);
      }
      const t0 = Date.now();
      try {
        const out = await decompressBytes(b, resolve, { maxBytes: 1 << 20 });
        expect(out.text.length).toBeLessThanOrEqual(1 << 20);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(CodecError);
        named++;
      }
      expect(Date.now() - t0).toBeLessThan(5000);
    }
    expect(named).toBeGreaterThan(50);
    // a 20-byte file claiming 500 MB in one code: refused before any allocation of that size
    const lie = await compressBytes(new Uint8Array(0), null);
    const { crc32 } = await import('../src/codec/crc32.js');
    const lying = (len: number[]) => {
      const h = Uint8Array.from([...lie.bytes.subarray(0, 5), ...len, 0, 0, 0, 0]);
      return Uint8Array.from([...h, crc32(h) & 255, 1, 2, 3]);
    };
    await expect(decompressBytes(lying([0x80, 0x80, 0x80, 0xee, 0x01]), null)).rejects.toThrow(
      /single-record text of 499122176 bytes; a single record holds at most/,
    );
    await expect(decompressBytes(lying([0x80, 0xad, 0xe2, 0x04]), null)).rejects.toThrow(
      /declares 10000000 bytes, more than a code of 3 bytes can hold/,
    );
  });

  it('names the model a file needs when the decoder does not have it, and a model that differs', async () => {
    const c = await compressBytes(text, double);
    const prefix = double.id.slice(0, 16);
    await expect(decompressBytes(c.bytes, shippedResolver({}, []))).rejects.toThrow(
      new RegExp(`coded with pretrained model ${prefix}…, which this build of slimgpu does not have \\(it has no pretrained model\\)`),
    );
    await expect(decompressBytes(c.bytes, null)).rejects.toThrow(/coded with pretrained model .*no model resolver/);
    await expect(decompressBytes(c.bytes, async () => new CountPredictor(gpl.subarray(0, 5000)))).rejects.toThrow(/the resolver returned model 00d0/);
    // the same id, other tables (a model file that was changed): the CRC-32 catches it, nothing is returned
    const other = new CountPredictor(gpl.subarray(0, 20000), 'perturbed', true);
    await expect(decompressBytes(c.bytes, async () => other)).rejects.toThrow(/fails the CRC-32 of the original|is damaged/);
    const multi = await compressBytes(text, double, { recordBytes: 2000 });
    await expect(decompressBytes(multi.bytes, async () => other)).rejects.toThrow(
      /record 0: the decoded bytes fail their CRC-32|record 0.* is damaged/,
    );
  });

  it('a damaged or truncated header, a truncated or damaged code, appended bytes, other versions: each a named CodecError', async () => {
    const c = await compressBytes(text, double);
    for (let n = 0; n < 20; n++)
      await expect(decompressBytes(c.bytes.subarray(0, n), resolve)).rejects.toThrow(
        n < 3 && n > 0 ? /not a \.slimz file/ : n === 0 ? /not a \.slimz file/ : /truncated inside its header/,
      );
    for (const at of [5, 12, 13, 17, 18]) {
      const bad = c.bytes.slice();
      bad[at]! ^= 0x04;
      await expect(decompressBytes(bad, resolve)).rejects.toThrow(/header is damaged|does not have|resolver returned/);
    }
    const v7 = c.bytes.slice();
    v7[3] = 7;
    await expect(decompressBytes(v7, resolve)).rejects.toThrow(/written by codec version 7; .*newer slimgpu/);
    await expect(decompressBytes(c.bytes.subarray(0, c.bytes.length - 5), resolve)).rejects.toThrow(CodecError);
    await expect(decompressBytes(Uint8Array.from([...c.bytes, 0, 0, 0, 0, 0]), resolve)).rejects.toThrow(/left over|fails the CRC-32/);
    const flip = c.bytes.slice();
    flip[100]! ^= 0x10;
    await expect(decompressBytes(flip, resolve)).rejects.toThrow(/CRC-32|damaged/);
    // records framing: truncated anywhere, a damaged record, the end mark
    const m = await compressBytes(text, null, { recordBytes: 1500 });
    for (const cut of [20, 400, m.bytes.length - 7, m.bytes.length - 1])
      await expect(decompressBytes(m.bytes.subarray(0, cut), null)).rejects.toThrow(/truncated|damaged|left over/);
    const d = m.bytes.slice();
    d[300]! ^= 0x20;
    await expect(decompressBytes(d, null)).rejects.toThrow(/record \d|damaged/);
    await expect(decompressBytes(Uint8Array.from([...m.bytes, 1]), null)).rejects.toThrow(/unexpected bytes after the end/);
  });
});
