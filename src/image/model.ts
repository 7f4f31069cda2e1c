// The learned image codec's model: `img:` presets, loaded from safetensors files that
// python/image_codec.py writes (models/img/<name>.safetensors):
//   a0..a2.{w,b}   analysis convolutions (OC, C, 5, 5), stride 2, padding 2 (ReLU between)
//   s0..s2.{w,b}   synthesis transposed convolutions (C_in, C_out, 5, 5), stride 2, padding 2,
//                  output padding 1 (ReLU between)
//   ent.steps      latent quantisation step of each quality (index 0 = finest)
//   ent.offset.q / ent.freq.q   the integer entropy tables of quality index q (see latent-coder.ts)
// Parsed as untrusted input: every shape is checked against the others.
import { parseSafetensors, type SafeTensor } from '../io/safetensors.js';
import { latentTables, type LatentTables } from './latent-coder.js';
import { blockModelWeights, isBlockModelFile, parseBlockModel, type BlockModel } from './block-model.js';
import { BLOCK } from './block-transform.js';
import { ImageError } from './raw.js';

export interface ConvWeights {
  w: Float32Array;
  wShape: [number, number, number, number];
  b: Float32Array;
  /** Default: stride 2, padding 2, output padding 1 (the Ballé transforms); the block codec: 8, 0, 0. */
  geometry?: { stride: number; padding: number; outputPadding: number };
}

export interface ImageModel {
  id: string;
  channels: number;
  /** Latent channels. */
  m: number;
  /** Input pixels per latent pixel along each axis (2^layers). */
  factor: number;
  analysis: ConvWeights[];
  synthesis: ConvWeights[];
  steps: Float32Array;
  tables: LatentTables[];
  /** Bytes of the synthesis weights + tables as stored (f32 weights, u16/i32 tables): the decoder's size. */
  decoderBytes: number;
  /** Set for the block codec (img:dct presets): its quantiser and context coder replace steps/tables. */
  block?: BlockModel;
}

/**
 * The shipped presets: id → file under models/img/ and what it was trained on. A preset with a
 * `ladder` has no file of its own: quality q uses ladder[q − 1] = [member preset, the member's
 * quality] (one model per λ of the sweep, each with its quantisation steps; docs/images.md).
 */
export interface ImagePreset {
  file?: string;
  channels: number;
  about: string;
  ladder?: readonly (readonly [string, number])[];
  /** Number of qualities (default QUALITIES = 8; the block codec's img:dct-g2: 15). */
  qualities?: number;
  /** The quality used when none is given (default 4 of 8): about the same rate and PSNR on every preset. */
  defaultQuality?: number;
}
/** Shipped λ members: [index in the sweep, λ] (scripts/train-image-codecs.sh). */
const PHOTO_MEMBERS: [number, number][] = [
  [1, 0.003],
  [3, 0.03],
];
const FASHION_MEMBERS: [number, number][] = [
  [1, 0.01],
  [3, 0.1],
];
/** Quality q → [member, the member's quality] along the measured R-D hull of the members' steps. */
const PHOTO_LADDER: [string, number][] = [
  ['img:photo-1', 2],
  ['img:photo-1', 3],
  ['img:photo-1', 4],
  ['img:photo-1', 5],
  ['img:photo-3', 4],
  ['img:photo-3', 5],
  ['img:photo-3', 6],
  ['img:photo-3', 7],
];
const FASHION_LADDER: [string, number][] = [
  ['img:fashion-1', 1],
  ['img:fashion-1', 2],
  ['img:fashion-1', 3],
  ['img:fashion-1', 4],
  ['img:fashion-1', 5],
  ['img:fashion-3', 4],
  ['img:fashion-3', 5],
  ['img:fashion-3', 7],
];
const member = (data: string, k: number, lambda: number, channels: number, about: string): [string, ImagePreset] => [
  `img:${data}-${k}`,
  { file: `${data}-${k}.safetensors`, channels, about: `${about}, λ = ${lambda}` },
];
export const IMAGE_PRESETS: Record<string, ImagePreset> = Object.fromEntries([
  ['img:photo', { channels: 3, about: 'RGB, mate-backgrounds photo patches (λ sweep)', ladder: PHOTO_LADDER }],
  ['img:fashion', { channels: 1, about: 'grayscale, Fashion-MNIST (λ sweep)', ladder: FASHION_LADDER }],
  // the block codec (session 7, the default): DCT on learned colour axes + context-adaptive integer coding
  [
    'img:dct',
    { file: 'dct.safetensors', channels: 3, about: 'RGB block codec (PCA colour + DCT, context-adaptive), fitted to mate-backgrounds patches' },
  ],
  ['img:dct-g', { file: 'dct-g.safetensors', channels: 1, about: 'grayscale block codec (DCT, context-adaptive), fitted to Fashion-MNIST' }],
  [
    'img:dct-g2',
    {
      file: 'dct-g2.safetensors',
      channels: 1,
      qualities: 15,
      defaultQuality: 8,
      about: 'grayscale block codec, 15 qualities, mirrored edge padding, fitted to Fashion-MNIST (the grayscale default)',
    },
  ],
  // the sweep's members on a ladder's R-D hull are shipped (the others were dominated: docs/images.md)
  ...PHOTO_MEMBERS.map(([k, l]) => member('photo', k, l, 3, 'RGB, mate-backgrounds photo patches')),
  ...FASHION_MEMBERS.map(([k, l]) => member('fashion', k, l, 1, 'grayscale, Fashion-MNIST')),
  // Deep Compression with retraining of member 3 (python/image_codec.py --prune 0.5 --share-bits 5)
  ['img:photo-3-dc', { file: 'photo-3-dc.safetensors', channels: 3, about: 'img:photo-3, synthesis pruned 50 % + 5-bit shared, retrained' }],
  ['img:fashion-3-dc', { file: 'fashion-3-dc.safetensors', channels: 1, about: 'img:fashion-3, synthesis pruned 50 % + 5-bit shared, retrained' }],
]);
export const LAYERS = 3;
export const QUALITIES = 8;

