// Cuts the natural photographs of Debian's mate-backgrounds into fixed 64×64 patches for the image
// codec: each JPEG is decoded and downscaled by libjpeg-turbo's `djpeg -scale k/8` (the smallest k
// that keeps the width ≥ 640, so patches hold photo detail rather than 4K smoothness), then cut on a
// grid — stride 32 for training images, 64 (disjoint) for held-out ones. The split is by source image.
// Writes <out>/photo-rgb64-{train,heldout}.u8 (patches back to back, RGB interleaved, 64·64·3 bytes
// each) and the manifest (source, sha256, scale, patch coordinates) to scripts/image-patches.json.
// With --check it only verifies that the installed sources still match the manifest's sha256.
// Usage: node dist/scripts/make-image-patches.js [--out results/cache/image-patches] [--check]
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parsePnm } from '../src/image/pnm.js';
import { crop, type RawImage } from '../src/image/raw.js';

export const PATCH = 64;
const MIN_WIDTH = 640;
const ROOT = '/usr/share/backgrounds/mate';
/** The photographs (landscape, macro, animals) of mate-backgrounds; the rest are drawings. */
const SOURCES = [
  'nature/Aqua.jpg',
  'nature/Blinds.jpg',
  'nature/Dune.jpg',
  'nature/FreshFlower.jpg',
  'nature/Garden.jpg',
  'nature/GreenMeadow.jpg',
  'nature/LadyBird.jpg',
  'nature/RainDrops.jpg',
  'nature/Storm.jpg',
  'nature/TwoWings.jpg',
  'nature/Wood.jpg',
  'nature/YellowFlower.jpg',
  'abstract/Elephants.jpg',
];
/** Never trained on: the bench reports on these. */
const HELDOUT = new Set(['nature/Dune.jpg', 'nature/LadyBird.jpg', 'nature/Storm.jpg']);
export const MANIFEST = 'scripts/image-patches.json';
export const DEFAULT_PATCH_DIR = 'results/cache/image-patches';

interface SourceEntry {
  file: string;
  sha256: string;
  split: 'train' | 'heldout';
  scale: string;
  width: number;
  height: number;
  patches: [number, number][];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function decodeScaled(path: string, origWidth: number): { img: RawImage; scale: string } {
  let k = 1;
  while (k < 8 && Math.floor((origWidth * k) / 8) < MIN_WIDTH) k++;
  const scale = `${k}/8`;
  const ppm = execFileSync('djpeg', ['-scale', scale, '-pnm', path], { maxBuffer: 1 << 28 });
  return { img: parsePnm(new Uint8Array(ppm), path), scale };
}

function jpegWidth(path: string): number {
  const out = execFileSync('djpeg', ['-scale', '1/8', '-pnm', path], { maxBuffer: 1 << 26 });
  return parsePnm(new Uint8Array(out), path).width * 8;
}

function atomicWrite(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

function main(): void {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 ? args[outIdx + 1]! : DEFAULT_PATCH_DIR;
  const check = args.includes('--check');
  const entries: SourceEntry[] = [];
  const buffers: Record<'train' | 'heldout', Uint8Array[]> = { train: [], heldout: [] };
  for (const rel of SOURCES) {
    const path = join(ROOT, rel);
    if (!existsSync(path)) throw new Error(`make-image-patches: ${path} is missing: apt-get install mate-backgrounds`);
    const bytes = new Uint8Array(readFileSync(path));
    const split = HELDOUT.has(rel) ? 'heldout' : 'train';
    const { img, scale } = decodeScaled(path, jpegWidth(path));
    const stride = split === 'train' ? PATCH / 2 : PATCH;
    const patches: [number, number][] = [];
    for (let y = 0; y + PATCH <= img.height; y += stride) {
      for (let x = 0; x + PATCH <= img.width; x += stride) {
        patches.push([x, y]);
        buffers[split].push(crop(img, x, y, PATCH, PATCH).data);
      }
    }
    entries.push({ file: `${basename(ROOT)}/${rel}`, sha256: sha256(bytes), split, scale, width: img.width, height: img.height, patches });
    console.log(`${rel}: ${img.width}x${img.height} (scale ${scale}), ${patches.length} ${split} patches`);
  }
  if (check) {
    const old = JSON.parse(readFileSync(MANIFEST, 'utf8')) as { sources: SourceEntry[] };
    const bad = old.sources.filter((s, i) => entries[i]?.sha256 !== s.sha256 || entries[i]?.patches.length !== s.patches.length);
    if (bad.length) throw new Error(`make-image-patches: sources differ from ${MANIFEST}: ${bad.map((b) => b.file).join(', ')}`);
    console.log(`all ${entries.length} sources match ${MANIFEST}`);
    return;
  }
  mkdirSync(out, { recursive: true });
  for (const split of ['train', 'heldout'] as const) {
    const all = new Uint8Array(buffers[split].length * PATCH * PATCH * 3);
    buffers[split].forEach((b, i) => all.set(b, i * b.length));
    atomicWrite(join(out, `photo-rgb64-${split}.u8`), all);
    console.log(`${split}: ${buffers[split].length} patches -> ${join(out, `photo-rgb64-${split}.u8`)}`);
  }
  const manifest = { patch: PATCH, channels: 3, layout: 'patches back to back, 64x64 RGB interleaved, in manifest order', sources: entries };
  atomicWrite(
    MANIFEST,
    JSON.stringify(manifest, (_k, v) => (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' ? `${v[0]},${v[1]}` : v), 1) + '\n',
  );
}

if (process.argv[1]?.endsWith('make-image-patches.js')) main();
