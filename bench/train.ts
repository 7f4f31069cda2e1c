// Training throughput: node dist/bench/index.js train [--json]
//   samples/s and ms/step of whole GPU-resident training steps (gather, forward, loss, backward,
//   mask refresh on schedule, fused L2-SGD) for LeNet-300-100 (batch 128) and LeNet-5 (batch 64)
//   on the bundled MNIST digits, and the share of wall time the CPU spends recording and
//   submitting command buffers; and a GPT step (gpt:2-64-4-64, 16 windows of 64 bytes of pseudo-text,
//   AdamW with global-norm clipping, 75% polynomial pruning on schedule) in tokens/s. Each model is
//   warmed up, then timed over several runs (median).
import { createGpu } from '../src/gpu/device.js';
import { loadData, specFor } from '../src/run/run.js';
import { Network, trainNetwork, type TrainOptions, type TrainSummary } from '../src/nn/trainer.js';
import { median } from './timing.js';
import { pseudoText } from './profile-step.js';
import type { AnyDataset } from '../src/nn/network.js';

export interface TrainBenchResult {
  model: string;
  batch: number;
  steps: number;
  stepsPerSubmit: number;
  /** Samples (a GPT: tokens) per second. */
  samplesPerSec: number;
  /** GPT only: tokens per second (= samplesPerSec). */
  tokensPerSec?: number;
  msPerStep: number;
  cpuRecordShare: number;
  sparsity: number;
  runs: number;
}

const CASES = [
  { model: 'lenet-300-100', batch: 128, steps: 120, lr: 0.1 },
  { model: 'lenet-5', batch: 64, steps: 24, lr: 0.01 },
  { model: 'gpt:2-64-4-64', batch: 16, steps: 24, lr: 1e-3 },
];

export async function benchTrain(opts: { json: boolean; quick?: boolean }): Promise<TrainBenchResult[]> {
  const gpu = await createGpu();
  const data = await loadData('mnist-10k');
  const out: TrainBenchResult[] = [];
  try {
    for (const c of CASES) {
      const gpt = c.model.startsWith('gpt:');
      const train: AnyDataset = gpt ? { kind: 'text', name: 'pseudo-text', bytes: pseudoText(1 << 16) } : data.train;
      const net = Network.create(gpu, specFor(c.model, train), 0);
      const steps = opts.quick ? Math.max(4, Math.floor(c.steps / 8)) : c.steps;
      const o: TrainOptions = {
        epochs: 100,
        batch: c.batch,
        lr: c.lr,
        momentum: 0.9,
        l2: 1e-4,
        seed: 0,
        ...(gpt ? { optimizer: 'adamw' as const, clip: 1, weightDecay: 0.1 } : {}),
        sparsity: gpt ? 0.75 : 0.9,
        schedule: 'polynomial',
        pruneBegin: 0,
        pruneEnd: steps * 4,
        pruneFrequency: 10,
        logEvery: 20,
        stepsPerSubmit: 8,
      };
      const state = { step: 0 };
      if (gpt) net.arena.ensureVariance();
      await trainNetwork(net, train, { ...o, maxSteps: Math.min(8, steps) }, state); // warm-up: pipelines, caches
      const runs: TrainSummary[] = [];
      for (let r = 0; r < 3; r++) runs.push(await trainNetwork(net, train, { ...o, maxSteps: state.step + steps }, state));
      const pick = (f: (s: TrainSummary) => number) => median(runs.map(f));
      const res: TrainBenchResult = {
        model: c.model,
        batch: c.batch,
        steps,
        stepsPerSubmit: 8,
        samplesPerSec: +pick((s) => s.samplesPerSec).toFixed(1),
        msPerStep: +pick((s) => s.msPerStep).toFixed(3),
        cpuRecordShare: +pick((s) => s.cpuRecordShare).toFixed(4),
        sparsity: o.sparsity!,
        runs: runs.length,
        ...(gpt ? { tokensPerSec: +pick((s) => s.samplesPerSec).toFixed(1) } : {}),
      };
      out.push(res);
      if (!opts.json) process.stderr.write(`${c.model}: ${res.msPerStep} ms/step\n`);
      net.dispose();
    }
  } finally {
    gpu.destroy();
  }
  if (opts.json) console.log(JSON.stringify(out, null, 1));
  else {
    console.log(`adapter: ${gpu.info.description || gpu.info.device}`);
    console.log('model           batch  ms/step  samples/s  CPU record+submit share   (gpt: batch = windows of T bytes, samples = tokens)');
    for (const r of out)
      console.log(
        `${r.model.padEnd(14)}  ${String(r.batch).padStart(5)}  ${r.msPerStep.toFixed(2).padStart(7)}  ${r.samplesPerSec.toFixed(0).padStart(9)}  ${(100 * r.cpuRecordShare).toFixed(2)}%`,
      );
  }
  return out;
}
