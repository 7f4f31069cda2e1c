// The live training demo (demo/index.html): trains a model on the bundled MNIST digits through
// WebGPU with magnitude pruning, and shows loss/accuracy curves, per-layer sparsity read from the
// masks, images of the first layer's weights and masks; then weight sharing (k-means + centroid
// fine-tuning, as `slimgpu train --bits`), the compression report and the compressed model file
// (exportCompressed) to download.
//
// URL parameters preset the form (train, model, sparsity, schedule, pruning, bits, epochs, batch,
// lr, momentum, l2, seed) and a few things the form does not show: test (test samples, default
// 2000), steps (stop after this many steps), fineTune (centroid fine-tuning steps), logEvery,
// perSubmit (steps per command buffer), inspectMs (least time between mask readbacks), autostart=1.
//
// window.__demo exposes the run's state for tests (tests/demo.test.ts).
import {
  createGpu, evaluate, formatReport, layerStats, mnistSplit, modelFromName, Network, NO_ADAPTER_HELP, sparsityScheduleOf, sparsityAt, totals, trainNetwork,
  type EvalResult, type Gpu, type LogEntry, type RunReport, type TrainOptions, type TrainSummary,
} from '../src/index.js';
import { compressedSizes, COMPRESSED_EXTENSION, exportCompressed, type CompressedSizes } from '../src/io/export.js';
import { fineTuneCentroids, shareWeights, type WeightSharing } from '../src/compress/sharing.js';
import type { FileBytes } from '../src/compress/report.js';
import { LiveChart, PALETTE, type ChartSpec } from './charts.js';
import { loadMnistDigits } from './data.js';
import { drawTiles, tileLayout, type TileLayout } from './weights.js';

// ---- state exposed to tests -----------------------------------------------------------------------

type Phase = 'init' | 'nogpu' | 'ready' | 'loading' | 'training' | 'evaluating' | 'done' | 'error';

interface DemoProbe {
  state: Phase;
  adapter?: string;
  config?: DemoConfig;
  totalSteps: number;
  logs: LogEntry[];
  /** Per-layer sparsity read from the masks: { step, layers: { name: sparsity } }. */
  sparsity: { step: number; layers: Record<string, number> }[];
  tests: { step: number; result: EvalResult }[];
  report?: RunReport;
  reportText?: string;
  fileBytes?: number;
  stopped: boolean;
  error?: string;
  /** Largest gap (ms) beyond the 50 ms period of a timer that runs while training. */
  maxLagMs: number;
  /** Clicks on the log-scale toggle handled. */
  toggles: number;
  /** Frames (requestAnimationFrame) rendered while training. */
  framesWhileTraining: number;
}

const probe: DemoProbe = { state: 'init', totalSteps: 0, logs: [], sparsity: [], tests: [], stopped: false, maxLagMs: 0, toggles: 0, framesWhileTraining: 0 };
(window as unknown as { __demo: DemoProbe }).__demo = probe;

// ---- DOM ------------------------------------------------------------------------------------------

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: no element #${id}`);
  return el as T;
};
const form = $<HTMLFormElement>('controls');
const trainBtn = $<HTMLButtonElement>('run');
const stopBtn = $<HTMLButtonElement>('stop');
const notice = $('notice');
const phaseEl = $('phase');
const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string): T => {
  const el = form.elements.namedItem(name);
  if (!el) throw new Error(`demo: no form field '${name}'`);
  return el as T;
};

const fmtInt = (n: number) => n.toLocaleString('en-US');
const fmtBytes = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);
const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function showNotice(kind: 'error' | 'warn', title: string, body: string, detail?: string): void {
  notice.hidden = false;
  notice.className = kind === 'warn' ? 'notice warn' : 'notice';
  notice.innerHTML = `<h3>${esc(title)}</h3><div>${esc(body)}</div>${detail ? `<pre>${esc(detail)}</pre>` : ''}`;
}

const setPhase = (s: string) => { phaseEl.textContent = s; };

// ---- configuration ------------------------------------------------------------------------------

