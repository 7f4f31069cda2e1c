// `npm run bench -- images`: rate–distortion of slimgpu's learned image codec beside JPEG (cjpeg),
// WebP (cwebp) and AVIF (avifenc) on held-out photo patches (scripts/make-image-patches.ts) and
// Fashion-MNIST test images; BD-rates (Bjøntegaard, PSNR) against each; lossless sizes of the photo
// patches with optipng -o7, WebP lossless and JPEG XL. Writes JSON and an SVG plot next to it.
//   node dist/bench/index.js images [--photos N] [--fashion N] [--out results/images.json] [--no-lossless]
// bpp = 8·file bytes / pixels (whole files: every codec's headers count); PSNR is the mean over
// images of the per-image PSNR (8-bit, all channels), bpp the mean of per-image bpp.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createGpu } from '../src/gpu/device.js';
import { ImageCodec } from '../src/image/codec.js';
import { IMAGE_PRESETS, modelForQuality, presetQualities } from '../src/image/model.js';
import { loadImageModel } from '../src/image/node.js';
import { deepCompressModel, storedSize, type DeepCompressReport } from '../src/image/deep-compress.js';
import { psnr, type RawImage } from '../src/image/raw.js';
import { bdRate, psnrMargins, rdSvg, type RdCurve, type RdPoint } from './images-metrics.js';
import { AVIF_QUANTIZERS, avif, jpeg, jpegData, JPEG_QUALITIES, lossless, webp, WEBP_QUALITIES, type Coded } from './images-tools.js';

const USAGE = `usage: node dist/bench/index.js images [--photos N] [--fashion N] [--out FILE.json] [--no-lossless]
  --photos N     held-out 64x64 photo patches, evenly spaced (default 24; results/cache/image-patches from
                 node dist/scripts/make-image-patches.js)
  --fashion N    Fashion-MNIST test images (default 40)
  --out FILE     JSON output (default results/images.json); the SVG plot goes next to it (.svg)
  --no-lossless  skip optipng / WebP lossless / JPEG XL
  --deep-compress S,B  Deep Compression of one λ member (img:photo-3, img:fashion-3): dense, every layer
                 pruned to sparsity S and shared with B bits without retraining (default 0.3,6), and the
                 retrained -dc preset (python/image_codec.py --prune/--share-bits); 'none' to skip`;

/** The λ member whose Deep Compression is measured (its pruned + shared + retrained twin is the `-dc` preset). */
const DC_MEMBER = { photo: 'img:photo-3', fashion: 'img:fashion-3' };
const PATCH_FILE = 'results/cache/image-patches/photo-rgb64-heldout.u8';
const FASHION_TEST = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';

function evenly<T>(all: T[], n: number): T[] {
  if (n >= all.length) return all;
  return Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
}

function photoPatches(n: number): RawImage[] {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(readFileSync(PATCH_FILE));
  } catch {
    throw new Error(`images: ${PATCH_FILE} is missing: run node dist/scripts/make-image-patches.js (needs mate-backgrounds)`);
  }
  const size = 64 * 64 * 3;
  const all = Array.from({ length: raw.length / size }, (_, i) => ({
    width: 64,
    height: 64,
    channels: 3,
    data: raw.subarray(i * size, (i + 1) * size),
  }));
  return evenly(all, n);
}

function fashionImages(n: number): RawImage[] {
  const raw = new Uint8Array(gunzipSync(readFileSync(FASHION_TEST)));
  const all = Array.from({ length: (raw.length - 16) / 784 }, (_, i) => ({
    width: 28,
    height: 28,
    channels: 1,
    data: raw.subarray(16 + i * 784, 16 + (i + 1) * 784),
  }));
  return evenly(all, n);
}

/** Mean bpp and PSNR over the images for each setting of one codec. */
function curve(
  codec: string,
  images: RawImage[],
  settings: number[],
  run: (img: RawImage, s: number) => Coded,
  label: (s: number) => string,
): RdCurve {
  const points: RdPoint[] = settings.map((s) => {
    let bpp = 0,
      p = 0;
    for (const img of images) {
      const c = run(img, s);
      bpp += (8 * c.bytes) / (img.width * img.height);
      p += Math.min(psnr(img.data, c.decoded.data), 100);
    }
    return { bpp: bpp / images.length, psnr: p / images.length, setting: label(s) };
  });
  return { codec, points };
}

