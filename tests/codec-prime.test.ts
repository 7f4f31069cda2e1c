// Priming (a model's built-in dictionary, src/codec/v5/prime.ts): the CM state copy (cloneCm), the
// primed model file (src/codec/pretrained/primed.ts), and primed coding through the v5/v6 codec —
// round trips, the state shared by the files of a process never leaking from one file into the
// next, and bad primed files refused by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BitEncoder, CmModel, encodeByte } from '../src/codec/cm/index.js';
import { cloneCm } from '../src/codec/cm/clone.js';
import { CpuBytePredictor, CpuBytePrime } from '../src/codec/pretrained/cpu.js';
import { GpuBytePredictor } from '../src/codec/pretrained/gpu.js';
import { decodeByteMlp, encodeByteMlp } from '../src/codec/pretrained/file.js';
import { predictorOfFile } from '../src/codec/pretrained/index.js';
import { isPrimedFile, primeText, readPrimedFile, writePrimedFile } from '../src/codec/pretrained/primed.js';
import { compressBytes, decompressBytes } from '../src/codec/v5/index.js';
import { randomByteMlp } from '../src/reference/bytemlp.js';
import { testGpu } from './helpers.js';

const DIR = join(import.meta.dirname, 'fixtures/slimz');
const input = new Uint8Array(readFileSync(join(DIR, 'input.txt')));
const prime = new Uint8Array(readFileSync(join(DIR, 'double-train.txt'))).subarray(0, 6000);
const model = decodeByteMlp(new Uint8Array(readFileSync('models/bytemlp-2.slim.safetensors')));
const ID = 'ab'.repeat(16);
const primed = new CpuBytePredictor(ID, 'primed test model', model, new CpuBytePrime(prime, 2000, 16, model));
const plain = new CpuBytePredictor('cd'.repeat(16), 'plain test model', model);

function code(cm: CmModel, text: Uint8Array): Uint8Array {
  const enc = new BitEncoder();
  for (const b of text) encodeByte(cm, enc, 0, b, null);
  return enc.finish();
}

describe('priming', () => {
  it('cloneCm: a copy codes like the original, and coding with it leaves the original as it was', () => {
    const a = new CmModel(2, { memoryLog2: 16, refine: 6 });
    code(a, prime.subarray(0, 3000));
    const b = cloneCm(a);
    const viaCopy = code(b, input);
    const again = code(cloneCm(a), input);
    const viaOriginal = code(a, input);
    expect(Buffer.from(viaCopy).equals(Buffer.from(viaOriginal))).toBe(true);
    expect(Buffer.from(again).equals(Buffer.from(viaOriginal))).toBe(true);
    expect(() => cloneCm({} as CmModel)).toThrow(/not a CmModel/);
  });

  it('a primed model codes smaller, round-trips in codec 6 and 5, and every file starts from the same primed state', async () => {
    const p6 = await compressBytes(input, primed);
    const plain6 = await compressBytes(input, plain);
    expect(p6.bytes.length).toBeLessThan(0.95 * plain6.bytes.length); // the prime is the same licence text (measured 629 vs 693 B)
    const other = await compressBytes(prime.subarray(3000, 4000), primed); // another file in between
    expect((await decompressBytes(other.bytes, async () => primed)).text).toEqual(prime.subarray(3000, 4000));
    const again = await compressBytes(input, primed);
    expect(Buffer.from(again.bytes).equals(Buffer.from(p6.bytes))).toBe(true);
    expect((await decompressBytes(p6.bytes, async () => primed)).text).toEqual(input);
    const p5 = await compressBytes(input, primed, { version: 5, recordBytes: 1000, streams: 2 });
    expect((await decompressBytes(p5.bytes, async () => primed)).text).toEqual(input);
    // the header names the model as for any predictor (20 bytes for a 2,400-byte single record)
    expect(p6.header).toMatchObject({ kind: 'predictor', modelId: ID.slice(0, 16) });
  }, 30_000);

  it('a primed file coded on the GPU path (lavapipe) decodes on the CPU path, and the other way: priming runs on the CPU either way', async () => {
    const gpu = await testGpu();
    const small = randomByteMlp(7, 16, 16, 32, { emb: 6, l1: 8, l2: 9, l3: 10 });
    const prime7 = new CpuBytePrime(prime.subarray(0, 3000), 1000, 16, small);
    const cpu = new CpuBytePredictor(ID, 'cpu', small, prime7);
    const gp = GpuBytePredictor.create(gpu, ID, 'gpu', small, prime7);
    const text = input.subarray(0, 600);
    const viaGpu = await compressBytes(text, gp);
    const viaCpu = await compressBytes(text, cpu);
    expect(Buffer.from(viaGpu.bytes).equals(Buffer.from(viaCpu.bytes))).toBe(true);
    expect((await decompressBytes(viaGpu.bytes, async () => cpu)).text).toEqual(text);
    expect((await decompressBytes(viaCpu.bytes, async () => gp)).text).toEqual(text);
    gp.weights.dispose();
  }, 60_000);

  it('a primed model file: written, recognised, read back, loaded with its prime; damaged ones refused by name', async () => {
    const small = encodeByteMlp(randomByteMlp(3, 16, 16, 32));
    const gzip = new Uint8Array(gzipSync(prime));
    const info = { bytes: prime.length, cmOnly: 100, memoryLog2: 16, gzipBytes: gzip.length, sources: ['test'] };
    const file = writePrimedFile({ model: small, gzip, info });
    expect(isPrimedFile(file)).toBe(true);
    expect(isPrimedFile(small)).toBe(false);
    const parts = readPrimedFile(file, 'f');
    expect(Buffer.from(parts.model).equals(Buffer.from(small))).toBe(true);
    expect(await primeText(parts, 'f')).toEqual(prime);
    expect(decodeByteMlp(file).hidden).toBe(32);
    const p = await predictorOfFile(file, 'f');
    expect(p.prime).toMatchObject({ cmOnly: 100, memoryLog2: 16 });
    expect(p.prime!.text).toEqual(prime);
    const z = await compressBytes(input, p);
    expect((await decompressBytes(z.bytes, async () => p)).text).toEqual(input);
    // a prime whose gzip is damaged, whose length disagrees, or whose description is out of range
    const bad = gzip.slice();
    bad[bad.length - 5]! ^= 0xff;
    await expect(primeText({ ...parts, gzip: bad }, 'f')).rejects.toThrow(/f: the prime text does not decompress/);
    await expect(primeText({ ...parts, info: { ...info, bytes: 5 } }, 'f')).rejects.toThrow(/6000 bytes, its description says 5/);
    expect(() => readPrimedFile(writePrimedFile({ model: small, gzip, info: { ...info, memoryLog2: 40 } }), 'f')).toThrow(/out of range/);
    expect(() => readPrimedFile(small, 'f')).toThrow(/not a primed model file/);
  }, 30_000);
});
