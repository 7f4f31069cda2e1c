// The codec with its real model, the GPT preset, on tiny shapes: exact round trips (empty, 1 byte,
// binary, non-UTF-8, lengths that are not chunk multiples), determinism, two-part files, and the
// CLI (atomic output, errors naming the chunk).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkSettings,
  compressWithGpt,
  decompressText,
  decompressWithGpt,
  GptCodecModel,
  type GptCodecOptions,
  type SlimzHeader,
} from '../src/codec/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cli, rng, testGpu } from './helpers.js';

const BIN = join(import.meta.dirname, '../bin/slimgpu.js'),
  NO_WEBGPU = join(import.meta.dirname, 'fixtures/no-webgpu.mjs');
async function execNode(args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(process.execPath, args, { timeout: 120_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const TINY: GptCodecOptions = { model: 'gpt:1-16-2-16', streams: 3, chunkBytes: 16, recordBytes: 1, stepsPerChunk: 2, lr: 1e-2, seed: 7 };
const english = new TextEncoder().encode('The quick brown fox jumps over the lazy dog. A stitch in time saves nine. '.repeat(8));

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('GPT codec', () => {
  it('round-trips exactly (empty, 1 byte, binary, non-UTF-8, not a chunk multiple) and deterministically', async () => {
    const gpu = await testGpu();
    const r = rng(4);
    const inputs = [
      new Uint8Array(0),
      Uint8Array.of(42),
      Uint8Array.from({ length: 157 }, () => Math.floor(r() * 256)),
      Uint8Array.of(0xff, 0xfe, 0xc0, 0x80, 0, 0x0a),
      english,
    ];
    for (const text of inputs) {
      const c = await compressWithGpt(gpu, text, TINY);
      const back = await decompressWithGpt(gpu, c.bytes);
      expect(back.text).toEqual(text);
    }
    // the range coder under the GPT alone (mixer none), and the CM alone (model none)
    const plain = await compressWithGpt(gpu, english, { ...TINY, mixer: 'none' });
    expect(plain.header.coding.mixer).toBeUndefined();
    expect((await decompressWithGpt(gpu, plain.bytes)).text).toEqual(english);
    const cmOnly = await compressWithGpt(gpu, english, { model: 'none' });
    expect(cmOnly.header.model).toEqual({ kind: 'none' });
    expect((await decompressWithGpt(gpu, cmOnly.bytes)).text).toEqual(english);
    // the same input and settings give the same bytes; training changes what the model predicts
    const a = await compressWithGpt(gpu, english, TINY),
      b = await compressWithGpt(gpu, english, TINY);
    expect(a.bytes).toEqual(b.bytes);
    const still = await compressWithGpt(gpu, english, { ...TINY, stepsPerChunk: 0 });
    expect(still.records.map((c) => c.fingerprint).slice(1)).not.toEqual(a.records.map((c) => c.fingerprint).slice(1));
    expect(a.bits).toBeLessThan(still.bits);
  });

  it('fail-fast: a GPT whose training arithmetic differs (another adapter) stops at chunk 1, not at the end of the record', async () => {
    const gpu = await testGpu();
    // every chunk in one record: codec 4 checked the model only at the record's start (its untrained first chunk)
    const c = await compressWithGpt(gpu, english, { ...TINY, recordBytes: 1 << 16 });
    expect(c.header.coding.records).toBe(1);
    expect(c.header.coding.chunks).toBeGreaterThan(3);
    expect(c.header.coding.chunkChecks).toBe(true);
    // the decoder's model trains with a learning rate 1% off: the same first chunk, different weights after it
    const perturbed = (h: SlimzHeader) =>
      GptCodecModel.create(gpu, { ...checkSettings(h.model, 'test'), lr: (h.model.lr as number) * 1.01 }, h.coding.streams, h.length);
    let steps = 0;
    await expect(
      decompressText(c.bytes, perturbed, {
        onProgress: (p) => {
          steps = p.chunk;
        },
      }),
    ).rejects.toThrow(/record 0 of 1, chunk 1: the model's predictions differ from the encoder's \(check byte/);
    expect(steps).toBe(1); // stopped within one chunk
  });

  it('two-part: the stored model (pruned, shared) decodes the text exactly', async () => {
    const gpu = await testGpu();
    const c = await compressWithGpt(gpu, english, { ...TINY, optimizer: 'adamw', lr: 1e-2, twoPart: { trainSteps: 16, sparsity: 0.5, bits: 4 } });
    expect(c.header.mode).toBe('two-part');
    expect(c.modelBytes).toBeGreaterThan(0);
    expect(c.twoPart!.modelBytes).toBeLessThan(c.twoPart!.denseModelBytes);
    const back = await decompressWithGpt(gpu, c.bytes);
    expect(back.text).toEqual(english);
  });
});

describe('slimgpu compress / decompress', () => {
  it('round-trips a file, never leaves a partial output, and names the chunk of a damaged file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimgpu-codec-'));
    const src = join(dir, 'in.txt'),
      z = join(dir, 'in.txt.slimz'),
      out = join(dir, 'out.txt');
    await writeFile(src, english.subarray(0, 333));
    const flags = ['--model', 'gpt:1-16-2-16', '--streams', '2', '--chunk', '16', '--steps-per-chunk', '1', '--lr', '0.01', '--no-progress'];
    const c = await cli(['compress', src, '-o', z, ...flags, '--json']);
    expect(c.stderr).not.toMatch(/error/i);
    expect(c.code).toBe(0);
    const summary = JSON.parse(c.stdout);
    expect(summary.bytes).toBe(333);
    const zbytes = await readFile(z);
    expect(summary.compressedBytes).toBe(zbytes.length);
    const d = await cli(['decompress', z, '-o', out]);
    expect(d.code).toBe(0);
    expect(new Uint8Array(await readFile(out))).toEqual(english.subarray(0, 333));
    // a damaged chunk: error names it, and no output file appears
    const bad = new Uint8Array(zbytes);
    bad[bad.length - 20]! ^= 0x40;
    await writeFile(join(dir, 'bad.slimz'), bad);
    const e = await cli(['decompress', join(dir, 'bad.slimz'), '-o', join(dir, 'bad.txt')]);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/record \d+ of \d+ is (damaged|truncated)/); // the flipped byte may hit a record header
    expect(existsSync(join(dir, 'bad.txt'))).toBe(false);
    // a truncated file
    await writeFile(join(dir, 'cut.slimz'), zbytes.subarray(0, zbytes.length - 40));
    const t = await cli(['decompress', join(dir, 'cut.slimz'), '-o', join(dir, 'cut.txt')]);
    expect(t.stderr).toMatch(/record \d+ of \d+ is truncated|truncated/);
    expect(existsSync(join(dir, 'cut.txt'))).toBe(false);
  });

  it('--model none (the CM alone) compresses and decompresses without loading a GPU at all', async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'slimgpu-codec-'));
    const src = join(dir, 'cm.txt'),
      z = join(dir, 'cm.txt.slimz'),
      out = join(dir, 'cm.out');
    await writeFile(src, english);
    // with the webgpu package made unloadable, anything that opens a device fails
    const noGpu = (args: string[]) => execNode(['--import', NO_WEBGPU, BIN, ...args]);
    const c = await noGpu(['compress', src, '-o', z, '--model', 'none', '--json']);
    expect(c.stderr).not.toMatch(/error|webgpu/i);
    const summary = JSON.parse(c.stdout);
    expect(summary.coding.streams).toBe(1);
    expect(summary.coding.records).toBe(1);
    const d = await noGpu(['decompress', z, '-o', out]);
    expect(d.stderr).not.toMatch(/error|webgpu/i);
    expect(new Uint8Array(await readFile(out))).toEqual(english);
    // the fixture really blocks the GPU: a GPT file needs one
    const g = await noGpu(['compress', src, '-o', join(dir, 'g.slimz'), '--model', 'gpt:1-16-2-16', '--no-progress']);
    expect(g.stderr).toMatch(/cannot load the 'webgpu' package/);
  });

  it('bad input: not a .slimz file, a missing file, a bad preset', async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'slimgpu-codec-'));
    const txt = join(dir, 'plain.txt');
    await writeFile(txt, 'hello');
    const a = await cli(['decompress', txt, '-o', join(dir, 'x')]);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/not a \.slimz file/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    const b = await cli(['compress', join(dir, 'nope.txt')]);
    expect(b.stderr).toMatch(/cannot read input '.*nope\.txt': no such file/);
    const c = await cli(['compress', txt, '--model', 'gpt:1-16-3-16']);
    expect(c.stderr).toMatch(/heads H must divide the width/);
    const d = await cli(['compress', txt, '--steps-per-chunk', '-1']);
    expect(d.stderr).toMatch(/--steps-per-chunk must be an integer/);
  });
});