interface DemoConfig {
  model: string;
  train: number;
  test: number;
  sparsity: number;
  schedule: 'constant' | 'polynomial';
  pruning: 'layer' | 'global';
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  l2: number;
  seed: number;
  /** Weight sharing: bits per dense layer (conv layers get 8), 0 = off. */
  bits: number;
  /** Centroid fine-tuning steps after sharing (default: min(100, an epoch)). */
  fineTune?: number;
  maxSteps?: number;
  logEvery?: number;
  perSubmit: number;
  inspectMs: number;
}

const params = new URLSearchParams(location.search);
const numParam = (k: string): number | undefined => {
  const v = params.get(k);
  return v === null || v === '' ? undefined : Number(v);
};

/** Presets the form from the URL; values a select does not offer are added to it. */
function applyUrlParams(): void {
  const test = numParam('test') ?? 2000;
  for (const o of (field('train') as HTMLSelectElement).options) o.text = `${fmtInt(Number(o.value))} train / ${fmtInt(test)} test`;
  for (const name of ['train', 'model', 'sparsity', 'schedule', 'pruning', 'bits', 'epochs', 'batch', 'lr', 'momentum', 'l2', 'seed']) {
    const v = params.get(name);
    if (v === null) continue;
    const el = field(name);
    if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === v)) {
      if (name === 'schedule' || name === 'pruning' || name === 'bits') continue;
      const label = name === 'train' ? `${fmtInt(Number(v))} train / ${fmtInt(test)} test` : v;
      el.add(new Option(label, v));
    }
    el.value = v;
  }
}

function readConfig(): DemoConfig {
  const num = (name: string) => {
    const v = Number(field(name).value);
    if (!Number.isFinite(v)) throw new Error(`${name}: '${field(name).value}' is not a number`);
    return v;
  };
  return {
    model: field('model').value,
    train: num('train'),
    test: numParam('test') ?? 2000,
    sparsity: num('sparsity'),
    schedule: field('schedule').value as DemoConfig['schedule'],
    pruning: field('pruning').value as DemoConfig['pruning'],
    epochs: num('epochs'),
    batch: num('batch'),
    lr: num('lr'),
    momentum: num('momentum'),
    l2: num('l2'),
    seed: num('seed'),
    bits: num('bits'),
    fineTune: numParam('fineTune'),
    maxSteps: numParam('steps'),
    logEvery: numParam('logEvery'),
    perSubmit: numParam('perSubmit') ?? 4,
    inspectMs: numParam('inspectMs') ?? 1000,
  };
}

function syncSparsityLabel(): void {
  (form.elements.namedItem('sparsityOut') as HTMLOutputElement).value = pct(Number(field('sparsity').value), 0);
}

function setRunning(running: boolean): void {
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = running;
  trainBtn.disabled = running;
  stopBtn.disabled = !running;
}

// ---- charts and stats ---------------------------------------------------------------------------

const lossChart = new LiveChart($('chart-loss'), { yLabel: 'loss', series: [{ label: 'train loss' }] });
const accChart = new LiveChart($('chart-acc'), { yLabel: 'accuracy', series: [{ label: 'train' }, { label: 'test', points: true }] });
const sparsityChart = new LiveChart($('chart-sparsity'), { yLabel: 'sparsity', series: [{ label: 'target', color: '#475569', dash: [3, 3] }], yRange: [0, 1] });
const charts = [lossChart, accChart, sparsityChart];

$<HTMLInputElement>('logscale').addEventListener('change', (ev) => {
  probe.toggles++;
  lossChart.setLog((ev.target as HTMLInputElement).checked);
});

const stat = (id: string, v: string) => { $(id).textContent = v; };

let frameRequested = false;
let latest: LogEntry | undefined;
let run: { total: number; stepsPerEpoch: number; autoencoder: boolean } | undefined;

