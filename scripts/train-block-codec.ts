// Fits an img:dct model (src/image/block-model.ts) to training images and measures it on held-out ones
// against JPEG's entropy-coded data (cjpeg -optimize, headers stripped) — CPU only, no GPU needed:
//   node dist/scripts/train-block-codec.js photo|fashion|fashion2 [--out FILE] [--eval N] [--every K] [--no-write]
//     [--round R] [--recon D] [--tail T] [--iso T] [--chroma F] [--n0 N] [--deblock S (default −1: fitted per quality)]
//     [--pad edge|mirror (default: mirror for fashion2)] [--steps s1,s2,… (finest first; 1..15 qualities)]
// fashion2 = img:dct-g2 (15 qualities, mirrored padding, dead zone 0.35); it also prints, for each of
// JPEG's data-only points ≥ 0.5 bpp, our best point at or below its rate minus JPEG's PSNR.
// What is learned: the colour transform (principal axes of the training pixels), the initial
// state (P(1), count) of every context of the block coder at each quality (counts over the training
// images: the learned prior), and the deblocking strength of each quality (best training PSNR). Runs in about a minute; a rerun recomputes everything (nothing to resume).
import { readFileSync, mkdirSync, existsSync, writeFileSync, renameSync, mkdtempSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_CONTEXT_KINDS, BLOCK_CONTEXTS, BlockCounter, BlockEncoder, codeBlocks, RATE_LIMIT } from '../src/image/block-coder.js';
import { blockDequantise, blockQuantise, serializeBlockModel, type BlockModel } from '../src/image/block-model.js';
import { blockAnalysisFast, blockSynthesisCpu, blockWeights, principalColours, COEFS } from '../src/image/block-transform.js';
import { deblock } from '../src/image/deblock.js';
import { padEdge, padMirror } from '../src/image/block-pad.js';
import { psnr, type RawImage } from '../src/image/raw.js';
import { writeSlimg } from '../src/image/slimg.js';
import { bdRate, psnrMargins, type RdPoint } from '../bench/images-metrics.js';
import { jpegData, JPEG_QUALITIES } from '../bench/images-tools.js';

const PATCHES = 'results/cache/image-patches/photo-rgb64-';
const FASHION = '/usr/share/datasets/fashion-mnist/';

/** Preset → training set, held-out set, model id (header bytes count), quantisation steps (finest first). */
const SETS = {
  photo: { id: 'img:dct', steps: [0.025, 0.038, 0.059, 0.09, 0.139, 0.213, 0.326, 0.5], out: 'models/img/dct.safetensors' },
  fashion: { id: 'img:dct-g', steps: [0.01, 0.016, 0.025, 0.04, 0.063, 0.1, 0.16, 0.25], out: 'models/img/dct-g.safetensors' },
  // img:dct-g2: 15 qualities, steps geometric from 0.4 down to 0.01 (ratio ≈ 1.30), mirrored padding, dead zone 0.35
  fashion2: { id: 'img:dct-g2', steps: geometric(0.01, 0.4, 15), out: 'models/img/dct-g2.safetensors', round: 0.35 },
};

/** n steps from lo (finest) to hi, geometric, rounded to 4 significant digits. */
function geometric(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Number((lo * (hi / lo) ** (i / (n - 1))).toPrecision(4)));
}

function patches(split: string): RawImage[] {
  const raw = new Uint8Array(readFileSync(`${PATCHES}${split}.u8`)),
    size = 64 * 64 * 3;
  return Array.from({ length: raw.length / size }, (_, i) => ({ width: 64, height: 64, channels: 3, data: raw.subarray(i * size, (i + 1) * size) }));
}

function fashion(file: string, n: number, every = 1): RawImage[] {
  const raw = new Uint8Array(gunzipSync(readFileSync(FASHION + file)));
  const count = (raw.length - 16) / 784;
  return Array.from({ length: n }, (_, i) => {
    const j = Math.floor((i * count) / n / every) * every;
    return { width: 28, height: 28, channels: 1, data: raw.subarray(16 + j * 784, 16 + (j + 1) * 784) };
  });
}