async function slimgpuCurve(
  codec: ImageCodec,
  images: RawImage[],
  name = 'slimgpu',
  modelId?: string,
): Promise<{ curve: RdCurve; encodeMs: number; decodeMs: number }> {
  const points: RdPoint[] = [];
  let encodeMs = 0,
    decodeMs = 0;
  // the codec's default when no model is named (img:dct for RGB, img:dct-g2 for grayscale)
  const id = modelId ?? (images[0]!.channels === 3 ? 'img:dct' : 'img:dct-g2'),
    levels = presetQualities(id);
  for (let quality = 1; quality <= levels; quality++) {
    let bpp = 0,
      p = 0;
    for (const img of images) {
      const t0 = performance.now();
      const bytes = await codec.compress(img, { quality, modelId });
      const t1 = performance.now();
      const out = await codec.decompress(bytes);
      decodeMs += performance.now() - t1;
      encodeMs += t1 - t0;
      bpp += (8 * bytes.length) / (img.width * img.height);
      p += Math.min(psnr(img.data, out.data), 100);
    }
    const m = modelForQuality(id, quality);
    const step = (await loadImageModel(m.member)).steps[m.index]!;
    points.push({ bpp: bpp / images.length, psnr: p / images.length, setting: `quality ${quality} (${m.member}, step ${step.toFixed(2)})` });
  }
  const n = images.length * levels;
  return { curve: { codec: name, points }, encodeMs: encodeMs / n, decodeMs: decodeMs / n };
}

async function rdSet(
  title: string,
  images: RawImage[],
  codec: ImageCodec,
  dir: string,
  log: (s: string) => void,
  dc?: { codec: ImageCodec; name: string; member: string },
) {
  const ours = await slimgpuCurve(codec, images);
  log(`${title}: slimgpu ${ours.curve.points.map((p) => `${p.bpp.toFixed(2)}/${p.psnr.toFixed(1)}`).join(' ')}`);
  // Deep Compression of one λ member: dense, pruned + shared post hoc, pruned + shared with retraining (its -dc preset)
  const dcCurves = dc
    ? [
        (await slimgpuCurve(codec, images, `slimgpu ${dc.member} dense`, dc.member)).curve,
        (await slimgpuCurve(dc.codec, images, `${dc.name} (${dc.member}, no retraining)`, dc.member)).curve,
        (await slimgpuCurve(codec, images, `slimgpu ${dc.member}-dc (pruned + shared, retrained)`, `${dc.member}-dc`)).curve,
      ]
    : [];
  for (const c of dcCurves) log(`${title}: ${c.codec} ${c.points.map((p) => `${p.bpp.toFixed(2)}/${p.psnr.toFixed(1)}`).join(' ')}`);
  const others = [
    curve(
      'JPEG (cjpeg -optimize)',
      images,
      JPEG_QUALITIES,
      (im, q) => jpeg(dir, im, q),
      (q) => `-quality ${q}`,
    ),
    curve(
      'WebP (cwebp -m 6)',
      images,
      WEBP_QUALITIES,
      (im, q) => webp(dir, im, q),
      (q) => `-q ${q}`,
    ),
    curve(
      'AVIF (avifenc -s 6)',
      images,
      AVIF_QUANTIZERS,
      (im, q) => avif(dir, im, q),
      (q) => `--min/--max ${q}`,
    ),
    curve(
      'JPEG data only (headers and tables not counted)',
      images,
      JPEG_QUALITIES,
      (im, q) => jpegData(dir, im, q),
      (q) => `-quality ${q}`,
    ),
  ];
  for (const c of others) log(`${title}: ${c.codec} ${c.points.map((p) => `${p.bpp.toFixed(2)}/${p.psnr.toFixed(1)}`).join(' ')}`);
  let llBits = 0;
  for (const img of images) {
    const b = await codec.compress(img, { lossless: true });
    const back = await codec.decompress(b);
    if (!back.data.every((v, i) => v === img.data[i])) throw new Error('images: slimgpu --lossless did not give back the image exactly');
    llBits += (8 * b.length) / (img.width * img.height);
  }
  const losslessBpp = llBits / images.length;
  log(`${title}: slimgpu --lossless ${losslessBpp.toFixed(3)} bpp`);
  const bd = Object.fromEntries(others.map((c) => [c.codec, bdRate(c.points, ours.curve.points) ?? null]));
  return {
    title,
    images: images.length,
    width: images[0]!.width,
    height: images[0]!.height,
    channels: images[0]!.channels,
    slimgpuLosslessBpp: losslessBpp,
    encodeMsPerImage: ours.encodeMs,
    decodeMsPerImage: ours.decodeMs,
    curves: [ours.curve, ...others, ...dcCurves],
    bdRate: bd,
    bdRateDeepCompressedVsDense: dc
      ? {
          noRetraining: bdRate(dcCurves[0]!.points, dcCurves[1]!.points) ?? null,
          retrained: bdRate(dcCurves[0]!.points, dcCurves[2]!.points) ?? null,
        }
      : undefined,
  };
}

/** Lossless bytes of the photo patches: slimgpu --lossless (checked exact), optipng -o7, WebP lossless, JPEG XL. */
async function losslessSizes(codec: ImageCodec, photos: RawImage[], dir: string, log: (s: string) => void): Promise<Record<string, number>> {
  const ll = { raw: 0, slimgpu_lossless: 0, png_optipng_o7: 0, webp_lossless: 0, jxl_d0: 0 };
  for (const img of photos) {
    const mine = await codec.compress(img, { lossless: true });
    const back = await codec.decompress(mine);
    if (!back.data.every((v, i) => v === img.data[i])) throw new Error('images: slimgpu --lossless did not give back the image exactly');
    ll.slimgpu_lossless += mine.length;
    const s = lossless(dir, img);
    ll.raw += img.data.length;
    ll.png_optipng_o7 += s.png;
    ll.webp_lossless += s.webp;
    ll.jxl_d0 += s.jxl;
  }
  log(`lossless, ${photos.length} photo patches: ${JSON.stringify(ll)}; slimgpu / optipng = ${(ll.slimgpu_lossless / ll.png_optipng_o7).toFixed(3)}`);
  return ll;
}