function render(): void {
  frameRequested = false;
  if (probe.state === 'training') probe.framesWhileTraining++;
  for (const c of charts) c.flush();
  if (latest && run) {
    stat('s-step', `${fmtInt(latest.step)} / ${fmtInt(run.total)}`);
    stat('s-epoch', (latest.step / run.stepsPerEpoch).toFixed(2));
    stat('s-loss', latest.loss.toPrecision(4));
    stat('s-acc', run.autoencoder ? `${psnr(latest.loss).toFixed(1)} dB` : latest.accuracy !== undefined ? pct(latest.accuracy) : '–');
    stat('s-sparsity', pct(latest.sparsity));
    stat('s-speed', fmtInt(Math.round(latest.samplesPerSec)));
    $('bar').style.width = `${(100 * latest.step) / run.total}%`;
  }
}

function requestRender(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(render);
}

const psnr = (mse: number) => 10 * Math.log10(1 / Math.max(mse, 1e-12));

// ---- first-layer images -------------------------------------------------------------------------

const weightsCanvas = $<HTMLCanvasElement>('weights-canvas');
const maskCanvas = $<HTMLCanvasElement>('mask-canvas');

function sizeCanvases(layout: TileLayout): void {
  // integer zoom so that the two images fit side by side in the card
  const avail = Math.max(240, ($('tiles-caption').closest('.card') as HTMLElement).clientWidth - 60) / 2;
  const w = layout.cols * (layout.tw + 1) - 1;
  const zoom = Math.max(1, Math.min(8, avail / w));
  for (const c of [weightsCanvas, maskCanvas]) {
    c.style.width = `${w * zoom}px`;
    c.style.height = `${(layout.rows * (layout.th + 1) - 1) * zoom}px`;
  }
}

// ---- one run ------------------------------------------------------------------------------------

let gpu: Gpu | undefined;
let stopRequested = false;
let download: { bytes: Uint8Array; name: string } | undefined;