/** Planar [0, 1], edge-padded to multiples of 8. */
export function planar(img: RawImage, mirror = false): { x: Float32Array; h: number; w: number } {
  const h = Math.ceil(img.height / 8) * 8,
    w = Math.ceil(img.width / 8) * 8,
    c = img.channels,
    x = new Float32Array(c * h * w);
  const pad = mirror ? padMirror : padEdge;
  for (let k = 0; k < c; k++)
    for (let r = 0; r < h; r++)
      for (let q = 0; q < w; q++) x[(k * h + r) * w + q] = img.data[(pad(r, img.height) * img.width + pad(q, img.width)) * c + k]! / 255;
  return { x, h, w };
}

function toImage(x: Float32Array, img: RawImage, h: number, w: number): Uint8Array {
  const c = img.channels,
    out = new Uint8Array(img.data.length);
  for (let k = 0; k < c; k++)
    for (let r = 0; r < img.height; r++)
      for (let q = 0; q < img.width; q++) out[(r * img.width + q) * c + k] = Math.min(255, Math.max(0, Math.round(x[(k * h + r) * w + q]! * 255)));
  return out;
}

interface Coefs {
  y: Float32Array;
  h: number;
  w: number;
  img: RawImage;
}

function analyse(images: RawImage[], colour: Float32Array, planes: number, mirror: boolean): Coefs[] {
  return images.map((img) => {
    const { x, h, w } = planar(img, mirror);
    return { y: blockAnalysisFast(x, colour, planes, h, w), h, w, img };
  });
}

function fitInit(train: Coefs[], m: BlockModel, qi: number, n0: number): void {
  const flat = { p: new Uint16Array(BLOCK_CONTEXTS).fill(32768), n: new Uint8Array(BLOCK_CONTEXTS) };
  const c = new BlockCounter(flat);
  for (const t of train) {
    const plane = (t.h / 8) * (t.w / 8);
    codeBlocks(c, blockQuantise(t.y, m, qi, plane), m.planes, t.h / 8, t.w / 8);
  }
  const p = new Uint16Array(BLOCK_CONTEXTS),
    n = new Uint8Array(BLOCK_CONTEXTS);
  for (let i = 0; i < BLOCK_CONTEXTS; i++) {
    const tot = c.ones[i]! + c.zeros[i]!;
    p[i] = Math.min(65535, Math.max(1, Math.round((65536 * (c.ones[i]! + 0.4)) / (tot + 0.8))));
    n[i] = Math.min(RATE_LIMIT, n0, Math.floor(tot / 4));
  }
  m.init[qi] = { p, n };
}

/** The deblocking strength (per quality) that maximises the mean PSNR on training images (the rate does not depend on it). */
function fitDeblock(train: Coefs[], m: BlockModel, qi: number, weights: Float32Array): number {
  const cands = [0, 0.5, 1, 1.5, 2, 2.5, 3, 4],
    score = new Float64Array(cands.length);
  for (const t of train) {
    const bh = t.h / 8,
      bw = t.w / 8,
      plane = bh * bw;
    const x = blockSynthesisCpu(blockDequantise(blockQuantise(t.y, m, qi, plane), m, qi, plane), m.planes, bh, bw, weights);
    for (const [j, sv] of cands.entries()) {
      const xx = x.slice();
      deblock(xx, m.planes, t.h, t.w, (sv * m.steps[qi]!) / 4);
      score[j]! += Math.min(100, psnr(t.img.data, toImage(xx, t.img, t.h, t.w)));
    }
  }
  return cands[score.indexOf(Math.max(...score))]!;
}

