// The text-model page (demo/text.html): a byte-level GPT (gpt:L-D-H-T) trains with AdamW on a
// bundled, pasted or chosen text through WebGPU; training bits per byte are logged as it goes and
// the validation split (the last 10%) is evaluated every `evalEvery` steps; the model samples text
// after each validation and whenever "Sample now" is pressed (also mid-run: the sampler shares the
// weights and runs between training submissions). At the end: pruning to the target (polynomial,
// per layer, during training), k-means weight sharing with centroid fine-tuning, the compression
// report and the compressed model to download.
//
// Training runs in segments of `evalEvery` steps (trainNetwork resumes from state.step: same
// permutation, same AdamW step counter), with a linear warm-up then a constant learning rate.
//
// URL parameters preset the form (source, model, steps, batch, lr, warmup, weightDecay, clip,
// sparsity, bits, seed, prompt, tokens, temperature, sampleSeed) and a few more: evalEvery,
// fineTune (centroid fine-tuning steps), perSubmit, autostart=1. window.__text exposes the run
// for tests (tests/text-page.test.ts).
import {
  CompressedModel,
  evaluate,
  exportCompressed,
  fineTuneCentroids,
  modelFromName,
  Network,
  shareWeights,
  splitText,
  TextSampler,
  trainNetwork,
  windowCount,
  type EvalResult,
  type Gpu,
  type LogEntry,
  type RunReport,
  type TextSplit,
  type TrainOptions,
  type TrainSummary,
  type WeightSharing,
} from '../src/index.js';
import { compressedSizes, COMPRESSED_EXTENSION } from '../src/io/export.js';
import { GPT_VOCAB, parseGptName } from '../src/nn/presets.js';
import { LiveChart } from './charts.js';
import { $, esc, fmtInt, hideNotice, pct, save, showNotice, startGpu } from './page.js';
import { lmReport, showLmReport } from './report-view.js';
import { field, form, FORM_PARAMS, loadSource, params, readConfig, setRunning, syncSource, type TextConfig } from './text-form.js';

type Phase = 'init' | 'nogpu' | 'ready' | 'loading' | 'training' | 'compressing' | 'done' | 'error';

interface TextProbe {
  state: Phase;
  adapter?: string;
  config?: TextConfig;
  totalSteps: number;
  logs: LogEntry[];
  /** Validation after each segment (step 0: the untrained model). */
  vals: { step: number; bitsPerByte: number }[];
  samples: { step: number; prompt: string; text: string; bytes: number; from: 'dense' | 'compressed' }[];
  /** After the export: sampling runs from the compressed file (CompressedModel: every matrix compressed on the GPU). */
  compressed?: { fileBytes: number; weightBytes: number; denseBytes: number };
  report?: RunReport;
  fileBytes?: number;
  stopped: boolean;
  error?: string;
}

const probe: TextProbe = { state: 'init', totalSteps: 0, logs: [], vals: [], samples: [], stopped: false };
(window as unknown as { __text: TextProbe }).__text = probe;

const setPhase = (s: string) => {
  $('phase').textContent = s;
};

// ---- chart and stats ----------------------------------------------------------------------------

const chart = new LiveChart($('chart-bpb'), { yLabel: 'bits per byte', series: [{ label: 'train' }, { label: 'validation', points: true }] });
const stat = (id: string, v: string) => {
  $(id).textContent = v;
};
let frameRequested = false;
let latest: LogEntry | undefined;

function render(): void {
  frameRequested = false;
  chart.flush();
  if (latest) {
    stat('s-step', `${fmtInt(latest.step)} / ${fmtInt(probe.totalSteps)}`);
    stat('s-train', (latest.bitsPerByte ?? 0).toFixed(3));
    stat('s-acc', latest.accuracy !== undefined ? pct(latest.accuracy) : '–');
    stat('s-sparsity', pct(latest.sparsity));
    stat('s-speed', fmtInt(Math.round(latest.samplesPerSec)));
    $('bar').style.width = `${(100 * latest.step) / Math.max(1, probe.totalSteps)}%`;
  }
  const v = probe.vals.at(-1);
  if (v) stat('s-val', v.bitsPerByte.toFixed(3));
}