async function train(cfg: DemoConfig): Promise<void> {
  if (!gpu) throw new Error('no WebGPU device');
  probe.config = cfg;
  probe.logs = []; probe.sparsity = []; probe.tests = []; probe.report = undefined; probe.reportText = undefined; probe.fileBytes = undefined;
  probe.stopped = false; probe.error = undefined; probe.maxLagMs = 0; probe.framesWhileTraining = 0;
  notice.hidden = true;
  $('report').hidden = true;
  latest = undefined;
  stopRequested = false;

  probe.state = 'loading';
  setPhase('Loading the bundled MNIST digits…');
  const all = await loadMnistDigits();
  const split = mnistSplit(all, { trainSize: Math.min(cfg.train, all.n - cfg.test), testSize: cfg.test, seed: 0 });
  const spec = modelFromName(cfg.model, { input: split.train.inputShape, numClasses: split.train.numClasses });
  const autoencoder = spec.task === 'autoencoder';
  const net = Network.create(gpu, spec, cfg.seed);
  try {
    const stepsPerEpoch = Math.floor(split.train.n / cfg.batch);
    const total = Math.min(cfg.maxSteps ?? Infinity, cfg.epochs * stepsPerEpoch);
    if (!(total >= 1)) throw new Error(`batch ${cfg.batch} is larger than the ${split.train.n} training samples`);
    const opts: TrainOptions = {
      epochs: cfg.epochs, batch: cfg.batch, lr: cfg.lr, momentum: cfg.momentum, l2: cfg.l2, seed: cfg.seed,
      sparsity: cfg.sparsity, schedule: cfg.schedule, pruning: cfg.pruning, maxSteps: cfg.maxSteps,
      logEvery: cfg.logEvery ?? Math.max(1, Math.min(25, Math.round(total / 120))),
      stepsPerSubmit: cfg.perSubmit, maxInFlight: 2,
    };
    const sched = sparsityScheduleOf(opts, total);
    run = { total, stepsPerEpoch, autoencoder };
    probe.totalSteps = total;

    // charts for this run
    const prunable = net.arena.prunable().map((v) => v.name);
    const layerName = (p: string) => p.replace(/\.weight$/, '');
    lossChart.reset({ yLabel: autoencoder ? 'MSE' : 'cross-entropy', series: [{ label: 'train loss' }], log: $<HTMLInputElement>('logscale').checked }, total);
    const accSpec: ChartSpec = autoencoder
      ? { yLabel: 'PSNR (dB)', series: [{ label: 'train' }, { label: 'test', points: true }] }
      : { yLabel: 'accuracy', series: [{ label: 'train' }, { label: 'test', points: true }], yRange: [0, 1], format: (v) => `${Math.round(v * 100)}%` };
    accChart.reset(accSpec, total);
    $('acc-title').textContent = autoencoder ? 'Reconstruction PSNR' : 'Accuracy';
    $('s-acc-label').textContent = autoencoder ? 'PSNR' : 'accuracy';
    sparsityChart.reset({
      yLabel: 'sparsity', yRange: [0, 1], format: (v) => `${Math.round(v * 100)}%`,
      series: [...prunable.map((p, i) => ({ label: layerName(p), color: PALETTE[i % PALETTE.length], points: true })), { label: 'target', color: '#475569', dash: [3, 3], width: 1.25 }],
    }, total);
    for (let k = 0; k <= 60; k++) {
      const t = Math.round((k / 60) * total);
      sparsityChart.set(t, prunable.length, sched ? sparsityAt(sched, Math.max(0, t - 1)) : 0);
    }
    for (const s of ['s-step', 's-epoch', 's-loss', 's-acc', 's-sparsity', 's-speed']) stat(s, '–');
    $('bar').style.width = '0';

    // first-layer images and per-layer sparsity, read back now and then (async; never awaited by training)
    const first = net.layers.find((l) => l.weightShape);
    const layout = first ? tileLayout(first, first.spec.kind === 'conv2d' ? 20 : 50) : undefined;
    $('tiles-caption').textContent = layout ? layout.caption : 'the first layer has no image form';
    if (layout) sizeCanvases(layout);
    const state = { step: 0 };
    let inspecting: Promise<void> | undefined;
    let lastInspect = -Infinity;
    const inspect = async () => {
      const step = state.step;
      const [w, m] = await Promise.all([net.arena.read('weights'), net.arena.read('mask')]);
      const layers: Record<string, number> = {};
      prunable.forEach((p, i) => {
        const mask = m.get(p)!;
        let zeros = 0;
        for (let j = 0; j < mask.length; j++) if (mask[j] === 0) zeros++;
        layers[layerName(p)] = zeros / mask.length;
        sparsityChart.set(step, i, zeros / mask.length);
      });
      probe.sparsity.push({ step, layers });
      if (layout && first) {
        drawTiles(weightsCanvas, layout, w.get(`${first.name}.weight`)!, 'weights');
        drawTiles(maskCanvas, layout, m.get(`${first.name}.weight`)!, 'mask');
      }
      requestRender();
    };
    let inspectError: unknown;
    const maybeInspect = () => {
      if (inspecting || inspectError || performance.now() - lastInspect < cfg.inspectMs) return;
      inspecting = inspect()
        .catch((e: unknown) => { inspectError = e; stopRequested = true; })
        .finally(() => { inspecting = undefined; lastInspect = performance.now(); });
    };
    await inspect();
    lastInspect = performance.now();

    // a timer that should keep ticking while the GPU trains (the page must not freeze)
    let lastTick = performance.now();
    const lagTimer = setInterval(() => {
      const now = performance.now();
      probe.maxLagMs = Math.max(probe.maxLagMs, now - lastTick - 50);
      lastTick = now;
    }, 50);

    probe.state = 'training';
    setPhase(`Training ${cfg.model} on ${fmtInt(split.train.n)} digits: ${fmtInt(total)} steps of ${cfg.batch}` +
      (sched ? `, pruning to ${pct(cfg.sparsity, 0)} (${cfg.schedule}, ${cfg.pruning === 'global' ? 'global' : 'per layer'})` : ', dense') + '…');
    let summary: TrainSummary;
    try {
      summary = await trainNetwork(net, split.train, opts, state, {
        onLog(e) {
          probe.logs.push(e);
          latest = e;
          lossChart.set(e.step, 0, e.loss);
          accChart.set(e.step, 0, autoencoder ? psnr(e.loss) : e.accuracy);
          maybeInspect();
          requestRender();
        },
        shouldStop: () => stopRequested,
        async onEpochEnd(step) {
          const r = await evaluate(net, split.test);
          probe.tests.push({ step, result: r });
          accChart.set(step, 1, autoencoder ? r.psnr : r.accuracy);
          requestRender();
        },
      });
    } finally {
      clearInterval(lagTimer);
      await inspecting;
    }
    if (inspectError) throw inspectError;
    probe.stopped = stopRequested;
    stopBtn.disabled = true;

    probe.state = 'evaluating';
    setPhase(`Evaluating on ${fmtInt(split.test.n)} test digits…`);
    const pruned = await evaluate(net, split.test);
    probe.tests.push({ step: state.step, result: pruned });
    accChart.set(state.step, 1, autoencoder ? pruned.psnr : pruned.accuracy);
    let sharing: WeightSharing | undefined;
    let test = pruned;
    if (cfg.bits > 0) {
      setPhase(`Weight sharing: k-means to ${2 ** cfg.bits} values per dense layer (256 per conv layer), then fine-tuning the centroids…`);
      requestRender();
      sharing = await shareWeights(net, { bits: (l) => (l.spec.kind === 'conv2d' ? 8 : cfg.bits), seed: cfg.seed });
      const steps = cfg.fineTune ?? Math.min(100, stepsPerEpoch);
      if (steps > 0) sharing = (await fineTuneCentroids(net, sharing, split.train, { steps, lr: cfg.lr * 0.1, batch: cfg.batch, seed: cfg.seed })).sharing;
      test = await evaluate(net, split.test);
    }
    await inspect();
    setPhase('Writing the compressed model…');
    const bytes = await exportCompressed(net, sharing);
    const sizes = compressedSizes(bytes);
    const report = await buildReport(net, cfg, test, sharing ? pruned : undefined, summary, sizes);
    download = { bytes, name: `${cfg.model.replace(/[^a-z0-9.-]+/gi, '-')}${COMPRESSED_EXTENSION}` };
    probe.report = report;
    probe.reportText = formatReport(report);
    probe.fileBytes = bytes.length;
    showReport(report, sizes);
    render();
    setPhase(`${probe.stopped ? 'Stopped' : 'Done'} after ${fmtInt(state.step)} steps in ${summary.wallSeconds.toFixed(1)} s` +
      ` (${fmtInt(Math.round(summary.samplesPerSec))} samples/s, ${summary.msPerStep.toFixed(2)} ms/step)` +
      (sharing ? '; weights shared and fine-tuned.' : '.'));
    probe.state = 'done';
  } finally {
    net.dispose();
  }
}

