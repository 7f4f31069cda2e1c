// npm run results [-- --quick] [-- --only TEXT]: Deep Compression's MNIST table, reproduced, and the
//   recommender's (ratio vs NDCG@10, scripts/rec-results-run.ts): `--only rec` runs that group alone
//   (not part of --quick, which CI runs).
//   For LeNet-300-100 and LeNet-5 on full MNIST (60k/10k) and on Fashion-MNIST: train dense, prune
//   the trained model with per-layer targets while retraining (gradual, polynomial), share the kept
//   weights with per-layer k-means codebooks, fine-tune the centroids, and write the
//   .slim.safetensors file (huffman-coded where smaller). Errors are measured after each stage.
//   Writes results/RESULTS.md and results/results.json; file bytes are the written files' sizes.
//   --only 'DATA MODEL'[,...] (or just DATA or MODEL) runs those plans and keeps the other rows of an
//   existing results.json (each row records when it was run).
//   The dense phase's checkpoint is cached in results/cache/ (--cache DIR, --no-cache): re-running a
//   plan with other pruning/sharing settings skips the dense training.
import { deflateRawSync } from 'node:zlib';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { compressNetwork, fileBytesOf, loadData, readCheckpoint, specFor, writeCheckpoint, type RunConfig } from '../src/run/run.js';
import { crc32 } from '../src/codec/crc32.js';
import { evaluate, Network, trainNetwork, type TrainOptions } from '../src/nn/trainer.js';
import { compressInputOf, compressedSizes, serializeCompressed } from '../src/io/export.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import type { DatasetSplit } from '../src/data/dataset.js';
import type { WeightSharing } from '../src/compress/sharing.js';
import { markdown as mnistMarkdown, type LayerRow, type Row } from './results-table.js';
import { recResults, recSection, replaceRecSection, REC_RESULTS_ARGS } from './rec-results-run.js';

interface Plan {
  data: 'mnist' | 'fashion-mnist';
  model: 'lenet-300-100' | 'lenet-5';
  batch: number;
  lr: number;
  l2: number;
  denseEpochs: number;
  /** Linear learning-rate warm-up steps of the dense phase (LeNet-5 with SGD + momentum overshoots without it: loss 2.99 at step 50, 97.6% after an epoch vs 98.9% with 200 steps). */
  warmup?: number;
  pruneEpochs: number;
  pruneLr: number;
  /** L2 during pruning + retraining (it is what keeps the pruned LeNet-300-100 at the dense error: 1.56% vs 1.91% with 1e-4). */
  pruneL2: number;
  /** Fraction of the pruning phase by which each layer reaches its target. */
  pruneEnd: number;
  sparsity: Record<string, number>;
  bits: Record<string, number>;
  fineTuneSteps: number;
}

// Per-layer targets in the spirit of the paper (LeNet-300-100: 8% / 9% / 26% kept at 6 bits;
// LeNet-5: 66% / 12% / 8% / 19% kept at 8-bit conv / 5-bit dense codebooks).
const FULL: Plan[] = [
  {
    data: 'mnist',
    model: 'lenet-300-100',
    batch: 128,
    lr: 0.1,
    l2: 1e-4,
    denseEpochs: 15,
    pruneEpochs: 10,
    pruneLr: 0.1,
    pruneL2: 5e-4,
    pruneEnd: 0.4,
    sparsity: { dense1: 0.93, dense2: 0.87, dense3: 0.6 },
    bits: { dense: 4 },
    fineTuneSteps: 1500,
  },
  {
    data: 'mnist',
    model: 'lenet-5',
    batch: 64,
    lr: 0.02,
    l2: 5e-4,
    denseEpochs: 8,
    warmup: 300,
    pruneEpochs: 6,
    pruneLr: 0.02,
    pruneL2: 5e-4,
    pruneEnd: 0.5,
    sparsity: { conv1: 0.34, conv2: 0.88, dense1: 0.95, dense2: 0.81 },
    bits: { conv: 8, dense: 5 },
    fineTuneSteps: 600,
  },
  {
    data: 'fashion-mnist',
    model: 'lenet-300-100',
    batch: 128,
    lr: 0.1,
    l2: 1e-4,
    denseEpochs: 10,
    pruneEpochs: 10,
    pruneLr: 0.1,
    pruneL2: 5e-4,
    pruneEnd: 0.4,
    sparsity: { dense1: 0.93, dense2: 0.87, dense3: 0.6 },
    bits: { dense: 4 },
    fineTuneSteps: 300,
  },
  {
    data: 'fashion-mnist',
    model: 'lenet-5',
    batch: 64,
    lr: 0.02,
    l2: 5e-4,
    denseEpochs: 3,
    warmup: 300,
    pruneEpochs: 3,
    pruneLr: 0.01,
    pruneL2: 5e-4,
    pruneEnd: 0.5,
    sparsity: { conv1: 0.4, conv2: 0.9, dense1: 0.97, dense2: 0.85 },
    bits: { conv: 8, dense: 5 },
    fineTuneSteps: 300,
  },
];

