// `slimgpu image compress IN.(png|jpg|pgm|ppm) -o OUT.slimg --quality q` and
// `slimgpu image decompress OUT.slimg -o OUT.png`: the learned lossy image codec (src/image).
// Output is written atomically, and only after everything succeeded.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { createGpu } from '../gpu/device.js';
import { writeFileAtomic } from '../io/files.js';
import { DEFAULT_QUALITY, DEFAULT_TILE, ImageCodec } from '../image/codec.js';
import { readImageFile, writeImageFile } from '../image/files.js';
import { IMAGE_PRESETS } from '../image/model.js';
import { loadImageModel } from '../image/node.js';
import { ImageError, psnr } from '../image/raw.js';
import { readSlimg } from '../image/slimg.js';

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min || x > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${v}'`);
    return x;
  };
}

async function withCodec<T>(fn: (codec: ImageCodec) => Promise<T>): Promise<T> {
  const gpu = await createGpu();
  const codec = new ImageCodec(gpu, loadImageModel);
  try {
    return await fn(codec);
  } finally {
    codec.dispose();
    gpu.destroy();
  }
}

interface CompressFlags {
  output?: string;
  quality?: number;
  model?: string;
  tile: number;
  lossless?: boolean;
  json?: boolean;
}

async function compressCommand(file: string, f: CompressFlags): Promise<void> {
  const out = f.output ?? `${file.replace(/\.(png|jpe?g|pgm|ppm|pnm)$/i, '')}.slimg`;
  const img = await readImageFile(file);
  const t0 = performance.now();
  const bytes = await withCodec((c) => c.compress(img, { quality: f.quality, modelId: f.model, tile: f.tile, lossless: f.lossless }));
  await writeFileAtomic(out, [bytes]);
  const summary = {
    input: file,
    output: out,
    width: img.width,
    height: img.height,
    channels: img.channels,
    quality: f.lossless ? 'lossless' : readSlimg(bytes).header.quality,
    bytes: bytes.length,
    bpp: (8 * bytes.length) / (img.width * img.height),
    seconds: (performance.now() - t0) / 1000,
  };
  if (f.json) console.log(JSON.stringify(summary));
  else
    console.error(
      `${file} (${img.width}x${img.height}x${img.channels}) -> ${out}: ${bytes.length} B, ${summary.bpp.toFixed(3)} bpp, ${f.lossless ? 'lossless' : `quality ${summary.quality}`}`,
    );
}

interface DecompressFlags {
  output?: string;
  reference?: string;
  json?: boolean;
}

async function decompressCommand(file: string, f: DecompressFlags): Promise<void> {
  const out = f.output ?? `${file.replace(/\.slimg$/i, '')}.png`;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new ImageError(`cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const img = await withCodec((c) => c.decompress(bytes, file));
  let quality: number | undefined;
  if (f.reference) {
    const ref = await readImageFile(f.reference);
    if (ref.width !== img.width || ref.height !== img.height || ref.channels !== img.channels)
      throw new ImageError(
        `--reference '${f.reference}' is ${ref.width}x${ref.height}x${ref.channels}, the decoded image ${img.width}x${img.height}x${img.channels}`,
      );
    quality = psnr(ref.data, img.data);
  }
  await writeImageFile(out, img);
  const summary = {
    input: file,
    output: out,
    width: img.width,
    height: img.height,
    channels: img.channels,
    bpp: (8 * bytes.length) / (img.width * img.height),
    psnr: quality,
  };
  if (f.json) console.log(JSON.stringify(summary));
  else
    console.error(`${file} -> ${out} (${img.width}x${img.height}x${img.channels})${quality !== undefined ? `, PSNR ${quality.toFixed(2)} dB` : ''}`);
}

export function addImageCommand(program: Command): void {
  const image = program.command('image').description('learned lossy image compression (.slimg)');
  image
    .command('compress')
    .description('compress a PNG, JPEG or PGM/PPM image into a .slimg file')
    .argument('<file>', 'the image')
    .option('-o, --output <file>', 'the .slimg file to write (default: FILE with .slimg)')
    .option(
      '-q, --quality <q>',
      `1 (smallest) .. 8 (best; 15 for img:dct-g2), default ${DEFAULT_QUALITY} (8 for img:dct-g2)`,
      int('--quality', 1, 15),
    )
    .addOption(
      new Option(
        '--model <id>',
        'image model (default: img:dct for RGB, img:dct-g2 for grayscale; img:photo / img:fashion: the Ballé ladders)',
      ).choices(Object.keys(IMAGE_PRESETS)),
    )
    .option('--tile <n>', `tile size in pixels, a multiple of 8 (default ${DEFAULT_TILE})`, int('--tile', 8, 4096), DEFAULT_TILE)
    .option('--lossless', 'code the pixels exactly (a causal pixel model mixed into the CM coder; CPU only)')
    .option('--json', 'print a JSON summary on stdout')
    .action(compressCommand);
  image
    .command('decompress')
    .description('decompress a .slimg file into a PNG (or PGM/PPM by the output name)')
    .argument('<file>', 'the .slimg file')
    .option('-o, --output <file>', 'the image to write (default: FILE with .png); written only after decoding succeeded')
    .option('--reference <image>', 'print the PSNR against this original')
    .option('--json', 'print a JSON summary on stdout')
    .action(decompressCommand);
}