async function buildReport(net: Network, cfg: DemoConfig, test: EvalResult, pruned: EvalResult | undefined, summary: TrainSummary, sizes: CompressedSizes): Promise<RunReport> {
  const w = await net.arena.read('weights');
  const layers = net.layers.filter((l) => l.weightShape).map((l) => layerStats(l.name, l.spec.kind, l.weightShape!, w.get(`${l.name}.weight`)!, l.biasShape!.reduce((a, b) => a * b, 1)));
  const file: FileBytes = { fileBytes: sizes.fileBytes, headerBytes: sizes.headerBytes, layers: sizes.layers.map((l) => ({ layer: l.layer, bytes: l.bytes, bits: l.bits })) };
  const last = summary.history[summary.history.length - 1];
  return {
    model: cfg.model, data: `mnist (bundled, ${cfg.train} train / ${cfg.test} test)`, task: net.spec.task, layers, total: totals(layers, file),
    metrics: {
      trainLoss: last?.loss, prunedTestAccuracy: pruned?.accuracy, prunedTestMse: pruned?.mse,
      testLoss: test.loss, testAccuracy: test.accuracy, testMse: test.mse, testPsnr: test.psnr,
    },
    timing: { steps: summary.steps, epochs: summary.epochs, wallSeconds: summary.wallSeconds, samplesPerSec: summary.samplesPerSec, msPerStep: summary.msPerStep, cpuRecordShare: summary.cpuRecordShare },
    config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
    adapter: probe.adapter,
  };
}

