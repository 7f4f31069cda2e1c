// The learned lossy image codec: an image → tiles (≤ tile×tile, edge-padded to a multiple of the
// model's factor 8) → analysis on the GPU → latents rounded at the quality's step → one range-coded
// stream under the model's integer tables → a .slimg file; decompression runs the synthesis on the GPU.
// Tiles are independent (no overlap): a large image never needs more GPU memory than one tile.
import type { Gpu } from '../gpu/device.js';
import { RangeDecoder, RangeEncoder } from '../codec/rangecoder.js';
import { CodecError } from '../codec/errors.js';
import { decodeLatent, encodeLatent } from './latent-coder.js';
import { decodeLossless, encodeLossless } from './lossless.js';
import { deblock } from './deblock.js';
import { padEdge, padMirror } from './block-pad.js';
import { blockDequantise, blockQuantise, decodeBlockTiles, encodeBlockTiles } from './block-model.js';
import { modelForQuality, presetDefaultQuality, presetQualities, type ImageModel } from './model.js';
import { ImageError, type RawImage } from './raw.js';
import { readSlimg, writeSlimg, MAX_PIXELS } from './slimg.js';
import { ImageTransforms } from './transforms.js';

export const DEFAULT_TILE = 256;
export { DEFAULT_QUALITY } from './model.js';
/** The model id of losslessly coded files (no model file: src/image/lossless.ts). */
export const LOSSLESS_ID = 'img:lossless';

export interface CompressImageOptions {
  /** 1 (smallest) .. 8 (best; 15 for img:dct-g2, the grayscale default), default 4. */
  quality?: number;
  /** Default: img:dct for RGB, img:dct-g2 for grayscale (the block codec; the Ballé ladders are img:photo / img:fashion). */
  modelId?: string;
  tile?: number;
  /** Code the pixels exactly (src/image/lossless.ts); quality, model and tile are ignored. */
  lossless?: boolean;
}

interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
  pw: number;
  ph: number;
}

function tilesOf(width: number, height: number, tile: number, factor: number): Tile[] {
  const out: Tile[] = [];
  for (let y = 0; y < height; y += tile) {
    for (let x = 0; x < width; x += tile) {
      const w = Math.min(tile, width - x),
        h = Math.min(tile, height - y);
      out.push({ x, y, w, h, pw: Math.ceil(w / factor) * factor, ph: Math.ceil(h / factor) * factor });
    }
  }
  return out;
}

/** The tile as planar floats in [0, 1], edges repeated (or mirrored) into the padding. */
function tilePlanes(img: RawImage, t: Tile, mirror = false): Float32Array {
  const c = img.channels,
    out = new Float32Array(c * t.ph * t.pw),
    pad = mirror ? padMirror : padEdge;
  for (let k = 0; k < c; k++) {
    for (let r = 0; r < t.ph; r++) {
      const sy = t.y + pad(r, t.h);
      for (let q = 0; q < t.pw; q++) {
        const sx = t.x + pad(q, t.w);
        out[(k * t.ph + r) * t.pw + q] = img.data[(sy * img.width + sx) * c + k]! / 255;
      }
    }
  }
  return out;
}

