// The external codecs of `npm run bench -- images`, run on one image each through temp files:
// cjpeg/djpeg (libjpeg-turbo), cwebp/dwebp, avifenc/avifdec, and for lossless optipng -o7,
// cwebp -lossless, cjxl -d 0 (every lossless result is decoded and compared).
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, encodePng } from '../src/image/files.js';
import { encodePnm } from '../src/image/pnm.js';
import { toGray, type RawImage } from '../src/image/raw.js';

export function tool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error)
    throw new Error(`images: cannot run '${cmd}' (${(r.error as NodeJS.ErrnoException).code}): install it with scripts/setup-software-gpu.sh`);
  if (r.status !== 0) throw new Error(`images: ${cmd} ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
}

/** Decoded output as the input's channel count (codecs that always decode RGB: back to luma). */
function readBack(path: string, channels: number): RawImage {
  const img = decodeImage(new Uint8Array(readFileSync(path)), path);
  return channels === 1 && img.channels === 3 ? toGray(img) : img;
}

export interface Coded {
  bytes: number;
  decoded: RawImage;
}

/** Bytes of a baseline JPEG after its (single) SOS header: the entropy-coded data + EOI, headers and tables excluded. */
export function jpegDataBytes(jpg: Uint8Array): number {
  for (let i = 2; i + 3 < jpg.length;) {
    if (jpg[i] !== 0xff) throw new Error('images: JPEG marker expected');
    const marker = jpg[i + 1]!,
      len = (jpg[i + 2]! << 8) | jpg[i + 3]!;
    if (marker === 0xda) return jpg.length - (i + 2 + len);
    i += 2 + len;
  }
  throw new Error('images: no SOS marker in the JPEG');
}

export const JPEG_QUALITIES = [5, 15, 25, 35, 45, 55, 65, 75, 85, 95];
export const WEBP_QUALITIES = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
/** avifenc quantizers (0-63, lower is better). */
export const AVIF_QUANTIZERS = [60, 54, 48, 42, 36, 30, 24, 18, 12, 6];

export function jpeg(dir: string, img: RawImage, q: number): Coded {
  const src = join(dir, img.channels === 1 ? 'in.pgm' : 'in.ppm'),
    out = join(dir, 'out.jpg'),
    back = join(dir, 'back.pnm');
  writeFileSync(src, encodePnm(img));
  tool('cjpeg', ['-quality', String(q), '-optimize', '-outfile', out, src]);
  tool('djpeg', ['-pnm', '-outfile', back, out]);
  return { bytes: statSync(out).size, decoded: readBack(back, img.channels) };
}

/** JPEG counting only its entropy-coded data (what a container sharing the tables would store). */
export function jpegData(dir: string, img: RawImage, q: number): Coded {
  const c = jpeg(dir, img, q);
  return { bytes: jpegDataBytes(new Uint8Array(readFileSync(join(dir, 'out.jpg')))), decoded: c.decoded };
}

export function webp(dir: string, img: RawImage, q: number): Coded {
  const src = join(dir, 'in.png'),
    out = join(dir, 'out.webp'),
    back = join(dir, 'back.png');
  writeFileSync(src, encodePng(img));
  tool('cwebp', ['-quiet', '-q', String(q), '-m', '6', src, '-o', out]);
  tool('dwebp', ['-quiet', out, '-o', back]);
  return { bytes: statSync(out).size, decoded: readBack(back, img.channels) };
}

export function avif(dir: string, img: RawImage, q: number): Coded {
  const src = join(dir, 'in.png'),
    out = join(dir, 'out.avif'),
    back = join(dir, 'back.png');
  writeFileSync(src, encodePng(img));
  const yuv = img.channels === 1 ? ['--yuv', '400'] : ['--yuv', '444'];
  tool('avifenc', ['--min', String(q), '--max', String(q), '-s', '6', ...yuv, src, out]);
  tool('avifdec', [out, back]);
  return { bytes: statSync(out).size, decoded: readBack(back, img.channels) };
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Lossless sizes of one image: optipng -o7 PNG, WebP lossless (-z 9), JPEG XL (-d 0). */
export function lossless(dir: string, img: RawImage): { png: number; webp: number; jxl: number } {
  const png = join(dir, 'll.png'),
    wp = join(dir, 'll.webp'),
    jxl = join(dir, 'll.jxl');
  writeFileSync(png, encodePng(img));
  tool('optipng', ['-quiet', '-o7', png]);
  tool('cwebp', ['-quiet', '-lossless', '-z', '9', png, '-o', wp]);
  tool('cjxl', ['-d', '0', png, jxl]);
  for (const [f, dec] of [
    [wp, 'dwebp'],
    [jxl, 'djxl'],
  ] as const) {
    const back = join(dir, 'll-back.png');
    tool(dec, dec === 'dwebp' ? ['-quiet', f, '-o', back] : ['--quiet', f, back]);
    if (!same(readBack(back, img.channels).data, img.data)) throw new Error(`images: ${dec} did not give back the image exactly`);
  }
  return { png: statSync(png).size, webp: statSync(wp).size, jxl: statSync(jxl).size };
}