function showReport(r: RunReport, sizes: CompressedSizes): void {
  const t = r.total, m = r.metrics;
  const card = (label: string, value: string, small = '') => `<div><dt>${esc(label)}</dt><dd>${esc(value)}${small ? ` <small>${esc(small)}</small>` : ''}</dd></div>`;
  $('summary').innerHTML = [
    m.testAccuracy !== undefined
      ? card('test accuracy', pct(m.testAccuracy, 2), m.prunedTestAccuracy !== undefined ? `${pct(m.prunedTestAccuracy, 2)} before weight sharing` : `loss ${m.testLoss.toFixed(3)}`)
      : card('test PSNR', `${(m.testPsnr ?? 0).toFixed(1)} dB`, `MSE ${(m.testMse ?? 0).toExponential(2)}` + (m.prunedTestMse !== undefined ? ` (${m.prunedTestMse.toExponential(2)} before sharing)` : '')),
    card('non-zero weights', fmtInt(t.nonzeros), `of ${fmtInt(t.params)} (${t.nonzeroRatio.toFixed(1)}× fewer)`),
    card('compressed file', fmtBytes(sizes.fileBytes), `${(t.compressionRatio ?? 0).toFixed(1)}× smaller than fp32 (${fmtBytes(t.denseBytes)})`),
    card('training', `${r.timing.wallSeconds.toFixed(1)} s`, `${fmtInt(Math.round(r.timing.samplesPerSec))} samples/s`),
  ].join('');
  const head = ['layer', 'shape', 'weights', 'non-zeros', 'sparsity', 'index', 'bits', 'dense fp32', 'compressed', 'ratio'];
  const rows = r.layers.map((l) => {
    const s = sizes.layers.find((x) => x.layer === l.name);
    const index = !s ? '–' : s.index === 'relative' ? `relative ${s.indexBits}-bit` : s.index;
    return `<tr><td>${esc(l.name)}</td><td>${l.shape.join('×')}</td><td>${fmtInt(l.params)}</td><td>${fmtInt(l.nonzeros)}</td>` +
      `<td><span class="sparsebar"><i style="width:${(100 * l.sparsity).toFixed(1)}%"></i></span>${pct(l.sparsity)}</td><td>${index}</td><td>${l.bitsPerWeight}</td>` +
      `<td>${fmtBytes(l.denseBytes)}</td><td>${l.compressedBytes !== undefined ? fmtBytes(l.compressedBytes) : '–'}</td>` +
      `<td>${l.compressionRatio ? `${l.compressionRatio.toFixed(1)}×` : '–'}</td></tr>`;
  });
  rows.push(`<tr class="header-row"><td>(file header)</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td><td>${fmtBytes(sizes.headerBytes)}</td><td></td></tr>`);
  rows.push(`<tr class="total"><td>total</td><td></td><td>${fmtInt(t.params)}</td><td>${fmtInt(t.nonzeros)}</td><td>${pct(t.sparsity)}</td><td></td><td></td>` +
    `<td>${fmtBytes(t.denseBytes)}</td><td>${fmtBytes(sizes.fileBytes)}</td><td>${(t.compressionRatio ?? 0).toFixed(1)}×</td></tr>`);
  $('report-table').innerHTML = `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody>`;
  const shared = r.layers.some((l) => l.bitsPerWeight < 32);
  $('report-note').textContent = `Compressed = the layer's bytes in the ${COMPRESSED_EXTENSION} file written by exportCompressed: a sparse index of the kept ` +
    `positions, the kept weights (${shared ? 'b-bit indices into a shared codebook of 2^b values' : 'as f32'}) and the biases; the total is the whole file. ` +
    'Dense = weights and biases as fp32. "bits" = bits per kept weight.';
  $('report-text').textContent = formatReport(r);
  $('report').hidden = false;
}

