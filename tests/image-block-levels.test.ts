// The block codec's finer ladder (img:dct-g2, the grayscale default): model files with 1..15
// qualities, mirrored edge padding (encoder only), .slimg v3 qualities 9..15, the named errors where
// a model has fewer qualities, and the shipped dct-g2 against its committed golden file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blockModelFromBytes, serializeBlockModel } from '../src/image/block-model.js';
import { padEdge, padMirror } from '../src/image/block-pad.js';
import { blockAnalysisFast, ZIGZAG } from '../src/image/block-transform.js';
import { ImageCodec } from '../src/image/codec.js';
import { decodeImage } from '../src/image/files.js';
import { modelForQuality, parseImageModel, presetDefaultQuality, type ImageModel } from '../src/image/model.js';
import { loadImageModel } from '../src/image/node.js';
import { ImageError } from '../src/image/raw.js';
import { readSlimg, writeSlimg } from '../src/image/slimg.js';
import { testGpu, uniform } from './helpers.js';
import { flatBlockModel, flatBlockModelBytes, randomImage } from './image-fixtures.js';

const FIX = 'tests/fixtures/slimg/';

describe('mirrored padding', () => {
  it('mirrors inside, clamps when the padding outgrows the image; a half-padded block has no odd horizontal frequencies', () => {
    expect([28, 29, 31].map((i) => padMirror(i, 28))).toEqual([27, 26, 24]);
    expect([0, 27].map((i) => padMirror(i, 28))).toEqual([0, 27]);
    expect([1, 2, 7].map((i) => padMirror(i, 1))).toEqual([0, 0, 0]);
    expect(padEdge(31, 28)).toBe(27);
    // one 8×8 block: 4 real columns + 4 padded ones
    const real = uniform(8 * 4, 5, 0, 1);
    for (const [pad, zero] of [
      [padMirror, true],
      [padEdge, false],
    ] as const) {
      const x = Float32Array.from({ length: 64 }, (_, i) => real[Math.floor(i / 8) * 4 + pad(i % 8, 4)]!);
      const y = blockAnalysisFast(x, [1], 1, 8, 8);
      const odd = Array.from(y).filter((_, k) => (ZIGZAG[k]! % 8) % 2 === 1);
      expect(
        odd.every((v) => Math.abs(v) < 1e-5),
        pad.name,
      ).toBe(zero);
    }
  });
});

describe('block models with 15 qualities', () => {
  it('round-trip with their level count and padding; 16 levels or a short per-quality tensor are named errors', () => {
    const m = flatBlockModel(1, 15, true);
    const back = blockModelFromBytes(serializeBlockModel(m), 'x');
    expect([back.steps.length, back.init.length, back.mirror]).toEqual([15, 15, true]);
    expect(blockModelFromBytes(serializeBlockModel(flatBlockModel(1)), 'y').mirror).toBe(false);
    expect(() => blockModelFromBytes(serializeBlockModel(flatBlockModel(1, 16)), 'big')).toThrow(/1\.\.15 qualities, has 16/);
    expect(() => blockModelFromBytes(serializeBlockModel({ ...m, tail: new Float32Array(8) }), 'short')).toThrow(/blk.tail/);
  });

  it('code qualities 1..15 through the GPU codec (v3 header 14 bytes); an 8-quality model refuses quality 9 by name', async () => {
    const gpu = await testGpu();
    const models: Record<string, ImageModel> = {
      'img:dct': parseImageModel(flatBlockModelBytes(3), 'img:dct'),
      'img:dct-g2': parseImageModel(flatBlockModelBytes(1, 15, true), 'img:dct-g2'),
    };
    const codec = new ImageCodec(gpu, async (id) => models[id] ?? Promise.reject(new ImageError(`unknown '${id}'`)));
    const img = randomImage(28, 28, 1, 3);
    let prev = 0;
    for (const quality of [1, 9, 15]) {
      const bytes = await codec.compress(img, { quality });
      const { header, payload } = readSlimg(bytes);
      expect(header).toMatchObject({ modelId: 'img:dct-g2', quality, width: 28, height: 28 });
      expect(bytes.length - payload.length).toBe(14);
      expect(bytes.length).toBeGreaterThan(prev);
      prev = bytes.length;
      const enc = await codec.latents(img, { quality });
      expect(Array.from((await codec.decodeLatents(bytes)).q[0]!)).toEqual(Array.from(enc.q[0]!));
      expect((await codec.decompress(bytes)).data.length).toBe(784);
    }
    await expect(codec.compress(randomImage(16, 16, 3, 1), { quality: 9 })).rejects.toThrow(/quality must be an integer from 1 to 8, got 9/);
    expect(modelForQuality('img:dct-g2', 15)).toEqual({ member: 'img:dct-g2', index: 0 });
    codec.dispose();
    // a file with fewer qualities than its preset promises
    const short = new ImageCodec(gpu, async () => parseImageModel(flatBlockModelBytes(1), 'img:dct-g2'));
    await expect(short.compress(img, { quality: 12 })).rejects.toThrow(/has 8 qualities/);
    short.dispose();
  });

  it('.slimg v3 reads qualities up to 15, v2 only up to 8', () => {
    const h = { modelId: 'img:dct-g2', quality: 15, channels: 1, width: 28, height: 28, tile: 256 };
    expect(readSlimg(writeSlimg(h, Uint8Array.of(1, 2))).header).toEqual(h);
    expect(() => readSlimg(writeSlimg({ ...h, quality: 9 }, Uint8Array.of(1), 2))).toThrow(/quality 9 \(1\.\.8\)/);
  });
});

describe('the shipped img:dct-g2', () => {
  it('has 15 qualities and mirrored padding; decodes its golden file and the writer reproduces it', async () => {
    const m = await loadImageModel('img:dct-g2');
    expect([m.block?.steps.length, m.block?.mirror]).toEqual([15, true]);
    const gpu = await testGpu();
    const codec = new ImageCodec(gpu, loadImageModel);
    const bytes = new Uint8Array(readFileSync(FIX + 'fashion-0.g2.slimg'));
    const want = decodeImage(new Uint8Array(readFileSync(FIX + 'fashion-0.g2.png')));
    const got = await codec.decompress(bytes, 'fashion-0.g2.slimg');
    let worst = 0;
    for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(want.data[i]! - got.data[i]!));
    expect(worst).toBeLessThanOrEqual(1); // the synthesis is f32: identical on lavapipe, ±1 allowed elsewhere
    const src = decodeImage(new Uint8Array(readFileSync(FIX + 'fashion-0.png')));
    expect(Buffer.from(await codec.compress(src, { quality: readSlimg(bytes).header.quality })).equals(Buffer.from(bytes))).toBe(true);
    // no quality given: the preset's own default (8 of 15 — about the rate of the 8-quality presets' 4)
    expect(presetDefaultQuality('img:dct-g2')).toBe(8);
    expect(presetDefaultQuality('img:dct')).toBe(4);
    expect(readSlimg(await codec.compress(src)).header).toMatchObject({ modelId: 'img:dct-g2', quality: 8 });
    codec.dispose();
  });
});