function tensor(t: Record<string, SafeTensor>, name: string, where: string): SafeTensor {
  const v = t[name];
  if (!v) throw new ImageError(`${where}: tensor '${name}' is missing`);
  return v;
}

function f32(t: Record<string, SafeTensor>, name: string, where: string, shape?: number[]): Float32Array {
  const v = tensor(t, name, where);
  if (v.dtype !== 'F32') throw new ImageError(`${where}: '${name}' is ${v.dtype}, expected F32`);
  if (shape && (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i]))) {
    throw new ImageError(`${where}: '${name}' has shape [${v.shape}], expected [${shape}]`);
  }
  return v.data as Float32Array;
}

function conv(t: Record<string, SafeTensor>, name: string, where: string, transposed: boolean): ConvWeights {
  const w = tensor(t, `${name}.w`, where);
  if (w.shape.length !== 4 || w.shape[2] !== 5 || w.shape[3] !== 5)
    throw new ImageError(`${where}: '${name}.w' has shape [${w.shape}], expected [*, *, 5, 5]`);
  const oc = transposed ? w.shape[1]! : w.shape[0]!;
  return { w: f32(t, `${name}.w`, where), wShape: w.shape as [number, number, number, number], b: f32(t, `${name}.b`, where, [oc]) };
}

/** Parses a model file; `id` names it in errors and in the .slimg files it writes. */
export function parseImageModel(bytes: Uint8Array, id: string): ImageModel {
  const where = `image model '${id}'`;
  let t: Record<string, SafeTensor>;
  try {
    t = parseSafetensors(bytes).tensors;
  } catch (e) {
    throw new ImageError(`${where}: not a readable safetensors file (${(e as Error).message})`);
  }
  if (isBlockModelFile(t)) return blockImageModel(parseBlockModel(t, where), id, bytes.length);
  const analysis = [0, 1, 2].map((i) => conv(t, `a${i}`, where, false));
  const synthesis = [0, 1, 2].map((i) => conv(t, `s${i}`, where, true));
  const channels = analysis[0]!.wShape[1],
    m = analysis[2]!.wShape[0];
  for (let i = 1; i < LAYERS; i++) {
    if (analysis[i]!.wShape[1] !== analysis[i - 1]!.wShape[0])
      throw new ImageError(`${where}: a${i}.w does not take a${i - 1}'s ${analysis[i - 1]!.wShape[0]} channels`);
    if (synthesis[i]!.wShape[0] !== synthesis[i - 1]!.wShape[1])
      throw new ImageError(`${where}: s${i}.w does not take s${i - 1}'s ${synthesis[i - 1]!.wShape[1]} channels`);
  }
  if (synthesis[0]!.wShape[0] !== m || synthesis[2]!.wShape[1] !== channels)
    throw new ImageError(`${where}: the synthesis does not map ${m} latent channels to ${channels} image channels`);
  if (channels !== 1 && channels !== 3) throw new ImageError(`${where}: ${channels} image channels (1 or 3 are supported)`);
  const steps = f32(t, 'ent.steps', where);
  if (steps.length !== QUALITIES || steps.some((s) => !(s > 0))) throw new ImageError(`${where}: ent.steps must be ${QUALITIES} positive steps`);
  const tables: LatentTables[] = [];
  let tableBytes = 0;
  for (let q = 0; q < QUALITIES; q++) {
    const off = tensor(t, `ent.offset.${q}`, where),
      fr = tensor(t, `ent.freq.${q}`, where);
    if (off.dtype !== 'I32' || fr.dtype !== 'U16') throw new ImageError(`${where}: ent.offset.${q} must be I32 and ent.freq.${q} U16`);
    if (off.shape.length !== 1 || off.shape[0] !== m) throw new ImageError(`${where}: ent.offset.${q} must have ${m} entries`);
    tables.push(latentTables(off.data as Int32Array, fr.data as Uint16Array, `${where} quality index ${q}`));
    tableBytes += off.data.byteLength + fr.data.byteLength;
  }
  const decoderBytes = synthesis.reduce((s, c) => s + c.w.byteLength + c.b.byteLength, 0) + tableBytes + steps.byteLength;
  return { id, channels, m, factor: 2 ** LAYERS, analysis, synthesis, steps, tables, decoderBytes };
}

