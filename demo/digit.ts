// Draw a digit: the compressed LeNet (demo/public/models, or a file the user picks, e.g. one the
// MNIST demo downloaded) classifies the drawing on every stroke change, from its compressed form
// (CompressedModel). Exposes window.__digit for tests/digit-page.test.ts.
import { CompressedModel, createGpu, NO_ADAPTER_HELP, type Gpu } from '../src/index.js';

// MNIST's pixel mean and std (x/255) over the training images: the normalisation slimgpu trains with
const MEAN = 0.1307,
  STD = 0.3081;
const MODEL_URL = './models/lenet-300-100.slim.safetensors';

interface DigitState {
  ready: boolean;
  predictions: number;
  lastInput?: number[];
  lastProbs?: number[];
  error?: string;
  file?: string;
  fileBytes?: number;
  weightBytes?: number;
  denseBytes?: number;
}
const state: DigitState = { ready: false, predictions: 0 };
(window as unknown as { __digit: DigitState }).__digit = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const pad = $<HTMLCanvasElement>('pad');
const ctx = pad.getContext('2d', { willReadFrequently: true })!;
const status = $('status');

function clearPad(): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}

/** The drawing as MNIST does it: the ink's bounding box scaled into 20×20, its centre of mass moved to the middle of 28×28, normalised. */
function toInput(): Float32Array {
  const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (data[(y * width + x) * 4]! > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const s = small.getContext('2d', { willReadFrequently: true })!;
  s.fillStyle = '#000';
  s.fillRect(0, 0, 28, 28);
  if (x1 >= 0) {
    const w = x1 - x0 + 1,
      h = y1 - y0 + 1,
      k = 20 / Math.max(w, h);
    s.imageSmoothingEnabled = true;
    s.drawImage(pad, x0, y0, w, h, 14 - (w * k) / 2, 14 - (h * k) / 2, w * k, h * k);
  }
  // then shift so that the centre of mass sits at the centre (as MNIST's digits are)
  let m = 0,
    mx = 0,
    my = 0;
  const ink = s.getImageData(0, 0, 28, 28).data;
  for (let i = 0; i < 784; i++) {
    const v = ink[i * 4]!;
    m += v;
    mx += v * (i % 28);
    my += v * Math.floor(i / 28);
  }
  if (m > 0) {
    const moved = document.createElement('canvas');
    moved.width = moved.height = 28;
    const c = moved.getContext('2d', { willReadFrequently: true })!;
    c.fillStyle = '#000';
    c.fillRect(0, 0, 28, 28);
    c.drawImage(small, Math.round(13.5 - mx / m), Math.round(13.5 - my / m));
    s.drawImage(moved, 0, 0);
  }
  const px = s.getImageData(0, 0, 28, 28).data;
  return Float32Array.from({ length: 784 }, (_, i) => (px[i * 4]! / 255 - MEAN) / STD);
}

function softmax(z: Float32Array): number[] {
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - m));
  const t = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / t);
}

function renderBars(p: number[]): void {
  const top = p.indexOf(Math.max(...p));
  $('bars').innerHTML = p
    .map(
      (v, d) =>
        `<div class="bar${d === top ? ' top' : ''}"><b>${d}</b><span style="width:${Math.round(v * 240)}px"></span>${(100 * v).toFixed(1)}%</div>`,
    )
    .join('');
  $('guess').textContent = `looks like a ${top}`;
}

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
function renderSizes(m: CompressedModel, file: string): void {
  $('sizes').innerHTML =
    `<tr><th></th><th>compressed (${m.spec.name})</th><th>dense fp32</th><th>ratio</th></tr>` +
    `<tr><td>file</td><td>${kb(m.fileBytes)}</td><td>${kb(m.denseBytes)}</td><td>${(m.denseBytes / m.fileBytes).toFixed(1)}×</td></tr>` +
    `<tr><td>GPU weight memory</td><td>${kb(m.weightBytes)}</td><td>${kb(m.denseBytes)}</td><td>${(m.denseBytes / m.weightBytes).toFixed(1)}×</td></tr>` +
    `<tr><td colspan="4" style="text-align:left">${file}: ${m.info.map((l) => `${l.name} ${l.format} ${l.bits}-bit ${l.entries} weights`).join(', ')}</td></tr>`;
}

let model: CompressedModel | undefined;
let busy = false,
  again = false;
async function classify(): Promise<void> {
  if (!model) return;
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    const x = toInput();
    const p = softmax(await model.predict(x));
    state.lastInput = Array.from(x);
    state.lastProbs = p;
    state.predictions++;
    renderBars(p);
  } catch (e) {
    state.error = String(e);
    status.textContent = String(e);
  } finally {
    busy = false;
    if (again) {
      again = false;
      void classify();
    }
  }
}

async function useModel(gpu: Gpu, bytes: Uint8Array, file: string): Promise<void> {
  const m = await CompressedModel.load(gpu, bytes, { name: file });
  if (m.inputShape.reduce((a, b) => a * b, 1) !== 784 || m.outputShape[0] !== 10) {
    m.dispose();
    throw new Error(`${file}: needs an MNIST classifier (784 inputs, 10 classes), got [${m.inputShape}] → [${m.outputShape}]`);
  }
  model?.dispose();
  model = m;
  Object.assign(state, { file, fileBytes: m.fileBytes, weightBytes: m.weightBytes, denseBytes: m.denseBytes });
  renderSizes(m, file);
  status.textContent = `ready: ${gpu.info.description || 'WebGPU'}`;
  await classify();
}

async function main(): Promise<void> {
  clearPad();
  if (!('gpu' in navigator)) {
    status.textContent = NO_ADAPTER_HELP;
    state.error = 'no WebGPU';
    return;
  }
  const gpu = await createGpu();
  const res = await fetch(MODEL_URL);
  if (!res.ok) throw new Error(`${MODEL_URL}: HTTP ${res.status}`);
  await useModel(gpu, new Uint8Array(await res.arrayBuffer()), MODEL_URL.split('/').pop()!);
  let drawing = false,
    last: [number, number] | undefined;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    last = at(e);
    pad.setPointerCapture(e.pointerId);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const p = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 26;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...last!);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    void classify();
  });
  const end = () => {
    if (drawing) {
      drawing = false;
      void classify();
    }
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => {
    clearPad();
    void classify();
  });
  $<HTMLInputElement>('file').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    try {
      await useModel(gpu, new Uint8Array(await f.arrayBuffer()), f.name);
    } catch (err) {
      status.textContent = String(err);
    }
  });
  state.ready = true;
}

main().catch((e) => {
  state.error = String(e);
  status.textContent = String(e);
});
