// The live training demo (demo/index.html): trains a model on the bundled MNIST digits through
// WebGPU with magnitude pruning, and shows loss/accuracy curves, per-layer sparsity read from the
// masks, images of the first layer's weights and masks; then weight sharing (k-means + centroid
// fine-tuning, as `slimgpu train --bits`), the compression report and the compressed model file
// (exportCompressed) to download.
//
// URL parameters preset the form (train, model, sparsity, schedule, pruning, bits, epochs, batch,
// lr, momentum, l2, seed) and a few things the form does not show: test (test samples, default
// 2000), steps (stop after this many steps), fineTune (centroid fine-tuning steps), logEvery,
// perSubmit (steps per command buffer), inspectMs (least time between mask readbacks), autostart=1,
// fault=device-lost@step=N (lose the device there; the page offers to continue, see recovery.ts) and
// autoResume=1 (continue without asking).
//
// window.__demo exposes the run's state for tests (tests/demo.test.ts).
import {
  DeviceLostError,
  evaluate,
  formatReport,
  mnistSplit,
  modelFromName,
  Network,
  parseFault,
  sparsityScheduleOf,
  sparsityAt,
  trainNetwork,
  type Gpu,
  type LogEntry,
  type TrainOptions,
  type TrainSummary,
} from '../src/index.js';
import { compressedSizes, COMPRESSED_EXTENSION, exportCompressed } from '../src/io/export.js';
import { fineTuneCentroids, shareWeights, type WeightSharing } from '../src/compress/sharing.js';
import { RUN_DEFAULTS } from '../src/run/config.js';
import { $, fmtInt, pct, save, showNotice, startGpu } from './page.js';
import { probe } from './probe.js';
import { buildReport, showReport, type DemoConfig } from './report.js';
import { applyUrlParams, field, form, params, readConfig, SUGGESTED_LR, syncSparsityLabel } from './config.js';
import { offerContinue, restoreOnNewDevice, takeSnapshot, type Snapshot } from './recovery.js';
import { LiveChart, PALETTE, type ChartSpec } from './charts.js';
import { loadMnistDigits } from './data.js';
import { drawTiles, tileLayout, type TileLayout } from './weights.js';

// ---- DOM ------------------------------------------------------------------------------------------

const trainBtn = $<HTMLButtonElement>('run');
const stopBtn = $<HTMLButtonElement>('stop');
const phaseEl = $('phase');

const setPhase = (s: string) => {
  phaseEl.textContent = s;
};

function setRunning(running: boolean): void {
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = running;
  trainBtn.disabled = running;
  stopBtn.disabled = !running;
}

// ---- charts and stats ---------------------------------------------------------------------------

const lossChart = new LiveChart($('chart-loss'), { yLabel: 'loss', series: [{ label: 'train loss' }] });
const accChart = new LiveChart($('chart-acc'), { yLabel: 'accuracy', series: [{ label: 'train' }, { label: 'test', points: true }] });
const sparsityChart = new LiveChart($('chart-sparsity'), {
  yLabel: 'sparsity',
  series: [{ label: 'target', color: '#475569', dash: [3, 3] }],
  yRange: [0, 1],
});
const charts = [lossChart, accChart, sparsityChart];

$<HTMLInputElement>('logscale').addEventListener('change', (ev) => {
  probe.toggles++;
  lossChart.setLog((ev.target as HTMLInputElement).checked);
});

