// The codec page (demo/codec.html): a dropped (or chosen, or the bundled sample) file is compressed
// by the chosen codec — the shipped pretrained model + CM (codec 5, the default when a model is
// shipped: loaded once and kept), the CM alone, or the prequential GPT (compressWithGpt, WebGPU) —
// with the code length charted as it goes; the .slimz file can be downloaded, is decompressed back
// in the page and compared byte for byte with the original, and the same bytes go through the
// browser's CompressionStream('gzip') (and 'brotli' where the browser has it) for comparison. A
// dropped .slimz file is decompressed instead. A text box compresses a short message as it is typed.
//
// URL parameters preset the form (codec, model, mixer, stepsPerChunk, chunkBytes, lr, streams, seed;
// a gpt: model without codec= means codec=gpt) and:
// sample=1 (use the bundled sample), sampleBytes=N (only its first N bytes), autostart=1 (compress,
// then decompress and verify). window.__codec exposes the run for tests (tests/codec-page.test.ts).
import { codec, type Gpu } from '../src/index.js';
import type { CodecProgress } from '../src/codec/model.js';
import { LiveChart } from './charts.js';
import { $, esc, fileBytes, fmtBytes, fmtInt, hideNotice, numParam, save, showNotice, startGpu } from './page.js';
import gplUrl from './samples/gpl-3.txt?url';
import { brotli, equal, isSlimz, pipe, pretrained, resolver, setupLiveBox, v5RoundTrip, type LiveProbe } from './codec-engines.js';

type Phase = 'init' | 'nogpu' | 'ready' | 'compressing' | 'decompressing' | 'done' | 'error';

interface Row {
  method: string;
  bytes: number;
  compressMs: number;
  decompressMs?: number;
  exact?: boolean;
}

type Kind = 'pretrained' | 'none' | 'gpt';

interface CodecProbe {
  state: Phase;
  codec?: Kind;
  /** Bytes of the browser's brotli, when it has CompressionStream('brotli'). */
  brotliBytes?: number;
  live?: LiveProbe;
  adapter?: string;
  input?: { name: string; bytes: number };
  progress: CodecProgress[];
  slimzBytes?: number;
  /** Σ −log₂ p of the coded bytes under the integer tables (the code without the container). */
  codeBits?: number;
  bitsPerByte?: number;
  gzipBytes?: number;
  gzipExact?: boolean;
  /** Decompressed in the page and equal to the input, byte for byte. */
  roundTrip?: boolean;
  rows: Row[];
  error?: string;
}

const probe: CodecProbe = { state: 'init', progress: [], rows: [] };
(window as unknown as { __codec: CodecProbe }).__codec = probe;

const form = $<HTMLFormElement>('controls');
const field = <T extends HTMLInputElement = HTMLInputElement>(name: string): T => {
  const el = form.elements.namedItem(name);
  if (!el) throw new Error(`codec page: no form field '${name}'`);
  return el as T;
};
const params = new URLSearchParams(location.search);
const setPhase = (s: string) => {
  $('phase').textContent = s;
};
const stat = (id: string, v: string) => {
  $(id).textContent = v;
};
const btn = (id: string) => $<HTMLButtonElement>(id);

let gpu: Gpu | undefined;
let input: { name: string; bytes: Uint8Array } | undefined;
let slimz: { name: string; bytes: Uint8Array } | undefined;
let output: { name: string; bytes: Uint8Array } | undefined;

const chart = new LiveChart($('chart-bpb'), { yLabel: 'bits per byte', xLabel: 'bytes coded', series: [{ label: 'chunk' }, { label: 'so far' }] });

const shipped = codec.SHIPPED_MODEL_IDS.length > 0;
const kind = (): Kind => (form.elements.namedItem('codec') as HTMLSelectElement).value as Kind;

function setInput(name: string, bytes: Uint8Array): void {
  hideNotice();
  if (isSlimz(bytes)) {
    slimz = { name, bytes };
    input = undefined;
    $('file-info').textContent = `${name}: a .slimz file of ${fmtBytes(bytes.length)}; press Decompress.`;
  } else {
    input = { name, bytes };
    slimz = undefined;
    $('file-info').textContent = `${name}: ${fmtInt(bytes.length)} bytes.`;
  }
  output = undefined;
  probe.input = input && { name, bytes: bytes.length };
  refreshButtons();
}