function requestRender(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(render);
}

// ---- sampling -----------------------------------------------------------------------------------

let gpu: Gpu | undefined;
let adapter: string | undefined;
type Sampler = Pick<TextSampler, 'generate' | 'dispose'>;
/** The model of the last run (kept after it ends so that it can still be sampled) and its sampler: the dense network's while training, the compressed file's after the export. */
let current: { net: Network; sampler: Sampler; from: 'dense' | 'compressed'; step: () => number } | undefined;
let sampling: Promise<void> | undefined;

/** Samples from the current model with the form's settings; shows the text as it comes. */
function sampleNow(): Promise<void> {
  if (sampling || !current) return sampling ?? Promise.resolve();
  const cur = current;
  const prompt = new TextEncoder().encode(field('prompt').value);
  const tokens = Math.max(1, Math.min(5000, Math.round(Number(field('tokens').value) || 200)));
  const temperature = Math.max(0, Number(field('temperature').value) || 0);
  const seed = Math.round(Number(field('sampleSeed').value) || 0);
  const step = cur.step();
  const el = document.createElement('div');
  el.className = 'sample';
  const from = cur.from;
  el.innerHTML = `<header>step ${fmtInt(step)} · temperature ${temperature} · seed ${seed}${from === 'compressed' ? ' · from the compressed file' : ''}</header><pre><b>${esc(field('prompt').value)}</b><span></span></pre>`;
  const out = el.querySelector('span')!;
  $('samples').prepend(el);
  const dec = new TextDecoder('utf-8', { fatal: false });
  $<HTMLButtonElement>('sample').disabled = true;
  sampling = (async () => {
    try {
      const bytes = await cur.sampler.generate(prompt, {
        tokens,
        temperature,
        seed,
        onByte: (b) => {
          out.textContent += dec.decode(Uint8Array.of(b), { stream: true });
        },
      });
      out.textContent += dec.decode();
      probe.samples.push({ step, prompt: field('prompt').value, text: new TextDecoder().decode(bytes), bytes: bytes.length, from });
    } finally {
      sampling = undefined;
      $<HTMLButtonElement>('sample').disabled = !current;
    }
  })();
  return sampling;
}

/** From now on the page samples from the compressed file: every matrix stays compressed on the GPU (CompressedModel). */
async function sampleFromFile(bytes: Uint8Array): Promise<void> {
  const cur = current;
  if (!gpu || !cur) return;
  setPhase('Loading the compressed file for sampling…');
  await sampling;
  const cm = await CompressedModel.load(gpu, bytes);
  cur.sampler.dispose();
  cur.sampler = { generate: (p, o) => cm.generate(p, o), dispose: () => cm.dispose() };
  cur.from = 'compressed';
  probe.compressed = { fileBytes: bytes.length, weightBytes: cm.weightBytes, denseBytes: cm.denseBytes };
  $('sample-note').textContent =
    `Sampling from the compressed file: ${fmtInt(cm.weightBytes)} bytes of weights on the GPU (dense fp32: ${fmtInt(cm.denseBytes)} bytes).`;
  if (field<HTMLInputElement>('autoSample').checked) await sampleNow();
}

// ---- one run ------------------------------------------------------------------------------------

let stopRequested = false;
let download: { bytes: Uint8Array; name: string } | undefined;

