// The image page (demo/image.html): an image (dropped, chosen, or generated) is compressed with the
// learned codec (src/image: ImageCodec) on WebGPU, decompressed in the page, and shown beside the
// browser's JPEG and WebP at the largest canvas.toBlob quality that fits in as many bytes, with bpp
// and PSNR under each and a 4× zoom of the centre. URL: sample=1, quality=q, gray=1, autostart=1.
// window.__image exposes the run for tests/image-page.test.ts; window.__imageDecodeLatents(bytes)
// decodes a .slimg's latents in the page (cross-device checks).
import { ImageCodec } from '../src/image/codec.js';
import { IMAGE_PRESETS, parseImageModel } from '../src/image/model.js';
import { psnr, toGray, type RawImage } from '../src/image/raw.js';
import { $, esc, fmtInt, numParam, showNotice, startGpu } from './page.js';
import photo1 from '../models/img/photo-1.safetensors?url';
import photo3 from '../models/img/photo-3.safetensors?url';
import fashion1 from '../models/img/fashion-1.safetensors?url';
import fashion3 from '../models/img/fashion-3.safetensors?url';
import dct from '../models/img/dct.safetensors?url';
import dctG from '../models/img/dct-g.safetensors?url';
import dctG2 from '../models/img/dct-g2.safetensors?url';

interface Row {
  codec: string;
  bytes: number;
  bpp: number;
  psnr: number;
}
interface ImageProbe {
  state: 'init' | 'nogpu' | 'ready' | 'running' | 'done' | 'error';
  rows: Row[];
  width?: number;
  height?: number;
  error?: string;
}
const probe: ImageProbe = { state: 'init', rows: [] };
const w = window as unknown as { __image: ImageProbe; __imageDecodeLatents?: (b: number[]) => Promise<number[]> };
w.__image = probe;

// the block codec (the default) and the λ members of the img:photo / img:fashion ladders (ImageCodec asks for the member a quality uses)
const URLS: Record<string, string> = {
  'img:dct': dct,
  'img:dct-g': dctG,
  'img:dct-g2': dctG2,
  'img:photo-1': photo1,
  'img:photo-3': photo3,
  'img:fashion-1': fashion1,
  'img:fashion-3': fashion3,
};
const resolveModel = async (id: string) => {
  if (!IMAGE_PRESETS[id] || !URLS[id]) throw new Error(`unknown image model '${id}'`);
  return parseImageModel(new Uint8Array(await (await fetch(URLS[id]!)).arrayBuffer()), id);
};

function sample(): RawImage {
  const n = 128,
    data = new Uint8Array(n * n * 3);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const r = Math.hypot(x - 70, y - 50);
      data.set([r < 30 ? 200 : 60 + x, 90 + 60 * Math.sin(x / 9) * Math.cos(y / 13), r < 30 ? 40 : 120 + y / 2], (y * n + x) * 3);
    }
  return { width: n, height: n, channels: 3, data };
}

function fromCanvas(ctx: CanvasRenderingContext2D, width: number, height: number): RawImage {
  const rgba = ctx.getImageData(0, 0, width, height).data,
    data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set([rgba[4 * i]!, rgba[4 * i + 1]!, rgba[4 * i + 2]!], 3 * i);
  return { width, height, channels: 3, data };
}

function toCanvas(img: RawImage): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = img.width;
  c.height = img.height;
  const ctx = c.getContext('2d')!,
    id = ctx.createImageData(img.width, img.height);
  for (let i = 0; i < img.width * img.height; i++) {
    for (let k = 0; k < 3; k++) id.data[4 * i + k] = img.data[i * img.channels + (img.channels === 1 ? 0 : k)]!;
    id.data[4 * i + 3] = 255;
  }
  ctx.putImageData(id, 0, 0);
  return c;
}

async function browserCodec(
  src: HTMLCanvasElement,
  type: string,
  budget: number,
  gray: boolean,
): Promise<{ bytes: number; img: RawImage } | undefined> {
  let lo = 0,
    hi = 100,
    best: Blob | undefined;
  while (lo <= hi) {
    // the largest quality (in 1/100) whose file fits in `budget` bytes
    const q = (lo + hi) >> 1;
    const b = await new Promise<Blob | null>((r) => src.toBlob(r, type, q / 100));
    if (!b || b.type !== type) return undefined;
    if (b.size <= budget) {
      best = b;
      lo = q + 1;
    } else hi = q - 1;
  }
  if (!best) return undefined;
  const bmp = await createImageBitmap(best),
    c = document.createElement('canvas');
  c.width = bmp.width;
  c.height = bmp.height;
  const ctx = c.getContext('2d')!;
  ctx.drawImage(bmp, 0, 0);
  const img = fromCanvas(ctx, c.width, c.height);
  return { bytes: best.size, img: gray ? toGray(img) : img };
}