function refreshButtons(): void {
  const busy = probe.state === 'compressing' || probe.state === 'decompressing';
  btn('run').disabled = busy || !input || (kind() === 'gpt' && !gpu);
  btn('decompress').disabled = busy || !slimz;
  ($('gpt-fields') as HTMLFieldSetElement).disabled = kind() !== 'gpt';
  btn('download').disabled = busy || !slimz;
  btn('download-out').disabled = busy || !output;
}

function renderRows(): void {
  const orig = probe.input?.bytes ?? 0;
  const ms = (x?: number) => (x === undefined ? '–' : x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
  $('compare').querySelector('tbody')!.innerHTML = probe.rows
    .map(
      (r) =>
        `<tr><td>${esc(r.method)}${r.exact === undefined ? '' : r.exact ? ' <span class="ok">✓ exact</span>' : ' <span class="bad">✗ differs</span>'}</td><td>${fmtInt(r.bytes)}</td>` +
        `<td>${orig ? ((8 * r.bytes) / orig).toFixed(3) : '–'}</td><td>${r.bytes ? (orig / r.bytes).toFixed(2) : '–'}×</td><td>${ms(r.compressMs)}</td><td>${ms(r.decompressMs)}</td></tr>`,
    )
    .join('');
}

function onProgress(p: CodecProgress, what: 'compress' | 'decompress'): void {
  const prev = probe.progress.at(-1);
  if (what === 'compress') {
    probe.progress.push(p);
    const bytes = p.done - (prev?.done ?? 0),
      bits = p.bits - (prev?.bits ?? 0);
    if (bytes > 0) chart.set(p.done, 0, bits / bytes);
    chart.set(p.done, 1, p.done ? p.bits / p.done : null);
    chart.flush();
    stat('s-chunk', bytes > 0 ? (bits / bytes).toFixed(3) : '–');
  }
  stat('s-done', `${fmtBytes(p.done)} / ${fmtBytes(p.total)}`);
  stat('s-bpb', p.done ? (p.bits / p.done).toFixed(3) : '–');
  stat('s-chunks', `${fmtInt(p.chunk)} / ${fmtInt(p.chunks)}`);
  stat('s-speed', (p.done / 1024 / Math.max(1e-3, p.seconds)).toFixed(2));
  $('bar').style.width = `${(100 * p.done) / Math.max(1, p.total)}%`;
}

function options(): codec.GptCodecOptions {
  const num = (name: string) => {
    const v = Number(field(name).value);
    if (!Number.isFinite(v)) throw new Error(`${name}: '${field(name).value}' is not a number`);
    return v;
  };
  const streams = num('streams');
  const mixer = (form.elements.namedItem('mixer') as HTMLSelectElement).value === 'none' ? 'none' : 'cm';
  return {
    model: field('model').value.trim(),
    mixer,
    stepsPerChunk: num('stepsPerChunk'),
    chunkBytes: num('chunkBytes'),
    lr: num('lr'),
    seed: num('seed'),
    streams: streams > 0 ? streams : undefined,
  };
}

async function compress(): Promise<void> {
  const k = kind();
  if (!input || (k === 'gpt' && !gpu)) return;
  const src = input;
  Object.assign(probe, {
    state: 'compressing',
    codec: k,
    progress: [],
    rows: [],
    slimzBytes: undefined,
    codeBits: undefined,
    bitsPerByte: undefined,
    gzipBytes: undefined,
    gzipExact: undefined,
    brotliBytes: undefined,
    roundTrip: undefined,
    error: undefined,
  });
  hideNotice();
  refreshButtons();
  chart.reset({ yLabel: 'bits per byte', xLabel: 'bytes coded', series: [{ label: 'chunk' }, { label: 'so far' }] }, src.bytes.length);
  for (const s of ['s-done', 's-bpb', 's-chunk', 's-chunks', 's-speed', 's-verify']) stat(s, '–');
  renderRows();

  // the browser's gzip on the same bytes, and back; brotli where the browser has it
  let t = performance.now();
  const gz = await pipe(src.bytes, new CompressionStream('gzip'));
  const gzMs = performance.now() - t;
  t = performance.now();
  const gzBack = await pipe(gz, new DecompressionStream('gzip'));
  probe.gzipBytes = gz.length;
  probe.gzipExact = equal(gzBack, src.bytes);
  probe.rows.push({
    method: "gzip (the browser's CompressionStream)",
    bytes: gz.length,
    compressMs: gzMs,
    decompressMs: performance.now() - t,
    exact: probe.gzipExact,
  });
  t = performance.now();
  const br = await brotli(src.bytes);
  if (br) {
    probe.brotliBytes = br.length;
    probe.rows.push({ method: "brotli (the browser's CompressionStream)", bytes: br.length, compressMs: performance.now() - t });
  }
  renderRows();

  let bytes: Uint8Array, bits: number, ms: number, label: string;
  if (k === 'gpt') {
    const o = options();
    setPhase(`Compressing ${src.name} (${fmtInt(src.bytes.length)} bytes) with ${o.model}, ${o.stepsPerChunk} training steps per chunk…`);
    t = performance.now();
    const r = await codec.compressWithGpt(gpu!, src.bytes, o, {
      onProgress: (p) => onProgress(p, 'compress'),
      onLog: (line) => setPhase(`${line}…`),
    });
    [bytes, bits, ms, label] = [r.bytes, r.bits, performance.now() - t, `slimgpu prequential (${o.model}, this GPU only)`];
  } else {
    setPhase(k === 'pretrained' ? 'Loading the pretrained model (once)…' : `Compressing ${src.name} with the CM alone…`);
    const r = await v5RoundTrip(src.bytes, k, (p) => onProgress(p, 'compress'));
    [bytes, bits, ms, label] = [
      r.z.bytes,
      r.z.bits,
      r.ms,
      k === 'pretrained' ? `slimgpu pretrained + CM (${(await pretrained()).name})` : 'slimgpu CM alone (--model none)',
    ];
  }
  slimz = { name: `${src.name}.slimz`, bytes };
  probe.slimzBytes = bytes.length;
  probe.codeBits = bits;
  probe.bitsPerByte = src.bytes.length ? (8 * bytes.length) / src.bytes.length : 0;
  probe.rows.push({ method: label, bytes: bytes.length, compressMs: ms });
  renderRows();
  $('compare-note').textContent =
    `The .slimz file holds the header (${fmtBytes(bytes.length - Math.ceil(bits / 8))} here, with the CRC-32s) and the ` +
    `arithmetic code: ${(bits / Math.max(1, src.bytes.length)).toFixed(3)} bits per byte of −log₂ p. ` +
    (k === 'gpt'
      ? 'No model is stored: the decoder trains the same one, on the same kind of GPU.'
      : k === 'pretrained'
        ? 'The model ships with slimgpu and is not stored in the file.'
        : '');
  setPhase(
    `Compressed ${fmtInt(src.bytes.length)} → ${fmtInt(bytes.length)} bytes in ${(ms / 1000).toFixed(1)} s (gzip: ${fmtInt(gz.length)}${br ? `, brotli: ${fmtInt(br.length)}` : ''}). Decompressing to check…`,
  );
  probe.state = 'ready';
  refreshButtons();
  await decompress(src.bytes);
}

/** Decompresses the current .slimz; with `original`, checks the output against it. */
async function decompress(original?: Uint8Array): Promise<void> {
  if (!slimz) return;
  const file = slimz;
  probe.state = 'decompressing';
  refreshButtons();
  hideNotice();
  stat('s-verify', '…');
  const t = performance.now();
  let text: Uint8Array, what: string;
  if (codec.v5.isV5(file.bytes)) {
    const r = await codec.v5.decompressBytes(file.bytes, resolver, { onProgress: (p) => onProgress(p, 'decompress') });
    [text, what] = [r.text, r.header.kind === 'none' ? 'CM alone' : `pretrained model ${r.header.modelId}…`];
  } else {
    if (!gpu) throw new Error('this .slimz file was written by the prequential GPT (or codec 4): decompressing it needs WebGPU');
    const r = await codec.decompressWithGpt(gpu, file.bytes, { onProgress: (p) => onProgress(p, 'decompress') });
    [text, what] = [
      r.text,
      `${String(r.header.model.model ?? r.header.model.kind ?? '')}, written on ${r.header.writer.adapter.description || r.header.writer.adapter.device || 'an unnamed adapter'}`,
    ];
  }
  const ms = performance.now() - t;
  output = { name: file.name.replace(/\.slimz$/, '') || 'decompressed', bytes: text };
  const row = probe.rows.find((x) => x.method.startsWith('slimgpu'));
  if (original) {
    probe.roundTrip = equal(text, original);
    if (row) {
      row.decompressMs = ms;
      row.exact = probe.roundTrip;
    }
    stat('s-verify', probe.roundTrip ? '✓ exact' : '✗ differs');
    renderRows();
    setPhase(
      probe.roundTrip
        ? `Round trip exact: ${fmtInt(text.length)} bytes decompressed in ${(ms / 1000).toFixed(1)} s, equal to the original byte for byte (and the file's CRC-32s checked as it went).`
        : `The decompressed bytes differ from the original (${fmtInt(text.length)} vs ${fmtInt(original.length)} bytes).`,
    );
  } else {
    stat('s-verify', '✓ CRC-32');
    setPhase(`Decompressed ${file.name}: ${fmtInt(text.length)} bytes in ${(ms / 1000).toFixed(1)} s (${what}); every CRC-32 matched.`);
  }
  probe.state = 'done';
  refreshButtons();
}

/** The message box: compressed on every pause in typing (never with the GPT), decoded and compared. */
setupLiveBox(kind, (r) => {
  probe.live = r;
});
$('codec').addEventListener('change', refreshButtons);

async function guarded(f: () => Promise<void>, what: string): Promise<void> {
  try {
    await f();
  } catch (e) {
    probe.state = 'error';
    probe.error = (e as Error).message;
    showNotice('error', `${what} failed`, (e as Error).message);
    setPhase(`${what} failed — see above.`);
    stat('s-verify', '–');
    console.warn(e);
  } finally {
    if (probe.state !== 'error' && probe.state !== 'done') probe.state = 'ready';
    refreshButtons();
  }
}

async function useSample(): Promise<void> {
  const res = await fetch(gplUrl);
  if (!res.ok) throw new Error(`sample text: ${gplUrl} answered ${res.status} ${res.statusText}`);
  const all = new Uint8Array(await res.arrayBuffer());
  const n = numParam(params, 'sampleBytes');
  setInput(n !== undefined ? `gpl-3-first-${n}.txt` : 'gpl-3.txt', n !== undefined ? all.subarray(0, n) : all);
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (probe.state !== 'compressing' && probe.state !== 'decompressing') void guarded(compress, 'Compression');
});
btn('decompress').addEventListener('click', () => {
  void guarded(() => decompress(), 'Decompression');
});
btn('use-sample').addEventListener('click', () => {
  void guarded(useSample, 'Loading the sample');
});
btn('download').addEventListener('click', () => {
  if (slimz) save(slimz.bytes, slimz.name);
});
btn('download-out').addEventListener('click', () => {
  if (output) save(output.bytes, output.name);
});
field('file').addEventListener('change', () => {
  const f = field('file').files?.[0];
  if (f) void guarded(async () => setInput(f.name, await fileBytes(f)), 'Reading the file');
});
const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const f = ev.dataTransfer?.files[0];
  if (f) void guarded(async () => setInput(f.name, await fileBytes(f)), 'Reading the file');
});