async function train(cfg: TextConfig): Promise<void> {
  if (!gpu) throw new Error('no WebGPU device');
  Object.assign(probe, { config: cfg, logs: [], vals: [], samples: [], report: undefined, fileBytes: undefined, stopped: false, error: undefined });
  hideNotice();
  $('report').hidden = true;
  latest = undefined;
  stopRequested = false;
  await sampling;
  current?.sampler.dispose();
  current?.net.dispose();
  current = undefined;
  $('samples').textContent = '';
  $('sample-note').textContent = 'the model writes as it learns';

  probe.state = 'loading';
  setPhase('Reading the text…');
  const gptCfg = parseGptName(cfg.model);
  if (!gptCfg) throw new Error(`model: write gpt:L-D-H-T (layers, width, heads, context), e.g. gpt:2-64-4-64; got '${cfg.model}'`);
  const T = gptCfg.T;
  const src = await loadSource(cfg.source);
  const split: TextSplit = splitText(src.bytes, src.name, T);
  const windows = windowCount(split.train.bytes.length, T, 'train');
  if (windows < cfg.batch) throw new Error(`batch ${cfg.batch} is larger than the ${windows} training windows of ${T + 1} bytes in this text`);
  const spec = modelFromName(cfg.model, { input: [T], numClasses: GPT_VOCAB });
  const net = Network.create(gpu, spec, cfg.seed);
  net.arena.ensureVariance();
  const state = { step: 0 };
  current = { net, sampler: await TextSampler.create(net), from: 'dense', step: () => state.step };
  $<HTMLButtonElement>('sample').disabled = false;

  const total = cfg.steps;
  const stepsPerEpoch = Math.floor(windows / cfg.batch);
  const pruneBegin = Math.min(Math.floor(total * 0.1), total - 1),
    pruneEnd = Math.max(pruneBegin, Math.floor(total * 0.66));
  const opts: TrainOptions = {
    epochs: Math.ceil(total / stepsPerEpoch),
    batch: cfg.batch,
    lr: cfg.lr,
    momentum: 0.9,
    l2: 0,
    seed: cfg.seed,
    optimizer: 'adamw',
    beta1: 0.9,
    beta2: 0.95,
    weightDecay: cfg.weightDecay,
    clip: cfg.clip,
    warmup: cfg.warmup,
    lrSchedule: 'constant',
    sparsity: cfg.sparsity,
    schedule: 'polynomial',
    pruning: 'layer',
    pruneBegin,
    pruneEnd,
    pruneFrequency: Math.max(1, Math.floor((pruneEnd - pruneBegin) / 20)),
    logEvery: Math.max(1, Math.min(25, Math.round(total / 150))),
    stepsPerSubmit: cfg.perSubmit,
    maxInFlight: 2,
  };
  probe.totalSteps = total;
  chart.reset({ yLabel: 'bits per byte', series: [{ label: 'train' }, { label: 'validation', points: true }] }, total);
  for (const s of ['s-step', 's-train', 's-val', 's-acc', 's-sparsity', 's-speed']) stat(s, '–');
  $('bar').style.width = '0';

  const validate = async () => {
    const r = await evaluate(net, split.test);
    probe.vals.push({ step: state.step, bitsPerByte: r.bitsPerByte! });
    chart.set(state.step, 1, r.bitsPerByte);
    requestRender();
    if (field<HTMLInputElement>('autoSample').checked) await sampleNow();
    return r;
  };
  await validate();

  probe.state = 'training';
  const trainBytes = split.train.bytes.length;
  setPhase(
    `Training ${cfg.model} (${fmtInt(net.paramCount)} parameters) on ${fmtInt(trainBytes)} bytes of ${src.name}: ${fmtInt(total)} AdamW steps of ` +
      `${cfg.batch} windows of ${T} bytes${cfg.sparsity > 0 ? `, pruning to ${pct(cfg.sparsity, 0)} per layer` : ''}; validation on the last ${fmtInt(split.test.bytes.length)} bytes…`,
  );
  let wall = 0;
  let summary: TrainSummary | undefined;
  const history: LogEntry[] = [];
  while (state.step < total && !stopRequested) {
    const s = await trainNetwork(net, split.train, { ...opts, maxSteps: Math.min(total, state.step + cfg.evalEvery) }, state, {
      onLog(e) {
        probe.logs.push(e);
        latest = e;
        chart.set(e.step, 0, e.bitsPerByte);
        requestRender();
      },
      shouldStop: () => stopRequested,
    });
    wall += s.wallSeconds;
    history.push(...s.history);
    summary = s;
    await validate();
  }
  const ran = state.step;
  summary = {
    ...(summary ?? { cpuRecordShare: 0 }),
    steps: ran,
    epochs: ran / stepsPerEpoch,
    history,
    wallSeconds: wall,
    samplesPerSec: (ran * cfg.batch * T) / Math.max(1e-9, wall),
    msPerStep: (1000 * wall) / Math.max(1, ran),
  } as TrainSummary;
  probe.stopped = stopRequested;
  $<HTMLButtonElement>('stop').disabled = true;

  probe.state = 'compressing';
  const pruned: EvalResult = await evaluate(net, split.test);
  let test = pruned;
  let sharing: WeightSharing | undefined;
  if (cfg.bits > 0) {
    setPhase(`Weight sharing: k-means to ${2 ** cfg.bits} values per matrix, then ${cfg.fineTune} steps of centroid fine-tuning…`);
    await sampling;
    sharing = await shareWeights(net, { bits: () => cfg.bits, seed: cfg.seed });
    if (cfg.fineTune > 0)
      sharing = (await fineTuneCentroids(net, sharing, split.train, { steps: cfg.fineTune, lr: cfg.lr * 0.1, batch: cfg.batch, seed: cfg.seed }))
        .sharing;
    test = await evaluate(net, split.test);
    probe.vals.push({ step: state.step, bitsPerByte: test.bitsPerByte! });
  }
  setPhase('Writing the compressed model…');
  const bytes = await exportCompressed(net, sharing);
  const sizes = compressedSizes(bytes);
  const report = await lmReport(
    net,
    {
      model: cfg.model,
      data: `${src.name} (${fmtInt(src.bytes.length)} bytes; last 10% validation)`,
      config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
      adapter,
      summary,
      test,
      pruned: sharing ? pruned : undefined,
    },
    sizes,
  );
  download = { bytes, name: `${cfg.model.replace(/[^a-z0-9.-]+/gi, '-')}${COMPRESSED_EXTENSION}` };
  probe.report = report;
  probe.fileBytes = bytes.length;
  showLmReport(report, sizes);
  render();
  await sampleFromFile(bytes);
  setPhase(
    `${probe.stopped ? 'Stopped' : 'Done'} after ${fmtInt(ran)} steps in ${wall.toFixed(1)} s (${fmtInt(Math.round(summary.samplesPerSec))} bytes/s): ` +
      `validation ${test.bitsPerByte!.toFixed(3)} bits per byte${sharing ? ` after ${cfg.bits}-bit sharing (${pruned.bitsPerByte!.toFixed(3)} before)` : ''}. ` +
      'The model stays loaded: sample from it on the left.',
  );
  probe.state = 'done';
}