function view(title: string, img: RawImage, row?: Row): HTMLElement {
  const fig = document.createElement('figure');
  const c = toCanvas(img),
    zoom = document.createElement('canvas');
  c.style.width = `${Math.min(256, img.width * 2)}px`;
  c.style.imageRendering = 'pixelated';
  const z = Math.min(32, img.width, img.height);
  zoom.width = zoom.height = 4 * z;
  zoom.style.imageRendering = 'pixelated';
  const zc = zoom.getContext('2d')!;
  zc.imageSmoothingEnabled = false;
  zc.drawImage(c, (img.width - z) >> 1, (img.height - z) >> 1, z, z, 0, 0, 4 * z, 4 * z);
  fig.append(c, document.createElement('br'), zoom);
  const cap = document.createElement('figcaption');
  cap.innerHTML = `<b>${esc(title)}</b>${row ? `<br>${fmtInt(row.bytes)} B · ${row.bpp.toFixed(3)} bpp · ${row.psnr.toFixed(2)} dB` : ''}`;
  fig.append(cap);
  return fig;
}

async function main(): Promise<void> {
  const g = await startGpu();
  if (!g) {
    probe.state = 'nogpu';
    return;
  }
  const codec = new ImageCodec(g.gpu, resolveModel);
  w.__imageDecodeLatents = async (b) => (await codec.decodeLatents(Uint8Array.from(b))).q.flatMap((q) => Array.from(q));
  const form = $<HTMLFormElement>('controls'),
    params = new URLSearchParams(location.search);
  let source: HTMLCanvasElement | undefined;
  const setSource = (c: HTMLCanvasElement) => {
    source = c;
    ($('run') as HTMLButtonElement).disabled = false;
  };
  const loadFile = async (f: File) => {
    const bmp = await createImageBitmap(f),
      c = document.createElement('canvas');
    c.width = Math.min(512, bmp.width);
    c.height = Math.min(512, bmp.height);
    c.getContext('2d')!.drawImage(bmp, 0, 0);
    setSource(c);
  };
  $('use-sample').onclick = () => setSource(toCanvas(sample()));
  (form.elements.namedItem('file') as HTMLInputElement).onchange = (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void loadFile(f);
  };
  $('drop').ondragover = (e) => e.preventDefault();
  $('drop').ondrop = (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void loadFile(f);
  };
  const q = numParam(params, 'quality');
  if (q) (form.elements.namedItem('quality') as HTMLInputElement).value = String(q);
  if (params.get('gray') === '1') (form.elements.namedItem('gray') as HTMLInputElement).checked = true;
  form.onsubmit = async (e) => {
    e.preventDefault();
    if (!source) return;
    probe.state = 'running';
    try {
      const gray = (form.elements.namedItem('gray') as HTMLInputElement).checked;
      const quality = Number((form.elements.namedItem('quality') as HTMLInputElement).value);
      const rgb = fromCanvas(source.getContext('2d')!, source.width, source.height),
        img = gray ? toGray(rgb) : rgb;
      const px = img.width * img.height,
        rows: Row[] = [],
        views: HTMLElement[] = [view('original', img)];
      const slimg = await codec.compress(img, { quality });
      const back = await codec.decompress(slimg);
      rows.push({ codec: `slimgpu quality ${quality}`, bytes: slimg.length, bpp: (8 * slimg.length) / px, psnr: psnr(img.data, back.data) });
      views.push(view('slimgpu', back, rows[0]));
      for (const [name, type] of [
        ['JPEG', 'image/jpeg'],
        ['WebP', 'image/webp'],
      ] as const) {
        const r = await browserCodec(source, type, slimg.length, gray);
        if (!r) {
          rows.push({ codec: `${name}: nothing fits in ${slimg.length} B`, bytes: 0, bpp: 0, psnr: NaN });
          continue;
        }
        const row = { codec: `${name} (browser, same budget)`, bytes: r.bytes, bpp: (8 * r.bytes) / px, psnr: psnr(img.data, r.img.data) };
        rows.push(row);
        views.push(view(name, r.img, row));
      }
      $('rows').innerHTML =
        '<tr><th>codec</th><th>bytes</th><th>bpp</th><th>PSNR</th></tr>' +
        rows
          .map(
            (r) =>
              `<tr><td>${esc(r.codec)}</td><td>${fmtInt(r.bytes)}</td><td>${r.bpp.toFixed(3)}</td><td>${Number.isFinite(r.psnr) ? r.psnr.toFixed(2) + ' dB' : '–'}</td></tr>`,
          )
          .join('');
      $('views').replaceChildren(...views);
      Object.assign(probe, { rows, width: img.width, height: img.height, state: 'done' });
    } catch (err) {
      probe.state = 'error';
      probe.error = (err as Error).message;
      showNotice('error', 'Compression failed', (err as Error).message);
    }
  };
  probe.state = 'ready';
  if (params.get('sample') === '1') setSource(toCanvas(sample()));
  if (params.get('autostart') === '1' && source) form.requestSubmit();
}

void main();