async function init(): Promise<void> {
  const sel = form.elements.namedItem('codec') as HTMLSelectElement;
  const pre = sel.querySelector('option[value="pretrained"]') as HTMLOptionElement;
  if (!shipped) {
    pre.disabled = true;
    pre.textContent += ' — none shipped in this build';
  }
  sel.value = shipped ? 'pretrained' : 'none';
  for (const name of ['model', 'mixer', 'stepsPerChunk', 'chunkBytes', 'lr', 'streams', 'seed', 'codec']) {
    const v = params.get(name);
    if (v !== null) field(name).value = v;
  }
  if (params.get('codec') === null && params.get('model')?.startsWith('gpt:')) sel.value = 'gpt';
  $('model-info').textContent = shipped
    ? `Shipped models: ${codec.SHIPPED_MODEL_IDS.map((x) => x.slice(0, 16) + '…').join(', ')}`
    : 'No pretrained model is shipped in this build: the CM alone is the default.';
  refreshButtons();
  const g = await startGpu();
  if (g) {
    gpu = g.gpu;
    probe.adapter = g.adapter;
  }
  probe.state = !g && kind() === 'gpt' ? 'nogpu' : 'ready';
  if (probe.state === 'nogpu') setPhase('The prequential GPT needs WebGPU; the CM alone and the pretrained model do not.');
  if (params.get('sample') === '1') await guarded(useSample, 'Loading the sample');
  refreshButtons();
  if (params.get('autostart') === '1' && input && probe.state !== 'nogpu') void guarded(compress, 'Compression');
}

void init();
