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
  trainNetwork,
  type Gpu,
  type TrainCallbacks,
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
import { loadMnistDigits } from './data.js';
import { accChart, Inspector, live, lossChart, psnr, render, requestRender, resetCharts } from './live.js';

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

// ---- one run ------------------------------------------------------------------------------------

let gpu: Gpu | undefined;
let stopRequested = false;
let download: { bytes: Uint8Array; name: string } | undefined;

/** Clears the page's state of the last run (the probe, the notice, the report, the stats). */
function resetProbe(cfg: DemoConfig): void {
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
  live.latest = undefined;
  stopRequested = false;
}

/** The demo's training options (a log point every ~1/120 of the run, a checkpoint every 1/10). */
function trainOptionsOf(cfg: DemoConfig, total: number): TrainOptions {
  return {
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
}

/** After training: evaluates, shares the weights (with --bits), writes the compressed model and shows the report. */
async function finishRun(
  cfg: DemoConfig,
  net: Network,
  split: ReturnType<typeof mnistSplit>,
  step: number,
  autoencoder: boolean,
  summary: TrainSummary,
  stepsPerEpoch: number,
  inspect: () => Promise<void>,
): Promise<void> {
  probe.state = 'evaluating';
  setPhase(`Evaluating on ${fmtInt(split.test.n)} test digits…`);
  const pruned = await evaluate(net, split.test);
  probe.tests.push({ step: step, result: pruned });
  accChart.set(step, 1, autoencoder ? pruned.psnr : pruned.accuracy);
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
    `${probe.stopped ? 'Stopped' : 'Done'} after ${fmtInt(step)} steps in ${summary.wallSeconds.toFixed(1)} s` +
      ` (${fmtInt(Math.round(summary.samplesPerSec))} samples/s, ${summary.msPerStep.toFixed(2)} ms/step)` +
      (sharing ? '; weights shared and fine-tuned.' : '.'),
  );
  probe.state = 'done';
}

/** A timer that should keep ticking while the GPU trains (the page must not freeze): the longest lag goes to the probe. */
function startLagTimer(): ReturnType<typeof setInterval> {
  let lastTick = performance.now();
  return setInterval(() => {
    const now = performance.now();
    probe.maxLagMs = Math.max(probe.maxLagMs, now - lastTick - 50);
    lastTick = now;
  }, 50);
}

/** The run's callbacks: the charts and stats at each log, a test evaluation at each epoch end, a snapshot at each checkpoint. */
function callbacksOf(
  net: () => Network,
  test: ReturnType<typeof mnistSplit>['test'],
  autoencoder: boolean,
  ins: Inspector,
  onSnapshot: (s: Snapshot) => void,
): TrainCallbacks {
  return {
    onLog(e) {
      probe.logs.push(e);
      live.latest = e;
      lossChart.set(e.step, 0, e.loss);
      accChart.set(e.step, 0, autoencoder ? psnr(e.loss) : e.accuracy);
      ins.maybeInspect();
      requestRender();
    },
    shouldStop: () => stopRequested,
    async onEpochEnd(step) {
      const r = await evaluate(net(), test);
      probe.tests.push({ step, result: r });
      accChart.set(step, 1, autoencoder ? r.psnr : r.accuracy);
      requestRender();
    },
    async onCheckpoint(step) {
      onSnapshot(await takeSnapshot(net(), step));
    },
  };
}

async function train(cfg: DemoConfig): Promise<void> {
  if (!gpu) throw new Error('no WebGPU device');
  resetProbe(cfg);

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
    const opts = trainOptionsOf(cfg, total);
    const sched = sparsityScheduleOf(opts, total);
    live.run = { total, stepsPerEpoch, autoencoder };
    probe.totalSteps = total;

    // charts for this run
    const prunable = net.arena.prunable().map((v) => v.name);
    resetCharts(prunable, autoencoder, total, sched);

    // first-layer images and per-layer sparsity, read back now and then (async; never awaited by training)
    const state = { step: 0 };
    const ins = Inspector.create(
      () => net,
      state,
      prunable,
      cfg.inspectMs,
      () => {
        stopRequested = true;
      },
    );
    await ins.inspect();
    ins.lastInspect = performance.now();

    const lagTimer = startLagTimer();

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
          const onSnapshot = (s: Snapshot) => {
            snapshot = s;
          };
          summary = await trainNetwork(net, split.train, opts, state, { ...callbacksOf(() => net, split.test, autoencoder, ins, onSnapshot), fault });
        } catch (e) {
          if (!(e instanceof DeviceLostError)) throw e;
          probe.deviceLost.push({ reason: e.reason, lastGoodStep: e.lastGoodStep, snapshotStep: snapshot.step, message: e.message });
          setPhase(`The GPU device was lost at step ${fmtInt(e.lastGoodStep)} or after.`);
          await ins.inspecting;
          if (!(await offerContinue(e, snapshot, params.get('autoResume') === '1'))) throw e;
          net.dispose();
          ({ gpu, net } = await restoreOnNewDevice(spec, cfg.seed, snapshot));
          state.step = snapshot.step;
          fault = undefined;
          ins.error = undefined;
          probe.resumedFrom.push(snapshot.step);
          setPhase(`Continuing from step ${fmtInt(snapshot.step)} on a new device…`);
        }
      }
    } finally {
      clearInterval(lagTimer);
      await ins.inspecting;
    }
    if (ins.error) throw ins.error;
    probe.stopped = stopRequested;
    stopBtn.disabled = true;

    await finishRun(cfg, net, split, state.step, autoencoder, summary, stepsPerEpoch, ins.inspect);
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