function save(bytes: Uint8Array | string, name: string, type: string): void {
  const blob = new Blob([bytes as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

$('download').addEventListener('click', () => { if (download) save(download.bytes, download.name, 'application/octet-stream'); });
$('download-report').addEventListener('click', () => { if (probe.report) save(JSON.stringify(probe.report, null, 2) + '\n', 'report.json', 'application/json'); });

// ---- start-up -----------------------------------------------------------------------------------

async function start(): Promise<void> {
  const cfg = readConfig();
  setRunning(true);
  try {
    await train(cfg);
  } catch (e) {
    probe.state = 'error';
    probe.error = (e as Error).message;
    showNotice('error', 'Training failed', (e as Error).message);
    setPhase('Training failed — see above.');
    console.warn(e);
  } finally {
    setRunning(false);
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (probe.state === 'training' || probe.state === 'loading' || probe.state === 'evaluating') return;
  void start();
});
stopBtn.addEventListener('click', () => {
  stopRequested = true;
  stopBtn.disabled = true;
  setPhase('Stopping after the work already submitted to the GPU…');
});
field('sparsity').addEventListener('input', syncSparsityLabel);

/** Learning rates that train each preset well with momentum 0.9 (LeNet-5 diverges at 0.1; the autoencoder's MSE needs more). */
const SUGGESTED_LR: Record<string, number> = { 'lenet-300-100': 0.1, 'lenet-5': 0.01, 'mlp:784-100-10': 0.1, 'autoencoder:784-64': 3 };
field('model').addEventListener('change', () => {
  const lr = SUGGESTED_LR[field('model').value];
  if (lr !== undefined) {
    field('lr').value = String(lr);
    $('hint').textContent = `Learning rate set to ${lr}, which suits this model.`;
  }
});

const BROWSER_HELP =
  'This page needs WebGPU: Chrome or Edge 113+ (Windows, macOS, ChromeOS, Android) or another browser with WebGPU enabled, ' +
  'on a secure page (https:// or http://localhost / 127.0.0.1). On Linux, start Chrome/Chromium with --enable-unsafe-webgpu ' +
  '(and --use-angle=vulkan for a Vulkan driver, or --enable-features=Vulkan).';

async function init(): Promise<void> {
  applyUrlParams();
  syncSparsityLabel();
  setRunning(false);
  trainBtn.disabled = true;
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = false;
  if (!window.isSecureContext) {
    probe.state = 'nogpu';
    showNotice('error', 'WebGPU needs a secure page', `This page was opened over an insecure origin (${location.origin}). ${BROWSER_HELP}`, NO_ADAPTER_HELP);
    $('adapter').textContent = 'no WebGPU (insecure origin)';
    setPhase('Cannot train without WebGPU.');
    return;
  }
  if (!('gpu' in navigator)) {
    probe.state = 'nogpu';
    showNotice('error', 'This browser has no WebGPU', `navigator.gpu is missing. ${BROWSER_HELP}`, NO_ADAPTER_HELP);
    $('adapter').textContent = 'no WebGPU (navigator.gpu is missing)';
    setPhase('Cannot train without WebGPU.');
    return;
  }
  try {
    gpu = await createGpu();
  } catch (e) {
    probe.state = 'nogpu';
    showNotice('error', 'No WebGPU adapter', `The browser has WebGPU but gave no adapter or device (${(e as Error).message.split('\n')[0]}). ${BROWSER_HELP}`, NO_ADAPTER_HELP);
    $('adapter').textContent = 'no WebGPU adapter';
    setPhase('Cannot train without WebGPU.');
    return;
  }
  const i = gpu.info;
  probe.adapter = i.description || i.device || `${i.vendor} ${i.architecture}`;
  $('adapter').innerHTML = `WebGPU adapter: <b>${esc(probe.adapter || 'unnamed')}</b><br>${esc([i.vendor, i.architecture].filter(Boolean).join(' · '))}` +
    `${i.isFallbackAdapter ? ' · software fallback' : ''}`;
  gpu.device.lost.then((info) => {
    if (info.reason === 'destroyed') return;
    showNotice('error', 'The GPU device was lost', info.message || String(info.reason), 'Reload the page to start again.');
    trainBtn.disabled = true;
  }).catch(() => undefined);
  probe.state = 'ready';
  trainBtn.disabled = false;
  if (params.get('autostart') === '1') void start();
}

void init();
