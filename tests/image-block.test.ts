// The block codec (img:dct): transform (CPU reference, separable fast path, GPU conv2d/convTranspose2d
// with kernel 8 / stride 8), the context-adaptive integer coder (round trips, damage, cross-path
// agreement of the counting and the coding paths), the model file, and .slimg v3 + v2 golden files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BlockCounter, BlockDecoder, BlockEncoder, codeBlocks } from '../src/image/block-coder.js';
import { blockModelFromBytes, blockQuantise, serializeBlockModel } from '../src/image/block-model.js';
import { blockAnalysisCpu, blockAnalysisFast, blockSynthesisCpu, blockWeights, principalColours, ZIGZAG } from '../src/image/block-transform.js';
import { ImageCodec } from '../src/image/codec.js';
import { decodeImage } from '../src/image/files.js';
import { parseImageModel } from '../src/image/model.js';
import { loadImageModel } from '../src/image/node.js';
import { ImageError } from '../src/image/raw.js';
import { readSlimg, writeSlimg } from '../src/image/slimg.js';
import { ImageTransforms } from '../src/image/transforms.js';
import { expectClose, rng, testGpu, uniform } from './helpers.js';
import { flatBlockModel } from './image-fixtures.js';

const FIX = 'tests/fixtures/slimg/';

const flatModel = flatBlockModel;

/** Sparse Laplacian-ish coefficients, decaying with frequency, with a few huge ones. */
function randomCoefs(planes: number, bh: number, bw: number, seed: number): Int32Array {
  const r = rng(seed),
    plane = bh * bw;
  return Int32Array.from({ length: planes * 64 * plane }, (_, i) => {
    const k = Math.floor(i / plane) % 64,
      u = r();
    if (u < 0.003) return Math.round((r() - 0.5) * 2e6);
    const scale = 40 / (1 + k);
    return Math.round(Math.log(r() + 1e-9) * scale * (u < 0.5 ? 1 : -1) * (r() < 0.5 ? 0 : 1));
  });
}