function placeTile(img: RawImage, t: Tile, planes: Float32Array): void {
  const c = img.channels;
  for (let k = 0; k < c; k++) {
    for (let r = 0; r < t.h; r++) {
      for (let q = 0; q < t.w; q++) {
        const v = Math.round(planes[(k * t.ph + r) * t.pw + q]! * 255);
        img.data[((t.y + r) * img.width + t.x + q) * c + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}

/** A model file whose quality count differs from its preset's (the file decides what quality q means) is a named error. */
function checkLevels(model: ImageModel, index: number, member: string): void {
  const n = model.block ? model.block.steps.length : model.tables.length,
    want = presetQualities(member);
  if (n !== want || index >= n) throw new ImageError(`image model '${member}' has ${n} qualities; its preset has ${want}`);
}

export class ImageCodec {
  private readonly transforms = new Map<string, Promise<ImageTransforms>>();

  constructor(
    private readonly gpu: Gpu,
    private readonly resolveModel: (id: string) => Promise<ImageModel>,
  ) {}

  private get(id: string): Promise<ImageTransforms> {
    let t = this.transforms.get(id);
    if (!t) {
      t = this.resolveModel(id).then((m) => new ImageTransforms(this.gpu, m));
      t.catch(() => this.transforms.delete(id));
      this.transforms.set(id, t);
    }
    return t;
  }

  /** The quantised latent of every tile (what the file codes). */
  async latents(
    img: RawImage,
    opts: CompressImageOptions = {},
  ): Promise<{ id: string; model: ImageModel; index: number; tiles: Tile[]; q: Int32Array[]; tile: number; quality: number }> {
    if (img.channels !== 1 && img.channels !== 3) throw new ImageError(`images have 1 or 3 channels, got ${img.channels}`);
    if (img.width * img.height > MAX_PIXELS) throw new ImageError(`the image is ${img.width}x${img.height}; at most ${MAX_PIXELS} pixels`);
    const id = opts.modelId ?? (img.channels === 3 ? 'img:dct' : 'img:dct-g2');
    const quality = opts.quality ?? presetDefaultQuality(id);
    const { member, index } = modelForQuality(id, quality);
    const tr = await this.get(member);
    const model = tr.model;
    if (model.channels !== img.channels) throw new ImageError(`model '${id}' codes ${model.channels}-channel images, the image has ${img.channels}`);
    checkLevels(model, index, member);
    const step = model.steps[index]!;
    const tile = opts.tile ?? DEFAULT_TILE;
    if (!Number.isInteger(tile) || tile < 8 || tile % 8 !== 0 || tile > 4096)
      throw new ImageError(`tile must be a multiple of 8 in 8..4096, got ${tile}`);
    const tiles = tilesOf(img.width, img.height, tile, model.factor);
    const q: Int32Array[] = [];
    for (const t of tiles) {
      const y = await tr.analysis(tilePlanes(img, t, model.block?.mirror), t.ph, t.pw);
      if (model.block) q.push(blockQuantise(y, model.block, index, (t.ph * t.pw) / 64));
      else q.push(Int32Array.from(y, (v) => Math.round(v / step)));
    }
    return { id, model, index, tiles, q, tile, quality };
  }

  async compress(img: RawImage, opts: CompressImageOptions = {}): Promise<Uint8Array> {
    if (opts.lossless) {
      if (img.channels !== 1 && img.channels !== 3) throw new ImageError(`images have 1 or 3 channels, got ${img.channels}`);
      if (img.width * img.height > MAX_PIXELS) throw new ImageError(`the image is ${img.width}x${img.height}; at most ${MAX_PIXELS} pixels`);
      return writeSlimg(
        { modelId: LOSSLESS_ID, quality: 8, channels: img.channels, width: img.width, height: img.height, tile: 8 },
        encodeLossless(img),
      );
    }
    const { id, model, index, q, tile, tiles, quality } = await this.latents(img, opts);
    const head = { modelId: id, quality, channels: img.channels, width: img.width, height: img.height, tile };
    if (model.block)
      return writeSlimg(
        head,
        encodeBlockTiles(
          model.block,
          index,
          tiles.map((t, i) => ({ q: q[i]!, bh: t.ph / 8, bw: t.pw / 8 })),
        ),
      );
    const tables = model.tables[index]!;
    const enc = new RangeEncoder();
    for (const lat of q) encodeLatent(enc, lat, model.m, tables);
    return writeSlimg(head, enc.finish());
  }

  /** Decodes the latents only (integers: identical on every device). */
  async decodeLatents(
    bytes: Uint8Array,
    name?: string,
  ): Promise<{ model: ImageModel; index: number; tiles: Tile[]; q: Int32Array[]; width: number; height: number; channels: number; quality: number }> {
    const { header: h, payload } = readSlimg(bytes, name);
    const { member, index } = modelForQuality(h.modelId, h.quality);
    const model = (await this.get(member)).model;
    checkLevels(model, index, member);
    if (model.channels !== h.channels)
      throw new ImageError(`'${name ?? '.slimg data'}' has ${h.channels} channels but its model '${h.modelId}' codes ${model.channels}`);
    const tables = model.tables[index]!;
    const tiles = tilesOf(h.width, h.height, h.tile, model.factor);
    const where = `'${name ?? '.slimg data'}' payload`;
    try {
      if (model.block) {
        const dims = tiles.map((t) => ({ bh: t.ph / 8, bw: t.pw / 8 }));
        const q = decodeBlockTiles(model.block, index, payload, dims, where);
        return { model, index, tiles, q, width: h.width, height: h.height, channels: h.channels, quality: h.quality };
      }
      const dec = new RangeDecoder(payload, where);
      const q = tiles.map((t) => decodeLatent(dec, model.m, (t.ph / model.factor) * (t.pw / model.factor), tables));
      dec.end();
      return { model, index, tiles, q, width: h.width, height: h.height, channels: h.channels, quality: h.quality };
    } catch (e) {
      if (e instanceof CodecError) throw new ImageError(e.message.replace(/^slimgpu\.codec: /, ''));
      throw e;
    }
  }

  async decompress(bytes: Uint8Array, name?: string): Promise<RawImage> {
    const { header: h, payload } = readSlimg(bytes, name);
    if (h.modelId === LOSSLESS_ID) {
      try {
        return decodeLossless(payload, h.width, h.height, h.channels, `'${name ?? '.slimg data'}' payload`);
      } catch (e) {
        if (e instanceof CodecError) throw new ImageError(e.message.replace(/^slimgpu\.codec: /, ''));
        throw e;
      }
    }
    const d = await this.decodeLatents(bytes, name);
    const tr = await this.get(d.model.id);
    const step = d.model.steps[d.index]!;
    const img: RawImage = { width: d.width, height: d.height, channels: d.channels, data: new Uint8Array(d.width * d.height * d.channels) };
    for (const [i, t] of d.tiles.entries()) {
      const b = d.model.block;
      const y = b ? blockDequantise(d.q[i]!, b, d.index, (t.ph * t.pw) / 64) : Float32Array.from(d.q[i]!, (v) => v * step);
      const planes = await tr.synthesis(y, t.ph / d.model.factor, t.pw / d.model.factor);
      if (b) deblock(planes, d.channels, t.ph, t.pw, (b.deblock[d.index]! * b.steps[d.index]!) / 4);
      placeTile(img, t, planes);
    }
    return img;
  }

  dispose(): void {
    for (const t of this.transforms.values())
      t.then(
        (x) => x.dispose(),
        () => undefined,
      );
    this.transforms.clear();
  }
}