const stat = (id: string, v: string) => {
  $(id).textContent = v;
};

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
  probe.logs = [];
  probe.sparsity = [];
  probe.tests = [];
  probe.report = undefined;
  probe.reportText = undefined;
  probe.fileBytes = undefined;
  probe.stopped = false;
  probe.error = undefined;
  probe.maxLagMs = 0;
  probe.framesWhileTraining = 0;
  probe.deviceLost = [];
  probe.resumedFrom = [];
  $('notice').hidden = true;
  $('report').hidden = true;
  latest = undefined;
  stopRequested = false;

  probe.state = 'loading';
  setPhase('Loading the bundled MNIST digits…');
  const all = await loadMnistDigits();
  const split = mnistSplit(all, { trainSize: Math.min(cfg.train, all.n - cfg.test), testSize: cfg.test, seed: 0 });
  const spec = modelFromName(cfg.model, { input: split.train.inputShape, numClasses: split.train.numClasses });
  const autoencoder = spec.task === 'autoencoder';
  let net = Network.create(gpu, spec, cfg.seed);
  try {
    const stepsPerEpoch = Math.floor(split.train.n / cfg.batch);
    const total = Math.min(cfg.maxSteps ?? Infinity, cfg.epochs * stepsPerEpoch);
    if (!(total >= 1)) throw new Error(`batch ${cfg.batch} is larger than the ${split.train.n} training samples`);
    const opts: TrainOptions = {
      epochs: cfg.epochs,
      batch: cfg.batch,
      lr: cfg.lr,
      momentum: cfg.momentum,
      l2: cfg.l2,
      seed: cfg.seed,
      sparsity: cfg.sparsity,
      schedule: cfg.schedule,
      pruning: cfg.pruning,
      maxSteps: cfg.maxSteps,
      logEvery: cfg.logEvery ?? Math.max(1, Math.min(25, Math.round(total / 120))),
      stepsPerSubmit: cfg.perSubmit,
      maxInFlight: 2,
      checkpointEvery: Math.max(1, Math.round(total / 10)),
    };
    const sched = sparsityScheduleOf(opts, total);
    run = { total, stepsPerEpoch, autoencoder };
    probe.totalSteps = total;

    // charts for this run
    const prunable = net.arena.prunable().map((v) => v.name);
    const layerName = (p: string) => p.replace(/\.weight$/, '');
    lossChart.reset(
      { yLabel: autoencoder ? 'MSE' : 'cross-entropy', series: [{ label: 'train loss' }], log: $<HTMLInputElement>('logscale').checked },
      total,
    );
    const accSpec: ChartSpec = autoencoder
      ? { yLabel: 'PSNR (dB)', series: [{ label: 'train' }, { label: 'test', points: true }] }
      : {
          yLabel: 'accuracy',
          series: [{ label: 'train' }, { label: 'test', points: true }],
          yRange: [0, 1],
          format: (v) => `${Math.round(v * 100)}%`,
        };
    accChart.reset(accSpec, total);
    $('acc-title').textContent = autoencoder ? 'Reconstruction PSNR' : 'Accuracy';
    $('s-acc-label').textContent = autoencoder ? 'PSNR' : 'accuracy';
    sparsityChart.reset(
      {
        yLabel: 'sparsity',
        yRange: [0, 1],
        format: (v) => `${Math.round(v * 100)}%`,
        series: [
          ...prunable.map((p, i) => ({ label: layerName(p), color: PALETTE[i % PALETTE.length], points: true })),
          { label: 'target', color: '#475569', dash: [3, 3], width: 1.25 },
        ],
      },
      total,
    );
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
        .catch((e: unknown) => {
          inspectError = e;
          stopRequested = true;
        })
        .finally(() => {
          inspecting = undefined;
          lastInspect = performance.now();
        });
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
    setPhase(
      `Training ${cfg.model} on ${fmtInt(split.train.n)} digits: ${fmtInt(total)} steps of ${cfg.batch}` +
        (sched ? `, pruning to ${pct(cfg.sparsity, 0)} (${cfg.schedule}, ${cfg.pruning === 'global' ? 'global' : 'per layer'})` : ', dense') +
        '…',
    );
    let summary: TrainSummary | undefined;
    // an in-memory snapshot at every checkpoint point: what a lost device is continued from
    let snapshot: Snapshot = await takeSnapshot(net, 0);
    let fault = parseFault(cfg.fault);
    try {
      while (!summary) {
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
            async onCheckpoint(step) {
              snapshot = await takeSnapshot(net, step);
            },
            fault,
          });
        } catch (e) {
          if (!(e instanceof DeviceLostError)) throw e;
          probe.deviceLost.push({ reason: e.reason, lastGoodStep: e.lastGoodStep, snapshotStep: snapshot.step, message: e.message });
          setPhase(`The GPU device was lost at step ${fmtInt(e.lastGoodStep)} or after.`);
          await inspecting;
          if (!(await offerContinue(e, snapshot, params.get('autoResume') === '1'))) throw e;
          net.dispose();
          ({ gpu, net } = await restoreOnNewDevice(spec, cfg.seed, snapshot));
          state.step = snapshot.step;
          fault = undefined;
          inspectError = undefined;
          probe.resumedFrom.push(snapshot.step);
          setPhase(`Continuing from step ${fmtInt(snapshot.step)} on a new device…`);
        }
      }
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
      sharing = await shareWeights(net, { bits: (l) => (l.spec.kind === 'conv2d' ? RUN_DEFAULTS.convBits : cfg.bits), seed: cfg.seed });
      const steps = cfg.fineTune ?? Math.min(100, stepsPerEpoch);
      if (steps > 0)
        sharing = (await fineTuneCentroids(net, sharing, split.train, { steps, lr: cfg.lr * 0.1, batch: cfg.batch, seed: cfg.seed })).sharing;
      test = await evaluate(net, split.test);
    }
    await inspect();
    setPhase('Writing the compressed model…');
    const bytes = await exportCompressed(net, sharing);
    const sizes = compressedSizes(bytes);
    const report = await buildReport(net, cfg, probe.adapter, test, sharing ? pruned : undefined, summary, sizes);
    download = { bytes, name: `${cfg.model.replace(/[^a-z0-9.-]+/gi, '-')}${COMPRESSED_EXTENSION}` };
    probe.report = report;
    probe.reportText = formatReport(report);
    probe.fileBytes = bytes.length;
    showReport(report, sizes);
    render();
    setPhase(
      `${probe.stopped ? 'Stopped' : 'Done'} after ${fmtInt(state.step)} steps in ${summary.wallSeconds.toFixed(1)} s` +
        ` (${fmtInt(Math.round(summary.samplesPerSec))} samples/s, ${summary.msPerStep.toFixed(2)} ms/step)` +
        (sharing ? '; weights shared and fine-tuned.' : '.'),
    );
    probe.state = 'done';
  } finally {
    net.dispose();
  }
}

