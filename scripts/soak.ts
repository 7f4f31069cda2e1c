// npm run soak [-- --model lenet-5|gpt --steps 10000 --quick]: a long run that must not leak.
//   One training run of --steps steps with the sparsity schedule's mask refreshes, and at every
//   sample point (--every steps): periodic evaluation, a checkpoint written and read back, and, every
//   --share-every steps, k-means weight sharing + centroid fine-tuning + compressed export and load
//   on the checkpoint's copy (image models). At each sample: live GPU buffers and bytes (slimgpu's
//   buffer accounting), the pipeline-cache size, process RSS and V8 heap. Prints a table and the
//   slope of each series per 1000 steps (least squares over the samples after the first 10% of the
//   run); writes results/soak-MODEL.json.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { pipelines } from '../src/gpu/pipeline.js';
import { loadData, readCheckpoint, specFor, writeCheckpoint, type RunConfig } from '../src/run.js';
import { evaluate, Network, sparsityScheduleOf, trainNetwork, type AnyDataset } from '../src/nn/trainer.js';
import { isPruningStep } from '../src/compress/schedule.js';
import { modelFromName } from '../src/nn/model.js';
import { splitText } from '../src/data/text.js';
import { fineTuneCentroids, shareWeights } from '../src/compress/sharing.js';
import { exportCompressed, loadCompressed } from '../src/io/export.js';
import type { RawDataset } from '../src/data/dataset.js';

interface Sample { step: number; seconds: number; liveBuffers: number; liveMiB: number; createdBuffers: number; pipelines: number; rssMiB: number; heapMiB: number; evalLoss?: number }
const SERIES = ['liveBuffers', 'liveMiB', 'pipelines', 'rssMiB', 'heapMiB'] as const;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** Least-squares slope of y over x. */
export function slope(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2) return 0;
  const mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i]! - mx) * (y[i]! - my); sxx += (x[i]! - mx) ** 2; }
  return sxx === 0 ? 0 : sxy / sxx;
}