/** One quality on held-out images: mean bpp (whole .slimg file) and mean PSNR. */
function evalQuality(test: Coefs[], m: BlockModel, qi: number, id: string, weights: Float32Array): RdPoint {
  const levels = m.steps.length;
  let bpp = 0,
    ps = 0;
  for (const t of test) {
    const bh = t.h / 8,
      bw = t.w / 8,
      plane = bh * bw;
    const q = blockQuantise(t.y, m, qi, plane);
    const enc = new BlockEncoder(m.init[qi]!);
    codeBlocks(enc, q, m.planes, bh, bw);
    const payload = enc.enc.finish();
    const file = writeSlimg({ modelId: id, quality: levels - qi, channels: m.planes, width: t.img.width, height: t.img.height, tile: 256 }, payload);
    bpp += (8 * file.length) / (t.img.width * t.img.height);
    const x = blockSynthesisCpu(blockDequantise(q, m, qi, plane), m.planes, bh, bw, weights);
    deblock(x, m.planes, t.h, t.w, (m.deblock[qi]! * m.steps[qi]!) / 4);
    const back = toImage(x, t.img, t.h, t.w);
    ps += Math.min(100, psnr(t.img.data, back));
  }
  return { bpp: bpp / test.length, psnr: ps / test.length, setting: '' };
}

function jpegCurve(name: string, images: RawImage[]): RdPoint[] {
  const cache = `results/cache/jpeg-data-${name}-${images.length}.json`;
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as RdPoint[];
  const dir = mkdtempSync(join(tmpdir(), 'slimgpu-blk-'));
  const pts = JPEG_QUALITIES.map((q) => {
    let bpp = 0,
      p = 0;
    for (const img of images) {
      const c = jpegData(dir, img, q);
      bpp += (8 * c.bytes) / (img.width * img.height);
      p += Math.min(100, psnr(img.data, c.decoded.data));
    }
    return { bpp: bpp / images.length, psnr: p / images.length, setting: `-quality ${q}` };
  });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync('results/cache', { recursive: true });
  writeFileSync(cache, JSON.stringify(pts));
  return pts;
}