const quick = (p: Plan): Plan => ({ ...p, denseEpochs: 1, pruneEpochs: 1, fineTuneSteps: 20 });

/** Bytes of the index and codebook-index sections: packed, as written (huffman where smaller), and deflate (zlib raw, level 9) of the packed ones. */
async function codingComparison(net: Network, sharing: WeightSharing | undefined, written: Uint8Array): Promise<Row['coding']> {
  const packedFile = serializeCompressed(await compressInputOf(net, sharing), { entropyCoding: false });
  const sections = (bytes: Uint8Array) =>
    Object.entries(parseSafetensors(bytes).tensors)
      .filter(([k]) => k.endsWith('.index') || k.endsWith('.values'))
      .map(([, t]) => t.data as Uint8Array);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const packed = sections(packedFile);
  return {
    packed: sum(packed.map((s) => s.length)),
    huffman: sum(sections(written).map((s) => s.length)),
    deflate: sum(packed.map((s) => deflateRawSync(s, { level: 9 }).length)),
    deflateFile: deflateRawSync(packedFile, { level: 9 }).length,
  };
}

/**
 * The dense phase, cached: its checkpoint is kept in `cacheDir` under a name derived from everything
 * that determines it (data, sizes, model, batch, lr, warm-up, L2, epochs, seed), so a re-run with
 * new pruning or sharing settings starts from the same dense weights (and optimizer state) at once.
 */
/** The training options every phase of a plan shares. */
const baseOptions = (p: Plan, seed: number) => ({ batch: p.batch, momentum: 0.9, l2: p.l2, seed, lrSchedule: 'cosine' as const });

async function denseNetwork(
  gpu: Gpu,
  split: DatasetSplit,
  p: Plan,
  seed: number,
  cacheDir: string | undefined,
): Promise<{ net: Network; seconds: number }> {
  const base = baseOptions(p, seed);
  const key = JSON.stringify({
    data: p.data,
    n: split.train.n,
    test: split.test.n,
    model: p.model,
    batch: p.batch,
    lr: p.lr,
    warmup: p.warmup ?? 0,
    l2: p.l2,
    epochs: p.denseEpochs,
    seed,
  });
  const path = cacheDir && `${cacheDir}/dense-${p.data}-${p.model}-${crc32(new TextEncoder().encode(key)).toString(16).padStart(8, '0')}.safetensors`;
  if (path) {
    try {
      const { net, cfg } = await readCheckpoint(gpu, path);
      if ((cfg as unknown as { denseKey?: string }).denseKey === key) {
        process.stderr.write(`dense weights from ${path} ... `);
        return { net, seconds: (cfg as unknown as { denseSeconds: number }).denseSeconds };
      }
      net.dispose();
    } catch {
      /* not cached yet (or unreadable): train */
    }
  }
  const net = Network.create(gpu, specFor(p.model, split.train), seed);
  const t0 = performance.now();
  await trainNetwork(net, split.train, { ...base, epochs: p.denseEpochs, lr: p.lr, warmup: p.warmup }, { step: 0 });
  const seconds = (performance.now() - t0) / 1000;
  if (path) {
    await mkdir(cacheDir!, { recursive: true });
    const cfg = {
      ...base,
      model: p.model,
      data: p.data,
      epochs: p.denseEpochs,
      lr: p.lr,
      warmup: p.warmup,
      denseKey: key,
      denseSeconds: seconds,
    } as RunConfig;
    await writeCheckpoint(path, net, 0, cfg);
  }
  return { net, seconds };
}