/** Quality 1 (smallest) .. n (best; 8 unless the preset says otherwise) → the index of its tables and step. */
export function qualityIndex(quality: number, n = QUALITIES): number {
  if (!Number.isInteger(quality) || quality < 1 || quality > n) throw new ImageError(`quality must be an integer from 1 to ${n}, got ${quality}`);
  return n - quality;
}

/** How many qualities preset `id` has (8 unless it says otherwise). */
export const presetQualities = (id: string): number => IMAGE_PRESETS[id]?.qualities ?? QUALITIES;

/** The quality of an 8-quality preset when none is given (each preset may say its own: presetDefaultQuality). */
export const DEFAULT_QUALITY = 4;

/** The quality preset `id` uses when none is given (4 of 8; 8 of img:dct-g2's 15: ~2.4 bpp, as img:dct-g's 4 was). */
export const presetDefaultQuality = (id: string): number => IMAGE_PRESETS[id]?.defaultQuality ?? DEFAULT_QUALITY;

/** The model file and table index that quality 1..n of preset `id` uses (a ladder's member, or the preset itself). */
export function modelForQuality(id: string, quality: number): { member: string; index: number } {
  const index = qualityIndex(quality, presetQualities(id));
  const ladder = IMAGE_PRESETS[id]?.ladder;
  if (!ladder) return { member: id, index };
  const [m, q] = ladder[quality - 1]!;
  return { member: m, index: qualityIndex(q) };
}

/** The block codec as an ImageModel: one 8×8 stride-8 convolution each way (weights from the colour matrix and the DCT). */
function blockImageModel(block: BlockModel, id: string, fileBytes: number): ImageModel {
  const p = block.planes,
    w = blockModelWeights(block),
    geometry = { stride: BLOCK, padding: 0, outputPadding: 0 };
  return {
    id,
    channels: p,
    m: p * BLOCK * BLOCK,
    factor: BLOCK,
    analysis: [{ w, wShape: [p * BLOCK * BLOCK, p, BLOCK, BLOCK], b: new Float32Array(p * BLOCK * BLOCK), geometry }],
    synthesis: [{ w, wShape: [p * BLOCK * BLOCK, p, BLOCK, BLOCK], b: new Float32Array(p), geometry }],
    steps: block.steps,
    tables: [],
    decoderBytes: fileBytes,
    block,
  };
}