function main(argv: string[]): number {
  const which = argv[0] as keyof typeof SETS;
  if (!SETS[which]) {
    console.error(
      'usage: node dist/scripts/train-block-codec.js photo|fashion|fashion2 [--out FILE] [--eval N] [--every K] [--no-write] [--round R] [--recon D] [--tail T] [--iso T] [--chroma F] [--n0 N] [--deblock S] [--pad edge|mirror] [--steps s1,s2,...]',
    );
    return 2;
  }
  const set = { ...SETS[which] };
  const opt = {
    out: set.out,
    pad: '',
    eval: 0,
    round: 'round' in set ? set.round : 0.3,
    recon: 0.1,
    n0: 12,
    write: true,
    every: 1,
    tail: 1.3,
    iso: 1.0,
    chroma: 1,
    deblock: -1,
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--no-write') opt.write = false;
    else if (a === '--out') opt.out = argv[++i]!;
    else if (a === '--pad') opt.pad = argv[++i]!;
    else if (a === '--steps') set.steps = argv[++i]!.split(',').map(Number);
    else if (['--eval', '--round', '--recon', '--n0', '--every', '--tail', '--iso', '--chroma', '--deblock'].includes(a))
      opt[a.slice(2) as 'eval'] = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  const levels = set.steps.length,
    mirror = opt.pad === 'mirror' || (opt.pad === '' && which === 'fashion2');
  const t0 = performance.now();
  const trainImgs = which === 'photo' ? patches('train') : fashion('train-images-idx3-ubyte.gz', 4000);
  const testImgs = which === 'photo' ? patches('heldout') : fashion('t10k-images-idx3-ubyte.gz', opt.eval || 500);
  const test = which === 'photo' && opt.eval ? testImgs.filter((_, i) => i % Math.ceil(testImgs.length / opt.eval) === 0) : testImgs;
  const planes = which === 'photo' ? 3 : 1;
  const colour =
    planes === 3
      ? Float32Array.from(principalColours(Float32Array.from(trainImgs.flatMap((im) => Array.from(im.data.subarray(0, 3 * 512))))))
      : Float32Array.of(1);
  const weights = blockWeights(colour, planes);
  const m: BlockModel = {
    planes,
    colour,
    steps: Float32Array.from(set.steps),
    round: new Float32Array(levels).fill(opt.round),
    recon: new Float32Array(levels).fill(opt.recon),
    tail: new Float32Array(levels).fill(opt.tail),
    iso: new Float32Array(levels).fill(opt.iso),
    chroma: new Float32Array(levels).fill(opt.chroma),
    deblock: new Float32Array(levels).fill(opt.deblock),
    init: [],
    mirror,
  };
  const tr = analyse(
      trainImgs.filter((_, i) => i % opt.every === 0),
      colour,
      planes,
      mirror,
    ),
    te = analyse(test, colour, planes, mirror);
  const curve: RdPoint[] = [];
  for (let qi = levels - 1; qi >= 0; qi--) {
    fitInit(tr, m, qi, opt.n0);
    if (opt.deblock < 0)
      m.deblock[qi] = fitDeblock(
        tr.filter((_, i) => i % Math.ceil(tr.length / 300) === 0),
        m,
        qi,
        weights,
      );
    const pt = evalQuality(te, m, qi, set.id, weights);
    curve.push({ ...pt, setting: `quality ${levels - qi} (step ${(m.steps[qi]! * 255).toFixed(1)}/255, deblock ${m.deblock[qi]})` });
  }
  // where the bits go at the middle quality
  const mid = new BlockCounter(m.init[4]!);
  for (const t of te) codeBlocks(mid, blockQuantise(t.y, m, 4, (t.h * t.w) / 64), m.planes, t.h / 8, t.w / 8);
  const kinds = Object.entries(BLOCK_CONTEXT_KINDS).map(([k, v], i, a) => [k, v, a[i + 1]?.[1] ?? BLOCK_CONTEXTS] as const);
  console.log(
    `bits at quality 4: ${kinds.map(([k, a, b]) => `${k} ${((mid.cost.subarray(a, b).reduce((x, y) => x + y, 0) / mid.bits) * 100).toFixed(1)}%`).join(', ')}`,
  );
  const jp = jpegCurve(which, test);
  const bd = bdRate(jp, curve);
  console.log(
    `colour ${Array.from(colour, (v) => v.toFixed(3)).join(' ')}; ${tr.length} train, ${te.length} held-out; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  console.log(`ours : ${curve.map((p) => `${p.bpp.toFixed(3)}/${p.psnr.toFixed(2)}`).join(' ')}`);
  console.log(`deblock per quality index 7..0: ${Array.from(m.deblock).reverse().join(' ')}`);
  console.log(`jpeg data: ${jp.map((p) => `${p.bpp.toFixed(3)}/${p.psnr.toFixed(2)}`).join(' ')}`);
  const worst = psnrMargins(jp, curve, 0.5)
    .map((p) => (typeof p.margin === 'number' ? `${p.bpp.toFixed(2)}:${p.margin >= 0 ? '+' : ''}${p.margin.toFixed(2)}` : `${p.bpp.toFixed(2)}:none`))
    .join(' ');
  console.log(`vs JPEG data at each of its points >= 0.5 bpp (our best point within its rate, dB): ${worst}`);
  console.log(
    `BD-rate vs JPEG data only: ${bd ? `${bd.bdRate.toFixed(1)}% over ${bd.psnrFrom.toFixed(1)}-${bd.psnrTo.toFixed(1)} dB` : 'no overlap'}`,
  );
  if (opt.write) {
    writeFileSync(`${opt.out}.tmp`, serializeBlockModel(m, { about: `scripts/train-block-codec.ts ${argv.join(' ')}`, coefs: String(COEFS) }));
    renameSync(`${opt.out}.tmp`, opt.out);
    console.log(`wrote ${opt.out}`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