/** The rows of the final file's layers: kept weights, bits, index and value coding, bytes against the dense ones. */
function layerRowsOf(net: Network, sizes: ReturnType<typeof compressedSizes>): LayerRow[] {
  return sizes.layers.map((l) => {
    const view = net.arena.views.get(`${l.layer}.weight`)!,
      bias = net.arena.views.get(`${l.layer}.bias`)!;
    const lDense = (view.length + bias.length) * 4;
    return {
      layer: l.layer,
      params: l.params,
      kept: l.kept,
      bits: l.bits,
      index: l.index === 'relative' ? `relative ${l.indexBits}-bit ${l.indexCoding}` : l.index,
      values: l.bits === 32 ? 'f32' : `${l.codebook} centroids, ${l.valueCoding}`,
      bytes: l.bytes,
      denseBytes: lDense,
      ratio: lDense / l.bytes,
    };
  });
}

/** A plan's settings, as the table's last column says them. */
function configText(p: Plan): string {
  return (
    `dense ${p.denseEpochs} ep lr ${p.lr}${p.warmup ? ` (warm-up ${p.warmup} steps)` : ''} cosine, batch ${p.batch}, L2 ${p.l2}; prune+retrain ${p.pruneEpochs} ep lr ${p.pruneLr} cosine L2 ${p.pruneL2}, ` +
    `sparsity ${Object.entries(p.sparsity)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')} (polynomial over ${p.pruneEnd * 100}% of it); ` +
    `bits ${Object.entries(p.bits)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}, k-means++, ${p.fineTuneSteps} centroid fine-tune steps`
  );
}

async function runPlan(gpu: Gpu, split: DatasetSplit, p: Plan, cacheDir: string | undefined): Promise<Row> {
  const seed = 0;
  const base = baseOptions(p, seed);
  const { net, seconds: denseSeconds } = await denseNetwork(gpu, split, p, seed, cacheDir);
  try {
    const t0 = performance.now() - denseSeconds * 1000;
    const denseError = 1 - (await evaluate(net, split.test)).accuracy!;
    process.stderr.write(`dense error ${(100 * denseError).toFixed(2)}% ... `);
    // prune the trained model while retraining: every layer from 0 to its target over pruneEnd of the phase
    const steps = Math.floor(split.train.n / p.batch) * p.pruneEpochs;
    const prune: TrainOptions = {
      ...base,
      l2: p.pruneL2,
      epochs: p.pruneEpochs,
      lr: p.pruneLr,
      sparsity: 0,
      layerSparsity: p.sparsity,
      schedule: 'polynomial',
      pruneBegin: 0,
      pruneEnd: Math.max(1, Math.floor(steps * p.pruneEnd)),
    };
    await trainNetwork(net, split.train, prune, { step: 0 });
    const trainSeconds = (performance.now() - t0) / 1000;
    const cfg: RunConfig = {
      ...base,
      model: p.model,
      data: p.data,
      epochs: p.pruneEpochs,
      lr: p.pruneLr,
      layerBits: p.bits,
      shareInit: 'kmeans++',
      fineTuneSteps: p.fineTuneSteps,
    };
    const prunedFile = (await compressNetwork(net, { ...cfg, layerBits: undefined, bits: undefined }, split.train, split.test)).bytes;
    const { bytes, sharing, pruned } = await compressNetwork(net, cfg, split.train, split.test);
    const finalError = 1 - (await evaluate(net, split.test)).accuracy!;
    process.stderr.write(`pruned ${(100 * (1 - pruned!.accuracy!)).toFixed(2)}% ... final ${(100 * finalError).toFixed(2)}% ... `);
    const file = fileBytesOf(bytes);
    const sizes = compressedSizes(bytes);
    let denseBytes = 0;
    for (const v of net.arena.views.values()) denseBytes += v.length * 4;
    const layers = layerRowsOf(net, sizes);
    return {
      data: p.data,
      model: p.model,
      denseError,
      prunedError: 1 - pruned!.accuracy!,
      finalError,
      params: sizes.layers.reduce((s, l) => s + l.params, 0),
      kept: sizes.layers.reduce((s, l) => s + l.kept, 0),
      denseBytes,
      prunedFileBytes: prunedFile.length,
      fileBytes: file.fileBytes,
      headerBytes: file.headerBytes,
      ratio: denseBytes / file.fileBytes,
      layers,
      coding: await codingComparison(net, sharing, bytes),
      trainSeconds,
      config: configText(p),
      finishedAt: new Date().toISOString(),
    };
  } finally {
    net.dispose();
  }
}

