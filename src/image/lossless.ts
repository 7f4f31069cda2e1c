// Lossless pixel coding: a causal pixel-context model gives, for every sample, a 256-entry table
// (a discretised Laplace distribution around a prediction), which the context-mixing coder of
// src/codec/cm mixes with its own byte contexts and codes bit by bit.
//   Order: raster, channels interleaved (R, G, B per pixel). Prediction of channel k at (x, y):
//   MED (JPEG-LS's median edge detector) over the W, N, NW neighbours of the same channel, plus,
//   for k > 0, the MED error of channel k − 1 at the same pixel (colour channels err together);
//   plus the running bias of its context. Scale: the running mean |error| of the context.
//   Context: channel × 12 bins of local activity (gradients around the pixel and, for k > 0, the
//   previous channel's |error|). Counts are integers, halved at 64 (JPEG-LS style).
// Determinism: the logits use only +, −, ×, ÷ and comparisons (exactly rounded in every JavaScript
// engine), and frequencies() turns them into integer tables, so encoder and decoder agree bit for bit.
import { frequencies } from '../codec/frequencies.js';
import { BitDecoder, BitEncoder, CmModel, decodeByte, encodeByte } from '../codec/cm/index.js';
import type { RawImage } from './raw.js';

const BINS = 12;
const RESET = 64;
const CM_MEMORY_LOG2 = 18;

function bin(activity: number): number {
  let b = 0;
  for (let t = 1; activity >= t && b < BINS - 1; t = t * 2 + 1) b++;
  return b;
}

class PixelModel {
  private readonly sumAbs: Float64Array;
  private readonly sumErr: Float64Array;
  private readonly count: Float64Array;
  private readonly logits = new Float64Array(256);
  readonly cum = new Uint32Array(257);
  private ctx = 0;
  pred = 0;
  private base = 0;
  medErr = 0;

  constructor(private readonly img: RawImage) {
    const n = img.channels * BINS;
    this.sumAbs = new Float64Array(n).fill(4);
    this.sumErr = new Float64Array(n);
    this.count = new Float64Array(n).fill(1);
  }

  private at(x: number, y: number, k: number, fallback: number): number {
    if (x < 0 || y < 0 || x >= this.img.width) return fallback;
    return this.img.data[(y * this.img.width + x) * this.img.channels + k]!;
  }

  /** Prepares this.cum for sample (x, y, k); prevErr is channel k−1's MED error at this pixel. */
  prepare(x: number, y: number, k: number, prevErr: number): void {
    const a = this.at(x - 1, y, k, this.at(x, y - 1, k, 128));
    const b = this.at(x, y - 1, k, a),
      c = this.at(x - 1, y - 1, k, b),
      d = this.at(x + 1, y - 1, k, b);
    const med = c >= Math.max(a, b) ? Math.min(a, b) : c <= Math.min(a, b) ? Math.max(a, b) : a + b - c;
    const base = k > 0 ? med + prevErr : med;
    this.medErr = med;
    this.base = base;
    const activity = Math.abs(a - c) + Math.abs(b - c) + Math.abs(d - b) + (k > 0 ? 2 * Math.abs(prevErr) : 0);
    this.ctx = k * BINS + bin(activity);
    const n = this.count[this.ctx]!;
    const mu = Math.min(255, Math.max(0, base + this.sumErr[this.ctx]! / n));
    this.pred = mu;
    const scale = Math.max(0.3, this.sumAbs[this.ctx]! / n);
    const inv = 1 / scale;
    for (let v = 0; v < 256; v++) this.logits[v] = -Math.abs(v - mu) * inv;
    frequencies(this.logits, 0, this.cum);
  }

  /** Updates the context with the actual value; returns channel k's MED error for the next channel. */
  update(v: number): number {
    const i = this.ctx;
    this.sumAbs[i]! += Math.abs(v - this.pred);
    this.sumErr[i]! += v - this.base;
    if (++this.count[i]! >= RESET) {
      this.sumAbs[i]! /= 2;
      this.sumErr[i]! /= 2;
      this.count[i]! /= 2;
    }
    return v - this.medErr;
  }
}

/** The CM-coded bytes of every sample of the image (width, height, channels travel in the container). */
export function encodeLossless(img: RawImage): Uint8Array {
  const model = new PixelModel(img),
    cm = new CmModel(1, { memoryLog2: CM_MEMORY_LOG2 }),
    enc = new BitEncoder();
  const c = img.channels;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      let prevErr = 0;
      for (let k = 0; k < c; k++) {
        const v = img.data[(y * img.width + x) * c + k]!;
        model.prepare(x, y, k, prevErr);
        encodeByte(cm, enc, 0, v, model.cum);
        prevErr = model.update(v);
      }
    }
  }
  return enc.finish();
}

export function decodeLossless(bytes: Uint8Array, width: number, height: number, channels: number, where = 'lossless payload'): RawImage {
  const img: RawImage = { width, height, channels, data: new Uint8Array(width * height * channels) };
  const model = new PixelModel(img),
    cm = new CmModel(1, { memoryLog2: CM_MEMORY_LOG2 }),
    dec = new BitDecoder(bytes, where);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let prevErr = 0;
      for (let k = 0; k < channels; k++) {
        model.prepare(x, y, k, prevErr);
        const v = decodeByte(cm, dec, 0, model.cum);
        img.data[(y * width + x) * channels + k] = v;
        prevErr = model.update(v);
      }
    }
  }
  dec.end();
  return img;
}
