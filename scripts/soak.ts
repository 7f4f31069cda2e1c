// npm run soak [-- --model lenet-5|gpt --steps 10000 --quick]: a long run that must not leak.
//   One training run of --steps steps with the sparsity schedule's mask refreshes, and at every
//   sample point (--every steps): periodic evaluation, a checkpoint written and read back, and, every
//   --share-every steps, k-means weight sharing + centroid fine-tuning + compressed export and load
//   on the checkpoint's copy (image models). At each sample: live GPU buffers and bytes (slimgpu's
//   buffer accounting), the pipeline-cache size, process RSS and V8 heap. Prints a table and the
//   slope of each series per 1000 steps (least squares over the samples after the first 10% of the
//   run, and over the second half); writes results/soak-MODEL.json.
//   Run under `node --expose-gc` (npm run soak does) and the JS heap is collected before each sample,
//   so RSS and heap are not a matter of when V8 last collected. --malloc adds glibc's own count of
//   live native memory and of the memory its arenas hold (scripts/malloc-stats.ts, through gdb): RSS
//   minus the arenas' free pages, the number that tells a native leak from allocator warm-up.
//   --preset picks the gpt: model (default gpt:2-64-4-32, the README's GPT learning runs' model).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { pipelines } from '../src/gpu/pipeline.js';
import { loadData, readCheckpoint, specFor, writeCheckpoint, type RunConfig } from '../src/run/run.js';
import { evaluate, Network, sparsityScheduleOf, trainNetwork, type AnyDataset } from '../src/nn/trainer.js';
import { isPruningStep } from '../src/nn/schedule.js';
import { modelFromName, parseGptName } from '../src/nn/model.js';
import { splitText } from '../src/data/text.js';
import { fineTuneCentroids, shareWeights } from '../src/compress/sharing.js';
import { exportCompressed, loadCompressed } from '../src/io/export.js';
import { mallocStats } from './malloc-stats.js';

interface Sample {
  step: number;
  seconds: number;
  liveBuffers: number;
  liveMiB: number;
  createdBuffers: number;
  pipelines: number;
  rssMiB: number;
  heapMiB: number;
  mallocInUseMiB?: number;
  mallocSystemMiB?: number;
  evalLoss?: number;
}
type Series = 'liveBuffers' | 'liveMiB' | 'pipelines' | 'rssMiB' | 'heapMiB' | 'mallocInUseMiB' | 'mallocSystemMiB';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** Least-squares slope of y over x. */
export function slope(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2) return 0;
  const mx = x.reduce((a, b) => a + b, 0) / n,
    my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0,
    sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

