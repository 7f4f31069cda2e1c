// Image files in Node: PNG through pngjs, JPEG through jpeg-js, PGM/PPM (P5/P6) through ./pnm.ts.
// The format is found from the bytes (magic numbers), not the file name. Alpha is dropped (a PNG
// with transparency is coded as its colour channels); grayscale PNGs and JPEGs stay 1-channel.
import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../io/files.js';
import { encodePnm, parsePnm } from './pnm.js';
import { ImageError, type RawImage } from './raw.js';
import { MAX_PIXELS } from './slimg.js';

function fromRgba(width: number, height: number, rgba: Uint8Array, gray: boolean): RawImage {
  const n = width * height,
    c = gray ? 1 : 3;
  const data = new Uint8Array(n * c);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) data[i * c + k] = rgba[i * 4 + k]!;
  return { width, height, channels: c, data };
}

/** Decodes PNG, JPEG or binary PGM/PPM bytes; `name` appears in errors. */
export function decodeImage(bytes: Uint8Array, name = 'image'): RawImage {
  let img: RawImage;
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (e) {
      throw new ImageError(`'${name}' is not a readable PNG: ${(e as Error).message}`);
    }
    const gray = ((png as unknown as { colorType?: number }).colorType ?? 2) % 4 === 0; // 0: gray, 4: gray + alpha
    img = fromRgba(png.width, png.height, png.data, gray);
  } else if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    let j: { width: number; height: number; data: Uint8Array };
    try {
      j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 2048 });
    } catch (e) {
      throw new ImageError(`'${name}' is not a readable JPEG: ${(e as Error).message}`);
    }
    let gray = true;
    for (let i = 0; gray && i < j.data.length; i += 4) gray = j.data[i] === j.data[i + 1] && j.data[i] === j.data[i + 2];
    img = fromRgba(j.width, j.height, j.data, gray);
  } else if (bytes.length >= 2 && bytes[0] === 0x50 && (bytes[1] === 0x35 || bytes[1] === 0x36)) {
    img = parsePnm(bytes, name);
  } else {
    throw new ImageError(`'${name}' is not a PNG, JPEG, PGM (P5) or PPM (P6) file`);
  }
  if (img.width * img.height > MAX_PIXELS) throw new ImageError(`'${name}' is ${img.width}x${img.height}; at most ${MAX_PIXELS} pixels`);
  return img;
}

/** PNG bytes of an image (8-bit gray or RGB). */
export function encodePng(img: RawImage): Uint8Array {
  const png = new PNG({
    width: img.width,
    height: img.height,
    colorType: img.channels === 1 ? 0 : 2,
    inputHasAlpha: false,
    inputColorType: img.channels === 1 ? 0 : 2,
  } as never);
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return new Uint8Array(
    PNG.sync.write(png, { colorType: img.channels === 1 ? 0 : 2, inputColorType: img.channels === 1 ? 0 : 2, inputHasAlpha: false } as never),
  );
}

export async function readImageFile(path: string): Promise<RawImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new ImageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeImage(bytes, path);
}

/** Writes PNG, or PGM/PPM when the path ends in .pgm/.ppm/.pnm; atomically. */
export async function writeImageFile(path: string, img: RawImage): Promise<number> {
  const bytes = /\.(pgm|ppm|pnm)$/i.test(path) ? encodePnm(img) : encodePng(img);
  await writeFileAtomic(path, [bytes]);
  return bytes.length;
}
