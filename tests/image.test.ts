import { describe, expect, it } from 'vitest';
import { RangeDecoder, RangeEncoder } from '../src/codec/rangecoder.js';
import { ImageCodec } from '../src/image/codec.js';
import { decodeImage, encodePng } from '../src/image/files.js';
import { decodeLatent, encodeLatent, latentTables } from '../src/image/latent-coder.js';
import { parseImageModel, type ImageModel } from '../src/image/model.js';
import { encodePnm } from '../src/image/pnm.js';
import { ImageError, psnr } from '../src/image/raw.js';
import { readSlimg } from '../src/image/slimg.js';
import { ImageTransforms } from '../src/image/transforms.js';
import { conv2dCpu } from '../src/reference/conv2d.js';
import { convTranspose2dCpu } from '../src/reference/conv-transpose2d.js';
import { expectClose, rng, testGpu, uniform } from './helpers.js';
import { flatBlockModelBytes, randomFreq, randomImage, tinyModelBytes } from './image-fixtures.js';

describe('image latent coder', () => {
  it('round-trips latents with escapes, and fails on a truncated stream', () => {
    const m = 5,
      plane = 37,
      freq = randomFreq(m, 1);
    const tables = latentTables(Int32Array.from([0, 3, -2, 7, -100]), freq, 'test');
    const r = rng(2);
    const q = Int32Array.from({ length: m * plane }, (_, i) => (i % 41 === 0 ? Math.round((r() - 0.5) * 1e6) : Math.round((r() - 0.5) * 30)));
    const enc = new RangeEncoder();
    encodeLatent(enc, q, m, tables);
    const bytes = enc.finish();
    const dec = new RangeDecoder(bytes);
    expect(Array.from(decodeLatent(dec, m, plane, tables))).toEqual(Array.from(q));
    dec.end();
    expect(() => {
      const d = new RangeDecoder(bytes.subarray(0, bytes.length - 3));
      decodeLatent(d, m, plane, tables);
      d.end();
    }).toThrow(/damaged|truncated/);
  });

  it('rejects tables that do not sum to 2^16 or give a symbol zero', () => {
    const f = randomFreq(2, 3);
    f[5] = 0;
    expect(() => latentTables(new Int32Array(2), f, 'bad')).toThrow(ImageError);
    expect(() => latentTables(new Int32Array(3), randomFreq(2, 3), 'bad')).toThrow(/frequencies for 3 channels/);
  });
});