async function setup(
  model: string,
  gpu: Gpu,
  quick: boolean,
): Promise<{ net: Network; train: AnyDataset; test: AnyDataset; cfg: RunConfig; image: boolean }> {
  if (model === 'gpt') {
    // a small byte-level GPT on the GPL-3 text every Debian machine has (35 KB)
    const text = new Uint8Array(await readFile('/usr/share/common-licenses/GPL-3'));
    const preset = arg('preset', quick ? 'gpt:1-32-2-32' : 'gpt:2-64-4-32');
    const T = parseGptName(preset)?.T;
    if (T === undefined) throw new Error(`soak: --preset must be a gpt:L-D-H-T name, got '${preset}'`);
    const split = splitText(text, 'GPL-3', T);
    const spec = modelFromName(preset, { input: [T], numClasses: 256 });
    const cfg: RunConfig = {
      model: spec.name,
      data: 'text:GPL-3',
      epochs: 1000,
      batch: 8,
      lr: 3e-3,
      momentum: 0.9,
      l2: 0,
      seed: 0,
      optimizer: 'adamw',
      clip: 1,
      warmup: 50,
      sparsity: 0.5,
    } as RunConfig;
    return { net: Network.create(gpu, spec, 0), train: split.train, test: split.test, cfg, image: false };
  }
  const data = await loadData('mnist', { trainSize: quick ? 512 : 4096, testSize: quick ? 100 : 500 });
  const cfg: RunConfig = {
    model,
    data: 'mnist',
    epochs: 100_000,
    batch: quick ? 16 : 32,
    lr: 0.01,
    momentum: 0.9,
    l2: 1e-4,
    seed: 0,
    sparsity: 0.9,
    schedule: 'polynomial',
  };
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
  const o = {
    ...cfg,
    maxSteps: steps,
    checkpointEvery: every,
    pruneBegin: Math.floor(steps * 0.05),
    pruneEnd: Math.floor(steps * 0.6),
    pruneFrequency: Math.max(1, Math.floor(every / 5)),
    logEvery: every,
  };
  const samples: Sample[] = [];
  const t0 = performance.now();
  let sideJobs = 0,
    refreshes = 0,
    evals = 0,
    checkpoints = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  const withMalloc = process.argv.includes('--malloc');
  const series: Series[] = [
    'liveBuffers',
    'liveMiB',
    'pipelines',
    'rssMiB',
    'heapMiB',
    ...(withMalloc ? (['mallocInUseMiB', 'mallocSystemMiB'] as const) : []),
  ];
  const sample = async (step: number, evalLoss?: number) => {
    if (gc) {
      // collect, let finalizers (the native halves of Dawn's objects) run, collect again
      gc();
      await new Promise((r) => setTimeout(r, 20));
      gc();
    }
    const m = gpu.memory,
      mu = process.memoryUsage();
    const ms = withMalloc ? mallocStats() : undefined;
    samples.push({
      step,
      seconds: (performance.now() - t0) / 1000,
      liveBuffers: m.liveBuffers,
      liveMiB: m.liveBytes / 2 ** 20,
      createdBuffers: m.createdBuffers,
      pipelines: pipelines(gpu).size,
      rssMiB: mu.rss / 2 ** 20,
      heapMiB: mu.heapUsed / 2 ** 20,
      ...(ms ? { mallocInUseMiB: ms.inUseBytes / 2 ** 20, mallocSystemMiB: ms.systemBytes / 2 ** 20 } : {}),
      evalLoss,
    });
    const s = samples[samples.length - 1]!;
    const native = ms ? `  malloc ${s.mallocInUseMiB!.toFixed(2)} MiB live / ${s.mallocSystemMiB!.toFixed(1)} MiB held (${ms.arenas} arenas)` : '';
    console.error(
      `step ${step}  ${s.seconds.toFixed(0)} s  buffers ${s.liveBuffers} (${s.liveMiB.toFixed(2)} MiB, ${s.createdBuffers} made)  pipelines ${s.pipelines}  RSS ${s.rssMiB.toFixed(1)} MiB  heap ${s.heapMiB.toFixed(2)} MiB${native}${evalLoss !== undefined ? `  eval loss ${evalLoss.toFixed(4)}` : ''}`,
    );
  };
  const state = { step: 0 };
  await trainNetwork(net, train, o, state, {
    onCheckpoint: async (step) => {
      const ev = await evaluate(net, test);
      evals++;
      await writeCheckpoint(ckpt, net, step, o);
      checkpoints++;
      // the first round doubles as warm-up: every code path has run (and compiled its pipelines) once
      if (step === every || step % shareEvery === 0) {
        // the compression pipeline on a copy read back from the checkpoint
        const copy = (await readCheckpoint(gpu, ckpt)).net;
        try {
          let sharing = await shareWeights(copy, { bits: (l) => (l.spec.kind === 'conv2d' ? 8 : 5), init: 'linear', seed: 0 });
          sharing = (await fineTuneCentroids(copy, sharing, train, { steps: 20, lr: image ? 0.001 : 3e-4, batch: cfg.batch, seed: 0 })).sharing;
          const bytes = await exportCompressed(copy, sharing);
          const back = await loadCompressed(gpu, bytes);
          await evaluate(back, test);
          back.dispose();
          sideJobs++;
        } finally {
          copy.dispose();
        }
      }
      await sample(step, ev.loss);
    },
  });
  const sched = sparsityScheduleOf(o, steps);
  for (let t = 0; t < state.step && sched; t++) if (isPruningStep(sched, t)) refreshes++;
  const wall = (performance.now() - t0) / 1000;
  const after = samples.filter((s) => s.step >= Math.max(steps * 0.1, every));
  await sample(state.step); // after training: only the network's own buffers are left
  const half = after.filter((s) => s.step >= steps / 2);
  // a --malloc sample can be missing (gdb timed out): fit each series over the samples that have it
  const fit = (xs: Sample[], k: Series) => {
    const h = xs.filter((s) => s[k] !== undefined);
    return (
      1000 *
      slope(
        h.map((s) => s.step),
        h.map((s) => s[k]!),
      )
    );
  };
  const slopes = Object.fromEntries(series.map((k) => [k, fit(after, k)]));
  const halfSlopes = Object.fromEntries(series.map((k) => [k, fit(half, k)]));
  const first = after[0]!;
  const end = samples[samples.length - 1]!;
  console.log(
    `soak: ${model}, ${state.step} steps in ${wall.toFixed(0)} s; ${refreshes} mask refreshes, ${evals} evaluations, ${checkpoints} checkpoints, ${sideJobs} share+fine-tune+export+load rounds`,
  );
  console.log(`${gc ? 'JS heap collected before each sample' : 'no --expose-gc: RSS and heap as V8 left them'}; samples from step ${first.step}`);
  console.log('| series | at 10% | at the end | min | max | slope per 1000 steps | slope, second half |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const k of series) {
    const has = after.filter((s) => s[k] !== undefined),
      v = has.map((s) => s[k]!);
    if (!has.length) continue;
    console.log(
      `| ${k} | ${has[0]![k]!.toFixed(2)} | ${has[has.length - 1]![k]!.toFixed(2)} | ${Math.min(...v).toFixed(2)} | ${Math.max(...v).toFixed(2)} | ${slopes[k]!.toFixed(3)} | ${halfSlopes[k]!.toFixed(3)} |`,
    );
  }
  console.log(
    `after training: ${end.liveBuffers} live buffers (${end.liveMiB.toFixed(2)} MiB: the network's arena), ${end.pipelines} pipelines, ${end.createdBuffers} buffers made in all`,
  );
  await mkdir('results', { recursive: true });
  await writeFile(
    outFile,
    JSON.stringify(
      {
        model,
        steps: state.step,
        wallSeconds: wall,
        evals,
        checkpoints,
        sideJobs,
        refreshes,
        measuredFrom: after[0]!.step,
        forcedGc: !!gc,
        adapter: gpu.info.description,
        slopesPer1000Steps: slopes,
        secondHalfSlopesPer1000Steps: halfSlopes,
        samples,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${outFile}`);
  net.dispose();
  gpu.destroy();
  await rm(dir, { recursive: true, force: true });
}

await main();