// RESULTS.md: the MNIST tables, then the recommendation table of OUT/rec-results.json when there is one
let recMd = '';
const markdown = (rows: Row[], adapter: string, quick: boolean) => mnistMarkdown(rows, adapter, quick) + recMd;

async function main(): Promise<void> {
  const quickMode = process.argv.includes('--quick');
  const arg = (k: string) => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const outDir = arg('--out') ?? 'results';
  const only = arg('--only');
  // dense checkpoints are reused across runs unless --no-cache
  const cacheDir = process.argv.includes('--no-cache') ? undefined : (arg('--cache') ?? `${outDir}/cache`);
  // the recommendation group: `--only rec`, or every full run (not --quick: CI runs that)
  const recToo = only ? only.split(',').some((o) => o.trim() === 'rec') : !quickMode;
  recMd = await recSection(outDir);
  if (process.argv.includes('--render')) {
    // rewrite RESULTS.md from results.json (e.g. after merging rows of separate --only runs)
    const j = JSON.parse(await readFile(`${outDir}/results.json`, 'utf8')) as { adapter: string; quick: boolean; rows: Row[] };
    await writeFile(`${outDir}/RESULTS.md`, markdown(j.rows, j.adapter, j.quick));
    return;
  }
  const gpu = await createGpu();
  let rows: Row[] = [];
  if (only) {
    try {
      rows = (JSON.parse(await readFile(`${outDir}/results.json`, 'utf8')) as { rows: Row[] }).rows.filter((r) => r.layers);
    } catch {
      rows = [];
    }
  }
  const plans = (quickMode ? FULL.map(quick).filter((p) => p.model !== 'lenet-5' || p.data === 'mnist') : FULL).filter(
    (p) => !only || only.split(',').some((o) => [`${p.data} ${p.model}`, p.data, p.model].includes(o.trim())),
  );
  for (const p of plans) {
    const split = await loadData(p.data, quickMode ? { trainSize: 1024, testSize: 500 } : {});
    process.stderr.write(`${p.data} ${p.model}: `);
    const row = await runPlan(gpu, split, p, quickMode ? undefined : cacheDir);
    rows = rows.filter((r) => !(r.data === row.data && r.model === row.model));
    rows.push(row);
    rows.sort(
      (a, b) => FULL.findIndex((q) => q.data === a.data && q.model === a.model) - FULL.findIndex((q) => q.data === b.data && q.model === b.model),
    );
    process.stderr.write(`${row.fileBytes} bytes, ${row.ratio.toFixed(1)}×\n`);
    const adapter = gpu.info.description || gpu.info.device;
    await mkdir(outDir, { recursive: true });
    await writeFile(`${outDir}/RESULTS.md`, markdown(rows, adapter, quickMode));
    await writeFile(`${outDir}/results.json`, JSON.stringify({ adapter, quick: quickMode, rows }, null, 1) + '\n');
  }
  if (recToo) {
    // --rec-load-dense FILE: the dense tables saved by `npm run results:rec -- --save-dense FILE` (same model and data)
    const load = arg('--rec-load-dense');
    const recArgs = [
      ...REC_RESULTS_ARGS,
      ...(load ? ['--load-dense', load] : []),
      '--out-md',
      `${outDir}/REC-PLANS.md`,
      '--out-json',
      `${outDir}/rec-plans.json`,
    ];
    await recResults(gpu, recArgs, outDir, `npm run results -- --only rec${load ? ` --rec-load-dense ${load}` : ''}`);
    recMd = await recSection(outDir);
    // no MNIST rows known here (results.json is not kept): the rec section replaces its old self in RESULTS.md
    const md = rows.length
      ? markdown(rows, gpu.info.description || gpu.info.device, quickMode)
      : replaceRecSection(await readFile(`${outDir}/RESULTS.md`, 'utf8').catch(() => ''), recMd);
    await writeFile(`${outDir}/RESULTS.md`, md);
  }
  gpu.destroy();
  console.log(markdown(rows, gpu.info.description || gpu.info.device, quickMode));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