/** Every model file's decoder size: as stored (f32 synthesis + tables) and in Han's format (storedSize). */
async function modelSizes(): Promise<Record<string, unknown>> {
  const ids = Object.keys(IMAGE_PRESETS).filter((id) => IMAGE_PRESETS[id]!.file);
  return Object.fromEntries(
    await Promise.all(
      ids.map(async (id) => {
        const m = await loadImageModel(id).catch((e: Error) => e);
        if (m instanceof Error) return [id, { missing: m.message }];
        return [id, { about: IMAGE_PRESETS[id]!.about, decoderBytes: m.decoderBytes, decoderBytesHan: storedSize(m) }];
      }),
    ),
  );
}

export async function main(argv: string[]): Promise<number> {
  const a = { photos: 24, fashion: 40, out: 'results/images.json', lossless: true, deep: '0.3,6' };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--photos') a.photos = Number(argv[++i]);
    else if (x === '--fashion') a.fashion = Number(argv[++i]);
    else if (x === '--out') a.out = argv[++i]!;
    else if (x === '--no-lossless') a.lossless = false;
    else if (x === '--deep-compress') a.deep = argv[++i]!;
    else {
      console.error(x === '--help' || x === '-h' ? USAGE : `images: unknown argument '${x}'\n${USAGE}`);
      return x === '--help' || x === '-h' ? 0 : 2;
    }
  }
  if (!(a.photos >= 0) || !(a.fashion >= 0)) {
    console.error(USAGE);
    return 2;
  }
  const log = (s: string) => console.error(s);
  const dir = mkdtempSync(join(tmpdir(), 'slimgpu-images-'));
  const gpu = await createGpu();
  const codec = new ImageCodec(gpu, loadImageModel);
  const [sp, bits] = a.deep === 'none' ? [NaN, NaN] : a.deep.split(',').map(Number);
  const dcReports: Record<string, DeepCompressReport> = {};
  const dc =
    Number.isFinite(sp) && Number.isFinite(bits)
      ? {
          name: `slimgpu pruned ${sp} + ${bits}-bit shared`,
          member: '',
          codec: new ImageCodec(gpu, async (id) => {
            const r = deepCompressModel(await loadImageModel(id), { sparsity: sp!, bits: bits! });
            dcReports[id] = r.report;
            return r.model;
          }),
        }
      : undefined;
  try {
    const sets = [];
    const photos = a.photos > 0 ? photoPatches(a.photos) : [];
    if (photos.length) sets.push(await rdSet('held-out photo patches 64x64 RGB', photos, codec, dir, log, dc && { ...dc, member: DC_MEMBER.photo }));
    if (a.fashion > 0)
      sets.push(await rdSet('Fashion-MNIST test 28x28 gray', fashionImages(a.fashion), codec, dir, log, dc && { ...dc, member: DC_MEMBER.fashion }));
    const ll = a.lossless && photos.length ? await losslessSizes(codec, photos, dir, log) : undefined;
    const fashionMargins = sets[1] ? psnrMargins(sets[1].curves[1]!.points, sets[1].curves[0]!.points, 0.5, sets[1].slimgpuLosslessBpp) : undefined;
    const fashionDataOnly = sets[1] ? psnrMargins(sets[1].curves[4]!.points, sets[1].curves[0]!.points, 0.5, sets[1].slimgpuLosslessBpp) : undefined;
    const models = await modelSizes();
    const result = {
      bench: 'images',
      date: new Date().toISOString(),
      adapter: gpu.info.description || gpu.info.device,
      models,
      deepCompression: dcReports,
      sets,
      fashionVsJpegAtOrAbove05bpp: fashionMargins,
      fashionVsJpegDataOnlyAtOrAbove05bpp: fashionDataOnly,
      lossless: ll,
    };
    mkdirSync(dirname(a.out), { recursive: true });
    const svg = a.out.replace(/\.json$/, '') + '.svg';
    for (const [f, text] of [
      [a.out, JSON.stringify(result, null, 1) + '\n'],
      [svg, rdSvg(sets.map((s) => ({ title: s.title, curves: s.curves })))],
    ] as const) {
      writeFileSync(`${f}.tmp`, text);
      renameSync(`${f}.tmp`, f);
    }
    for (const s of sets)
      for (const [k, v] of Object.entries(s.bdRate))
        log(`${s.title}: BD-rate vs ${k}: ${v ? `${v.bdRate.toFixed(1)}% over ${v.psnrFrom.toFixed(1)}-${v.psnrTo.toFixed(1)} dB` : 'no overlap'}`);
    log(`wrote ${a.out} and ${svg}`);
    return 0;
  } finally {
    codec.dispose();
    dc?.codec.dispose();
    gpu.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