describe('image codec on the GPU', () => {
  const models: Record<string, ImageModel> = {
    'img:photo': parseImageModel(tinyModelBytes(3, 6, 5, 10), 'img:photo'),
    'img:fashion': parseImageModel(tinyModelBytes(1, 4, 3, 20), 'img:fashion'),
    'img:dct': parseImageModel(flatBlockModelBytes(3), 'img:dct'),
    'img:dct-g': parseImageModel(flatBlockModelBytes(1), 'img:dct-g'),
    'img:dct-g2': parseImageModel(flatBlockModelBytes(1, 15, true), 'img:dct-g2'),
  };
  const resolve = async (id: string) => {
    const m = models[id.replace(/-\d$/, '')]; // the ladders' members (img:photo-1 ..) share one tiny model here
    if (!m) throw new ImageError(`unknown image model '${id}'`);
    return m;
  };

  it('transforms match the CPU references (conv2d, convTranspose2d)', async () => {
    const gpu = await testGpu();
    const m = models['img:photo']!;
    const tr = new ImageTransforms(gpu, m);
    const x = uniform(3 * 16 * 24, 5, 0, 1);
    let ref: Float32Array = x,
      shape = [1, 3, 16, 24];
    for (const [i, l] of m.analysis.entries()) {
      ref = conv2dCpu(ref, shape as never, l.w, l.wShape, { stride: 2, padding: 2, bias: l.b, activation: i < 2 ? 'relu' : 'none' });
      shape = [1, l.wShape[0], shape[2]! / 2, shape[3]! / 2];
    }
    expectClose(await tr.analysis(x, 16, 24), ref, { atol: 1e-4, rtol: 1e-4 }, 'analysis');
    const y = uniform(5 * 2 * 3, 6, -2, 2);
    ref = y;
    shape = [1, 5, 2, 3];
    for (const [i, l] of m.synthesis.entries()) {
      ref = convTranspose2dCpu(ref, shape, l.w, l.wShape, {
        stride: 2,
        padding: 2,
        outputPadding: 1,
        bias: l.b,
        activation: i < 2 ? 'relu' : 'none',
      });
      shape = [1, l.wShape[1], shape[2]! * 2, shape[3]! * 2];
    }
    expectClose(await tr.synthesis(y, 2, 3), ref, { atol: 1e-4, rtol: 1e-4 }, 'synthesis');
    tr.dispose();
  });

  it('compresses and decompresses odd sizes, tiled, gray and RGB; the decoded latent equals the coded one', async () => {
    const gpu = await testGpu();
    const codec = new ImageCodec(gpu, resolve);
    for (const [w, h, c, tile] of [
      [1, 1, 1, 8],
      [37, 29, 3, 16],
      [50, 9, 1, 256],
    ] as const) {
      const img = randomImage(w, h, c, w + h);
      for (const quality of [1, 8]) {
        const bytes = await codec.compress(img, { quality, tile });
        const enc = await codec.latents(img, { quality, tile });
        const dec = await codec.decodeLatents(bytes);
        expect(dec.q.map((a) => Array.from(a))).toEqual(enc.q.map((a) => Array.from(a)));
        const out = await codec.decompress(bytes);
        expect([out.width, out.height, out.channels]).toEqual([w, h, c]);
        expect(Number.isFinite(psnr(img.data, out.data)) || out.data.every((v, i) => v === img.data[i])).toBe(true);
      }
    }
    codec.dispose();
  });

  it('--lossless gives back every sample exactly (gray, RGB, odd sizes)', async () => {
    const gpu = await testGpu();
    const codec = new ImageCodec(gpu, resolve);
    for (const [w, h, c] of [
      [1, 1, 1],
      [17, 5, 3],
      [9, 23, 1],
    ] as const) {
      const img = randomImage(w, h, c, 7 * w + h);
      const bytes = await codec.compress(img, { lossless: true });
      expect(readSlimg(bytes).header.modelId).toBe('img:lossless');
      expect(Array.from((await codec.decompress(bytes)).data)).toEqual(Array.from(img.data));
    }
    const img = randomImage(40, 40, 3, 3);
    const bytes = await codec.compress(img, { lossless: true });
    expect(bytes.length).toBeLessThan(img.data.length * 0.8);
    codec.dispose();
  });

  it('names damaged, truncated and mismatched files', async () => {
    const gpu = await testGpu();
    const codec = new ImageCodec(gpu, resolve);
    const bytes = await codec.compress(randomImage(20, 12, 3, 1), { quality: 5 });
    expect(readSlimg(bytes).header).toMatchObject({ modelId: 'img:dct', quality: 5, width: 20, height: 12, channels: 3 });
    const flipped = bytes.slice();
    flipped[bytes.length - 8] ^= 0x10;
    await expect(codec.decompress(flipped, 'f.slimg')).rejects.toThrow(/'f.slimg' is damaged: CRC-32/);
    await expect(codec.decompress(bytes.subarray(0, bytes.length - 5), 't.slimg')).rejects.toThrow(/truncated/);
    await expect(codec.decompress(new Uint8Array([1, 2, 3]))).rejects.toThrow(/not a .slimg file/);
    await expect(codec.compress(randomImage(8, 8, 1, 2), { modelId: 'img:photo' })).rejects.toThrow(/codes 3-channel images/);
    await expect(codec.compress(randomImage(8, 8, 3, 2), { quality: 9 })).rejects.toThrow(/quality must be/);
    codec.dispose();
  });
});

describe('image files', () => {
  it('reads PNG (gray, RGB) and PNM back exactly, and names unreadable bytes', () => {
    for (const c of [1, 3]) {
      const img = randomImage(13, 7, c, c);
      for (const bytes of [encodePng(img), encodePnm(img)]) {
        const back = decodeImage(bytes);
        expect([back.width, back.height, back.channels]).toEqual([13, 7, c]);
        expect(Buffer.compare(Buffer.from(back.data), Buffer.from(img.data))).toBe(0);
      }
    }
    expect(() => decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1]), 'x.png')).toThrow(/'x.png' is not a readable PNG/);
    expect(() => decodeImage(new TextEncoder().encode('P5\n3 3\n255\nab'), 'x.pgm')).toThrow(/truncated/);
    expect(() => decodeImage(new Uint8Array(10), 'x.bin')).toThrow(/is not a PNG, JPEG/);
  });
});