describe('block transform', () => {
  it('zigzag is a permutation; the fast analysis equals the reference; synthesis inverts it', () => {
    expect([...ZIGZAG].sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect([...ZIGZAG.subarray(0, 6)]).toEqual([0, 1, 8, 16, 9, 2]);
    for (const [p, h, w] of [
      [3, 24, 40],
      [1, 8, 16],
    ] as const) {
      const colour = p === 3 ? principalColours(uniform(600, 1, 0, 1)) : [1];
      const x = uniform(p * h * w, 2, 0, 1),
        wts = blockWeights(colour, p);
      const y = blockAnalysisCpu(x, p, h, w, wts);
      expectClose(blockAnalysisFast(x, colour, p, h, w), y, { atol: 1e-5, rtol: 1e-5 }, 'fast analysis');
      expectClose(blockSynthesisCpu(y, p, h / 8, w / 8, wts), x, { atol: 1e-5, rtol: 1e-5 }, 'synthesis ∘ analysis');
    }
  });

  it('runs on the GPU (conv2d / convTranspose2d, kernel 8 stride 8) like the CPU reference', async () => {
    const gpu = await testGpu();
    for (const planes of [3, 1]) {
      const model = parseImageModel(serializeBlockModel(flatModel(planes)), planes === 3 ? 'img:dct' : 'img:dct-g');
      const tr = new ImageTransforms(gpu, model);
      const x = uniform(planes * 16 * 24, 3, 0, 1),
        w = model.analysis[0]!.w;
      const y = await tr.analysis(x, 16, 24);
      expectClose(y, blockAnalysisCpu(x, planes, 16, 24, w), { atol: 1e-4, rtol: 1e-4 }, 'analysis');
      expectClose(await tr.synthesis(y, 2, 3), blockSynthesisCpu(y, planes, 2, 3, w), { atol: 1e-4, rtol: 1e-4 }, 'synthesis');
      tr.dispose();
    }
  });
});

describe('block coder', () => {
  it('round-trips coefficients over several tiles (huge values, all-zero blocks); counting and coding agree', () => {
    for (const planes of [3, 1]) {
      const m = flatModel(planes);
      const tiles = [
        { q: randomCoefs(planes, 3, 5, planes), bh: 3, bw: 5 },
        { q: new Int32Array(planes * 64 * 2), bh: 1, bw: 2 },
        { q: randomCoefs(planes, 1, 1, 9), bh: 1, bw: 1 },
      ];
      const enc = new BlockEncoder(m.init[0]!),
        cnt = new BlockCounter(m.init[0]!);
      for (const t of tiles) {
        codeBlocks(enc, t.q, planes, t.bh, t.bw);
        codeBlocks(cnt, t.q, planes, t.bh, t.bw);
      }
      const bytes = enc.enc.finish();
      // the counter's adaptive code length is what the arithmetic coder writes, to a few bytes
      expect(Math.abs(bytes.length - cnt.bits / 8)).toBeLessThan(4);
      expect(Array.from(enc.p)).toEqual(Array.from(cnt.p));
      const dec = new BlockDecoder(m.init[0]!, bytes, 'test');
      for (const t of tiles) {
        const q = new Int32Array(t.q.length);
        codeBlocks(dec, q, planes, t.bh, t.bw);
        expect(Array.from(q)).toEqual(Array.from(t.q));
      }
      dec.dec.end();
      expect(() => {
        const d = new BlockDecoder(m.init[0]!, bytes.subarray(0, bytes.length >> 1), 'cut');
        for (const t of tiles) codeBlocks(d, new Int32Array(t.q.length), planes, t.bh, t.bw);
        d.dec.end();
      }).toThrow(/truncated|damaged/);
    }
  });

  it('dead-zone quantiser drops trailing small ±1s only', () => {
    const m = flatModel(1);
    const y = new Float32Array(64);
    y[0] = 0.5;
    y[1 * 1] = 0.026; // k = 1: 2.6 steps → 2 (not trailing ±1)
    y[5] = 0.0085; // 0.85 steps → 1, then dropped (trailing, below 0.9)
    const q = blockQuantise(y, m, 0, 1);
    expect([q[0], q[1], q[5]]).toEqual([50, 2, 0]);
    y[5] = 0.0095; // 0.95 steps: kept
    expect(blockQuantise(y, m, 0, 1)[5]).toBe(1);
  });

  it('model files round-trip and bad ones are named', () => {
    const m = flatModel(3);
    const back = blockModelFromBytes(serializeBlockModel(m), 'x');
    expect(Array.from(back.colour)).toEqual(Array.from(m.colour));
    expect(back.init.length).toBe(8);
    const bad = { ...m, steps: new Float32Array(8) };
    expect(() => blockModelFromBytes(serializeBlockModel(bad), 'bad')).toThrow(ImageError);
    expect(() => blockModelFromBytes(serializeBlockModel({ ...m, init: m.init.slice(0, 7) }), 'short')).toThrow(/blk.p.7/);
  });
});

describe('.slimg v3 and golden files', () => {
  it('v3 headers: listed model ids in one byte, the default tile implied; v2 still read', () => {
    const payload = Uint8Array.from({ length: 70 }, (_, i) => i * 3);
    for (const h of [
      { modelId: 'img:dct', quality: 4, channels: 3, width: 64, height: 64, tile: 256 },
      { modelId: 'img:photo-3', quality: 1, channels: 3, width: 300_000, height: 3, tile: 4096 },
      { modelId: 'img:dct-g', quality: 8, channels: 1, width: 28, height: 28, tile: 256 },
    ]) {
      for (const version of [3, 2]) {
        const bytes = writeSlimg(h, payload, version);
        expect(readSlimg(bytes).header).toEqual(h);
        expect(Array.from(readSlimg(bytes).payload)).toEqual(Array.from(payload));
        if (version === 3 && h.width === 64) expect(bytes.length - payload.length).toBe(14);
      }
    }
    const bytes = writeSlimg({ modelId: 'img:dct', quality: 4, channels: 3, width: 64, height: 64, tile: 256 }, payload);
    expect(() => readSlimg(bytes.subarray(0, 40), 'cut.slimg')).toThrow(/'cut.slimg' is damaged: CRC-32 .* \(or truncated/);
  });

  it('decodes the committed v2 and v3 files to their committed images; the writer reproduces the v3 bytes', async () => {
    const gpu = await testGpu();
    const codec = new ImageCodec(gpu, loadImageModel);
    for (const [slimg, png] of [
      ['fashion-0.v2.slimg', 'fashion-0.v2.png'],
      ['photo-40x24.v2.slimg', 'photo-40x24.v2.png'],
      ['fashion-0.v3.slimg', 'fashion-0.v3.png'],
      ['photo-40x24.v3.slimg', 'photo-40x24.v3.png'],
    ]) {
      const bytes = new Uint8Array(readFileSync(FIX + slimg));
      const want = decodeImage(new Uint8Array(readFileSync(FIX + png)));
      const got = await codec.decompress(bytes, slimg);
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(want.data[i]! - got.data[i]!));
      expect(worst, slimg).toBeLessThanOrEqual(1); // the synthesis is f32: identical on lavapipe, ±1 allowed elsewhere
      if (slimg.includes('v3')) {
        const src = decodeImage(new Uint8Array(readFileSync(FIX + slimg.replace(/\.v3\.slimg$/, '.png'))));
        const { quality, modelId } = readSlimg(bytes).header;
        const again = await codec.compress(src, { quality, modelId });
        expect(Buffer.from(again).equals(Buffer.from(bytes)), slimg).toBe(true);
      }
    }
    codec.dispose();
  });
});
