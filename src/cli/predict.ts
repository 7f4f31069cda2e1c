// `slimgpu predict --compressed F --data D`: runs a compressed model file in its compressed form
// (CompressedModel: sparse index + codebook on the GPU) over the test split: accuracy, batch-1
// latency, batched throughput, GPU weight bytes; --check also runs the dense model that `eval`
// uses on the same file and compares outputs and predictions.
import { Command, InvalidArgumentError, Option } from 'commander';
import { createGpu } from '../gpu/device.js';
import { normalizeInputs, type RawDataset } from '../data/dataset.js';
import { readFileBytes } from '../io/files.js';
import { loadCompressed } from '../io/export.js';
import { CompressedModel } from '../io/compressed-model.js';
import { evaluate } from '../nn/trainer.js';
import { loadData } from '../run/run.js';

interface PredictFlags {
  compressed: string;
  data: string;
  dataDir?: string;
  testSize?: number;
  batch: number;
  format: 'auto' | 'csr' | 'dense';
  latency: number;
  check?: boolean;
  json?: boolean;
}

const posInt =
  (name: string) =>
  (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
    return x;
  };

export function argmaxRows(y: Float32Array, C: number): Uint32Array {
  const out = new Uint32Array(y.length / C);
  for (let i = 0; i < out.length; i++) {
    let b = 0;
    for (let c = 1; c < C; c++) if (y[i * C + c]! > y[i * C + b]!) b = c;
    out[i] = b;
  }
  return out;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/** Every test sample through the compressed model: outputs, batch-1 latencies and the batched wall time. */
export async function predictAll(
  m: CompressedModel,
  ds: RawDataset,
  batch: number,
  latencySamples: number,
): Promise<{ outputs: Float32Array; latencyMs: number[]; batchedMs: number }> {
  const x = normalizeInputs(ds);
  const D = ds.featureCount;
  const C = x.length ? (await m.predict(x.subarray(0, D))).length : 0; // warm-up, builds the batch-1 plan
  const latencyMs: number[] = [];
  for (let i = 0; i < Math.min(latencySamples, ds.n); i++) {
    const t0 = performance.now();
    await m.predict(x.subarray(i * D, (i + 1) * D));
    latencyMs.push(performance.now() - t0);
  }
  const outputs = new Float32Array(ds.n * C);
  await m.predict(x.subarray(0, Math.min(batch, ds.n) * D)); // warm-up of the batched plan
  const t0 = performance.now();
  for (let s = 0; s < ds.n; s += batch) {
    const e = Math.min(ds.n, s + batch);
    outputs.set(await m.predict(x.subarray(s * D, e * D)), s * C);
  }
  return { outputs, latencyMs, batchedMs: performance.now() - t0 };
}

async function predictCommand(f: PredictFlags): Promise<void> {
  const gpu = await createGpu();
  try {
    const bytes = await readFileBytes(f.compressed, 'compressed model');
    const m = await CompressedModel.load(gpu, bytes, { name: f.compressed, format: f.format });
    const { test } = await loadData(f.data, { dataDir: f.dataDir, testSize: f.testSize });
    const r = await predictAll(m, test, f.batch, f.latency);
    const C = r.outputs.length / test.n;
    const pred = argmaxRows(r.outputs, C);
    const correct = test.labels ? pred.reduce((s, p, i) => s + (p === test.labels![i] ? 1 : 0), 0) : undefined;
    const out: Record<string, unknown> = {
      model: m.spec.name,
      file: f.compressed,
      fileBytes: m.fileBytes,
      samples: test.n,
      accuracy: correct !== undefined ? correct / test.n : undefined,
      latencyMsBatch1: median(r.latencyMs),
      throughputPerSec: test.n / (r.batchedMs / 1000),
      batch: f.batch,
      weightBytes: m.weightBytes,
      denseWeightBytes: m.denseBytes,
      layers: m.info.map((l) => `${l.name}:${l.format}/${l.bits}b/${l.entries}`),
    };
    if (f.check) {
      const net = await loadCompressed(gpu, bytes, { name: f.compressed });
      const dense = (await evaluate(net, test, { predictions: true })).predictions!;
      net.dispose();
      const dpred = argmaxRows(dense, C);
      let maxAbs = 0;
      for (let i = 0; i < dense.length; i++) maxAbs = Math.max(maxAbs, Math.abs(dense[i]! - r.outputs[i]!));
      out.check = {
        samePredictions: dpred.every((p, i) => p === pred[i]),
        differing: dpred.reduce((s, p, i) => s + (p !== pred[i] ? 1 : 0), 0),
        maxAbsDiff: maxAbs,
      };
    }
    m.dispose();
    if (f.json) {
      console.log(JSON.stringify(out, null, 2));
      return;
    }
    const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(2)}%` : '-');
    console.log(
      `${out.model} from ${f.compressed} (${m.fileBytes} B), compressed form on the GPU: ${m.weightBytes} B of weights (dense fp32: ${m.denseBytes} B, ${(m.denseBytes / m.weightBytes).toFixed(1)}x smaller)`,
    );
    console.log(`layers: ${(out.layers as string[]).join(', ')}`);
    console.log(
      `test samples ${test.n}: accuracy ${pct(out.accuracy)}; batch-1 latency ${(out.latencyMsBatch1 as number).toFixed(3)} ms (median of ${r.latencyMs.length}); batch ${f.batch}: ${(out.throughputPerSec as number).toFixed(0)} samples/s`,
    );
    if (out.check) {
      const c = out.check as { samePredictions: boolean; differing: number; maxAbsDiff: number };
      console.log(
        `dense model on the same file: ${c.samePredictions ? 'identical predictions' : `${c.differing} predictions differ`}, max |Δoutput| ${c.maxAbsDiff.toExponential(2)}`,
      );
    }
  } finally {
    gpu.destroy();
  }
}

export function addPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('run a compressed model file in its compressed form (sparse + codebook kernels) on the test split: accuracy, latency, throughput')
    .requiredOption('--compressed <path>', 'a model.slim.safetensors written by train or export')
    .option('--data <source>', 'data source of the test split', 'mnist')
    .option('--data-dir <dir>', 'folder of IDX .gz files')
    .option('--test-size <n>', 'use only the first n test samples', posInt('--test-size'))
    .option('--batch <n>', 'batch size of the throughput pass', posInt('--batch'), 64)
    .option('--latency <n>', 'batch-1 predictions timed for the latency', posInt('--latency'), 50)
    .addOption(
      new Option('--format <layout>', 'weight layout on the GPU: auto (the smaller), csr, dense (dense with codebook)')
        .choices(['auto', 'csr', 'dense'])
        .default('auto'),
    )
    .option('--check', 'also run the dense model (as eval does) and compare outputs and predictions')
    .option('--json', 'print JSON')
    .action(predictCommand);
}
