// The raw image every part of src/image passes around: interleaved 8-bit samples, row-major.

export interface RawImage {
  width: number;
  height: number;
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  /** width·height·channels samples, interleaved (RGBRGB… for 3 channels). */
  data: Uint8Array;
}

/** Any failure to read, write, encode or decode an image or a .slimg file. */
export class ImageError extends Error {
  constructor(message: string) {
    super(`slimgpu.image: ${message}`);
    this.name = 'ImageError';
  }
}

/** BT.601 luma, rounded: the grayscale of an RGB image. */
export function toGray(img: RawImage): RawImage {
  if (img.channels === 1) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = img.data[3 * i]!,
      g = img.data[3 * i + 1]!,
      b = img.data[3 * i + 2]!;
    out[i] = Math.round((299 * r + 587 * g + 114 * b) / 1000);
  }
  return { width: img.width, height: img.height, channels: 1, data: out };
}

/** The (w×h) window at (x, y) of an image (inside it). */
export function crop(img: RawImage, x: number, y: number, w: number, h: number): RawImage {
  const c = img.channels;
  const out = new Uint8Array(w * h * c);
  for (let r = 0; r < h; r++) {
    const src = ((y + r) * img.width + x) * c;
    out.set(img.data.subarray(src, src + w * c), r * w * c);
  }
  return { width: w, height: h, channels: c, data: out };
}

/** PSNR in dB of b against a (same size), peak 255; Infinity when equal. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new ImageError(`psnr: sizes differ (${a.length} vs ${b.length})`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    se += d * d;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}