async function setup(model: string, gpu: Gpu, quick: boolean): Promise<{ net: Network; train: AnyDataset; test: AnyDataset; cfg: RunConfig; image: boolean }> {
  if (model === 'gpt') {
    // a small byte-level GPT on the GPL-3 text every Debian machine has (35 KB)
    const text = new Uint8Array(await readFile('/usr/share/common-licenses/GPL-3'));
    const split = splitText(text, 'GPL-3', 32);
    const spec = modelFromName(quick ? 'gpt:1-32-2-32' : 'gpt:2-64-2-32', { input: [32], numClasses: 256 });
    const cfg: RunConfig = { model: spec.name, data: 'text:GPL-3', epochs: 1000, batch: 8, lr: 3e-3, momentum: 0.9, l2: 0, seed: 0, optimizer: 'adamw', clip: 1, warmup: 50, sparsity: 0.5 } as RunConfig;
    return { net: Network.create(gpu, spec, 0), train: split.train, test: split.test, cfg, image: false };
  }
  const data = await loadData('mnist', { trainSize: quick ? 512 : 4096, testSize: quick ? 100 : 500 });
  const cfg: RunConfig = { model, data: 'mnist', epochs: 100_000, batch: quick ? 16 : 32, lr: 0.01, momentum: 0.9, l2: 1e-4, seed: 0, sparsity: 0.9, schedule: 'polynomial' };
  return { net: Network.create(gpu, specFor(model, data.train), 0), train: data.train, test: data.test, cfg, image: true };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const model = arg('model', 'lenet-5');
  const steps = Number(arg('steps', quick ? '120' : '10000'));
  const every = Number(arg('every', quick ? '20' : '250'));
  const shareEvery = Number(arg('share-every', quick ? '60' : '2500'));
  const outFile = arg('json', `results/soak-${model.replace(/[^a-z0-9-]/gi, '_')}${quick ? '-quick' : ''}.json`);
  const gpu = await createGpu();
  const dir = await mkdtemp(join(tmpdir(), 'slimgpu-soak-'));
  const ckpt = join(dir, 'checkpoint.safetensors');
  const { net, train, test, cfg, image } = await setup(model, gpu, quick);
  // the schedule does not depend on the step count: refreshes every `every / 5` steps from 5% to 60%
  const o = { ...cfg, maxSteps: steps, checkpointEvery: every, pruneBegin: Math.floor(steps * 0.05), pruneEnd: Math.floor(steps * 0.6), pruneFrequency: Math.max(1, Math.floor(every / 5)), logEvery: every };
  const samples: Sample[] = [];
  const t0 = performance.now();
  let sideJobs = 0, refreshes = 0, evals = 0, checkpoints = 0;
  const sample = (step: number, evalLoss?: number) => {
    const m = gpu.memory, mu = process.memoryUsage();
    samples.push({ step, seconds: (performance.now() - t0) / 1000, liveBuffers: m.liveBuffers, liveMiB: m.liveBytes / 2 ** 20, createdBuffers: m.createdBuffers, pipelines: pipelines(gpu).size, rssMiB: mu.rss / 2 ** 20, heapMiB: mu.heapUsed / 2 ** 20, evalLoss });
    const s = samples[samples.length - 1]!;
    console.error(`step ${step}  ${s.seconds.toFixed(0)} s  buffers ${s.liveBuffers} (${s.liveMiB.toFixed(2)} MiB, ${s.createdBuffers} made)  pipelines ${s.pipelines}  RSS ${s.rssMiB.toFixed(1)} MiB  heap ${s.heapMiB.toFixed(1)} MiB${evalLoss !== undefined ? `  eval loss ${evalLoss.toFixed(4)}` : ''}`);
  };
  const state = { step: 0 };
  await trainNetwork(net, train, o, state, {
    onCheckpoint: async (step) => {
      const ev = await evaluate(net, test);
      evals++;
      await writeCheckpoint(ckpt, net, step, o);
      checkpoints++;
      // the first round doubles as warm-up: every code path has run (and compiled its pipelines) once
      if (image && (step === every || step % shareEvery === 0)) {
        // the compression pipeline on a copy read back from the checkpoint
        const copy = (await readCheckpoint(gpu, ckpt)).net;
        try {
          let sharing = await shareWeights(copy, { bits: (l) => (l.spec.kind === 'conv2d' ? 8 : 5), init: 'linear', seed: 0 });
          sharing = (await fineTuneCentroids(copy, sharing, train as RawDataset, { steps: 20, lr: 0.001, batch: 32, seed: 0 })).sharing;
          const bytes = await exportCompressed(copy, sharing);
          const back = await loadCompressed(gpu, bytes);
          await evaluate(back, test);
          back.dispose();
          sideJobs++;
        } finally {
          copy.dispose();
        }
      }
      sample(step, ev.loss);
    },
  });
  const sched = sparsityScheduleOf(o, steps);
  for (let t = 0; t < state.step && sched; t++) if (isPruningStep(sched, t)) refreshes++;
  const wall = (performance.now() - t0) / 1000;
  const after = samples.filter((s) => s.step >= Math.max(steps * 0.1, every));
  sample(state.step); // after training: only the network's own buffers are left
  const slopes = Object.fromEntries(SERIES.map((k) => [k, 1000 * slope(after.map((s) => s.step), after.map((s) => s[k]))]));
  const first = after[0]!, last = after[after.length - 1]!;
  const end = samples[samples.length - 1]!;
  console.log(`soak: ${model}, ${state.step} steps in ${wall.toFixed(0)} s; ${refreshes} mask refreshes, ${evals} evaluations, ${checkpoints} checkpoints, ${sideJobs} share+fine-tune+export+load rounds`);
  console.log('| series | at 10% | at the end | min | max | slope per 1000 steps |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const k of SERIES) {
    const v = after.map((s) => s[k]);
    console.log(`| ${k} | ${first[k].toFixed(2)} | ${last[k].toFixed(2)} | ${Math.min(...v).toFixed(2)} | ${Math.max(...v).toFixed(2)} | ${slopes[k]!.toFixed(3)} |`);
  }
  console.log(`after training: ${end.liveBuffers} live buffers (${end.liveMiB.toFixed(2)} MiB: the network's arena), ${end.pipelines} pipelines, ${end.createdBuffers} buffers made in all`);
  await mkdir('results', { recursive: true });
  await writeFile(outFile, JSON.stringify({ model, steps: state.step, wallSeconds: wall, evals, checkpoints, sideJobs, refreshes, measuredFrom: after[0]!.step, adapter: gpu.info.description, slopesPer1000Steps: slopes, samples }, null, 2) + '\n');
  console.log(`wrote ${outFile}`);
  net.dispose();
  gpu.destroy();
  await rm(dir, { recursive: true, force: true });
}

await main();