$('download').addEventListener('click', () => {
  if (download) save(download.bytes, download.name, 'application/octet-stream');
});
$('download-report').addEventListener('click', () => {
  if (probe.report) save(JSON.stringify(probe.report, null, 2) + '\n', 'report.json', 'application/json');
});

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
$('lose-gpu').addEventListener('click', () => {
  if (probe.state === 'training') gpu?.simulateLoss('simulated from the page (the "Lose the GPU" button)');
});
stopBtn.addEventListener('click', () => {
  stopRequested = true;
  stopBtn.disabled = true;
  setPhase('Stopping after the work already submitted to the GPU…');
});
field('sparsity').addEventListener('input', syncSparsityLabel);

field('model').addEventListener('change', () => {
  const lr = SUGGESTED_LR[field('model').value];
  if (lr !== undefined) {
    field('lr').value = String(lr);
    $('hint').textContent = `Learning rate set to ${lr}, which suits this model.`;
  }
});

async function init(): Promise<void> {
  applyUrlParams();
  syncSparsityLabel();
  setRunning(false);
  trainBtn.disabled = true;
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = false;
  // a run reports and continues its own device loss (recovery.ts)
  const g = await startGpu({
    ownsLoss: () => probe.state === 'training',
    onLost: () => {
      trainBtn.disabled = true;
    },
  });
  if (!g) {
    probe.state = 'nogpu';
    setPhase('Cannot train without WebGPU.');
    return;
  }
  ({ gpu } = g);
  probe.adapter = g.adapter;
  probe.state = 'ready';
  trainBtn.disabled = false;
  if (params.get('autostart') === '1') void start();
}

void init();