// ---- start-up -----------------------------------------------------------------------------------

async function start(): Promise<void> {
  setRunning(true);
  try {
    await train(readConfig());
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
  if (['loading', 'training', 'compressing'].includes(probe.state)) return;
  void start();
});
$('stop').addEventListener('click', () => {
  stopRequested = true;
  $<HTMLButtonElement>('stop').disabled = true;
  setPhase('Stopping after the work already submitted to the GPU…');
});
$('sample').addEventListener('click', () => {
  void sampleNow().catch((e: unknown) => showNotice('error', 'Sampling failed', (e as Error).message));
});
field('source').addEventListener('change', syncSource);
$('download').addEventListener('click', () => {
  if (download) save(download.bytes, download.name);
});
$('download-report').addEventListener('click', () => {
  if (probe.report) save(JSON.stringify(probe.report, null, 2) + '\n', 'report.json', 'application/json');
});

async function init(): Promise<void> {
  for (const name of FORM_PARAMS) {
    const v = params.get(name);
    if (v !== null) field(name).value = v;
  }
  syncSource();
  setRunning(false);
  $<HTMLButtonElement>('run').disabled = true;
  const g = await startGpu();
  if (!g) {
    probe.state = 'nogpu';
    setPhase('Cannot train without WebGPU.');
    return;
  }
  ({ gpu, adapter } = g);
  probe.adapter = adapter;
  probe.state = 'ready';
  $<HTMLButtonElement>('run').disabled = false;
  if (params.get('autostart') === '1') void start();
}

void init();
