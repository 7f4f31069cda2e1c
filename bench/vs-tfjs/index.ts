// slimgpu side by side with TensorFlow.js's WebGPU backend: the same work, on the same GPUDevice,
// in one run. Browser-safe (no Node imports): bench/vs-tfjs/node.ts runs it in Node (Dawn),
// demo/vs-tfjs.ts in a page.
//
// TF.js runs on slimgpu's own device: its WebGPUBackend is constructed with `gpu.device` and
// registered as the backend 'webgpu-shared' (TF.js looks kernels up by backend name, so the
// 'webgpu' kernels are registered again under that name). Nothing else is shimmed here; in Node the
// caller must give TF.js a truthy `navigator.gpu` first and register TF.js's gradients (tfjs-core's
// Node bundle has none; see node.ts), in a page the page imports
// '@tensorflow/tfjs-core/dist/register_all_gradients'.
//
// Cases (each side warmed up and validated before any timing):
//   matmul n×n×n                          slimgpu kernels.matmul   | tf.matMul
//   conv2d fwd / bwd-data / bwd-filter    slimgpu NCHW kernels     | tf.conv2d, Conv2DBackpropInput,
//     at the LeNet-5 shapes                                         |   Conv2DBackpropFilter (NHWC; data
//                                                                   |   transposed outside the timed region)
//   one training step (SGD + momentum)    one StepPlan.train       | optimizer.minimize in tf.tidy with
//                                                                   |   tf.train.momentum, fused ops
// Timing: wall time until the results are ready. slimgpu: k repetitions recorded into one command
// encoder, submit, queue.onSubmittedWorkDone(). TF.js: k ops, then its pending commands are flushed
// and the same queue.onSubmittedWorkDone() is awaited (for the training step: `await cost.data()`
// on the last step's loss, the idiomatic sync). k is chosen per side so a sample lasts ~targetMs;
// samples alternate sides (slimgpu first on even repetitions, TF.js first on odd ones); medians.
// Files: core.ts (shared backend + case shapes), cases.ts (matmul, conv, LeNet
// steps), gpt.ts (a whole gpt:L-D-H-T training step).
import * as tf from '@tensorflow/tfjs-core';
import type { Gpu } from '../../src/gpu/device.js';
import { matmulVariant } from '../../src/kernels/matmul.js';
import { median } from '../timing.js';
import { convCase, lenetConvShapes, matmulCase, trainCases, type ConvKind } from './cases.js';
import { gptCases } from './gpt.js';
import { tfSync, useSharedTfBackend, type Case, type Side } from './core.js';

export { syntheticBatch } from './cases.js';
export { TF_BACKEND, tfBackend, useSharedTfBackend } from './core.js';

export type { TrainModel, VsOptions } from './options.js';
import type { VsOptions } from './options.js';

/** Node on lavapipe: the full comparison. */
export const NODE_PRESET: VsOptions = {
  matmul: [256, 512, 1024, 2048],
  convBatch: 64,
  train: [
    { model: 'lenet-300-100', batch: 128 },
    { model: 'lenet-5', batch: 64 },
  ],
  gpt: [{ model: 'gpt:4-128-4-128', batch: 8 }],
  reps: 7,
  targetMs: 60,
  maxK: 64,
  lr: 0.01,
  momentum: 0.9,
};

/** Headless Chromium on SwiftShader: small sizes. */
export const BROWSER_PRESET: VsOptions = {
  matmul: [256, 512],
  convBatch: 64,
  train: [{ model: 'lenet-300-100', batch: 128 }],
  gpt: [],
  reps: 5,
  targetMs: 60,
  maxK: 32,
  lr: 0.01,
  momentum: 0.9,
};

/** Tiny sizes, validation only (tests/vs-tfjs.test.ts). */
export const TINY_PRESET: VsOptions = {
  matmul: [64, 100],
  convBatch: 2,
  train: [
    { model: 'lenet-300-100', batch: 8 },
    { model: 'lenet-5', batch: 4 },
  ],
  gpt: [],
  reps: 1,
  targetMs: 1,
  maxK: 1,
  validateOnly: true,
  lr: 0.01,
  momentum: 0.9,
};

/** A tiny GPT step only, validation only (tests/vs-tfjs.test.ts). */
export const TINY_GPT_PRESET: VsOptions = { ...TINY_PRESET, matmul: [], convBatch: 0, train: [], gpt: [{ model: 'gpt:2-16-2-8', batch: 2 }] };

export interface VsRow {
  group: 'matmul' | 'conv2d' | 'train' | 'gpt';
  name: string;
  size: string;
  /** Median milliseconds of one unit (one op / one step). */
  slimMs: number;
  tfMs: number;
  /** tfMs / slimMs: how many times faster slimgpu is. */
  speedup: number;
  slimGflops?: number;
  tfGflops?: number;
  /** Language-model steps: tokens per second on each side. */
  slimTokensPerSec?: number;
  tfTokensPerSec?: number;
  /** Units per timed sample on each side. */
  slimK: number;
  tfK: number;
  reps: number;
  /** What validation compared (and the worst difference). */
  check: string;
}

export interface VsReport {
  platform: string;
  adapter: string;
  polling: string;
  tfjs: string;
  matmulVariant: string;
  rows: VsRow[];
  /** TF.js tensors alive before and after the run (a leak shows as a difference). */
  tfTensors: { before: number; after: number };
  seconds: number;
}

/** The preset narrowed by the command line. */
export function optionsFrom(base: VsOptions, a: { only?: string[]; reps?: number; sizes?: number[] }): VsOptions {
  const o: VsOptions = { ...base };
  if (a.sizes) o.matmul = a.sizes;
  if (a.reps) o.reps = a.reps;
  if (a.only) {
    if (!a.only.includes('matmul')) o.matmul = [];
    if (!a.only.includes('conv')) o.convBatch = 0;
    if (!a.only.includes('train')) o.train = [];
    if (!a.only.includes('gpt')) o.gpt = [];
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// timing

async function timeOnce(side: Side, k: number): Promise<number> {
  const t0 = performance.now();
  await side.run(k);
  return (performance.now() - t0) / k;
}

async function measureCase(
  c: Case,
  opts: VsOptions,
  fixedK?: { slim: number; tf: number },
): Promise<Pick<VsRow, 'slimMs' | 'tfMs' | 'slimK' | 'tfK'>> {
  // warm-up (compiles already happened in validate): one unit each, then k from the second
  const kOf = async (side: Side) => {
    await timeOnce(side, 1);
    const est = await timeOnce(side, 1);
    return Math.max(1, Math.min(opts.maxK, Math.round(opts.targetMs / Math.max(est, 0.01))));
  };
  const slimK = fixedK?.slim ?? (await kOf(c.slim));
  const tfK = fixedK?.tf ?? (await kOf(c.tf));
  const s: number[] = [],
    t: number[] = [];
  for (let r = 0; r < opts.reps; r++) {
    if (r % 2 === 0) {
      s.push(await timeOnce(c.slim, slimK));
      t.push(await timeOnce(c.tf, tfK));
    } else {
      t.push(await timeOnce(c.tf, tfK));
      s.push(await timeOnce(c.slim, slimK));
    }
  }
  return { slimMs: median(s), tfMs: median(t), slimK, tfK };
}

/** Builds every case, validates it, times it; returns the report. */
export async function runVsTfjs(gpu: Gpu, opts: VsOptions, meta: { platform: string; polling: string }): Promise<VsReport> {
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  await useSharedTfBackend(gpu);
  const before = tf.memory().numTensors;
  const rows: VsRow[] = [];
  const builders: (() => Promise<Case[]>)[] = [
    ...opts.matmul.map((n) => async () => [matmulCase(gpu, n)]),
    ...(opts.convBatch > 0
      ? lenetConvShapes(opts.convBatch).flatMap((s, i) =>
          (['fwd', 'bwd-data', 'bwd-filter'] as ConvKind[]).map((kind) => async () => [convCase(gpu, s, kind, 100 + 10 * i)]),
        )
      : []),
    ...opts.train.map(
      ({ model, batch }) =>
        () =>
          trainCases(gpu, model, batch, opts),
    ),
    ...opts.gpt.map((g) => () => gptCases(gpu, g)),
  ];
  for (const build of builders) {
    const alive = tf.memory().numTensors;
    const cases = await build();
    try {
      for (const c of cases) {
        log(`${c.name} ${c.size}: validating ... `);
        const check = await c.validate();
        gpu.check();
        log(`${check}`);
        let m: Pick<VsRow, 'slimMs' | 'tfMs' | 'slimK' | 'tfK'> = { slimMs: NaN, tfMs: NaN, slimK: 0, tfK: 0 };
        const warm = tf.memory().numTensors;
        if (!opts.validateOnly) {
          // the 1-step-per-submission row times single steps by construction
          m = await measureCase(c, opts, c.name.includes('1 step/submit') ? { slim: 3, tf: 3 } : undefined);
          gpu.check();
          log(`; slimgpu ${m.slimMs.toFixed(3)} ms, TF.js ${m.tfMs.toFixed(3)} ms (${(m.tfMs / m.slimMs).toFixed(2)}x)`);
        }
        log('\n');
        const growth = tf.memory().numTensors - warm;
        if (growth !== 0) throw new Error(`vs-tfjs: TF.js tensors grew by ${growth} over the timed repeats of ${c.name}`);
        const row: VsRow = {
          group: c.group,
          name: c.name,
          size: c.size,
          ...m,
          speedup: +(m.tfMs / m.slimMs).toFixed(2),
          reps: opts.validateOnly ? 0 : opts.reps,
          check,
        };
        row.slimMs = +row.slimMs.toFixed(3);
        row.tfMs = +row.tfMs.toFixed(3);
        if (c.flops && !opts.validateOnly) {
          row.slimGflops = +(c.flops / (m.slimMs * 1e6)).toFixed(2);
          row.tfGflops = +(c.flops / (m.tfMs * 1e6)).toFixed(2);
        }
        if (c.tokens && !opts.validateOnly) {
          row.slimTokensPerSec = Math.round(c.tokens / (m.slimMs / 1000));
          row.tfTokensPerSec = Math.round(c.tokens / (m.tfMs / 1000));
        }
        rows.push(row);
      }
    } finally {
      for (const c of cases) c.dispose();
    }
    const leaked = tf.memory().numTensors - alive;
    if (leaked !== 0) log(`  TF.js tensors left by ${cases.map((c) => c.name).join(', ')}: ${leaked}\n`);
  }
  await tfSync(gpu);
  const after = tf.memory().numTensors;
  return {
    platform: meta.platform,
    adapter:
      gpu.info.description || gpu.info.device || `${gpu.info.vendor}/${gpu.info.architecture}${gpu.info.isFallbackAdapter ? ' (fallback)' : ''}`,
    polling: meta.polling,
    tfjs: tf.version_core,
    matmulVariant: matmulVariant(gpu),
    rows,
    tfTensors: { before, after },
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
}

/** The report as a markdown table. */
export function markdownTable(r: VsReport): string {
  const head = ['case', 'size', 'slimgpu ms', 'TF.js ms', 'speedup', 'slimgpu GFLOPS', 'TF.js GFLOPS', 'tokens/s slimgpu / TF.js', 'k slim/tf'];
  const lines = [
    `${r.platform} · ${r.adapter} · matmul variant ${r.matmulVariant} · TF.js ${r.tfjs} on the same GPUDevice · polling ${r.polling} · median of ${r.rows[0]?.reps ?? 0} interleaved samples · TF.js tensors ${r.tfTensors.before} → ${r.tfTensors.after}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const x of r.rows) {
    lines.push(
      `| ${[
        x.name,
        x.size,
        x.slimMs.toFixed(3),
        x.tfMs.toFixed(3),
        `${x.speedup.toFixed(2)}×`,
        x.slimGflops?.toFixed(2) ?? '',
        x.tfGflops?.toFixed(2) ?? '',
        x.slimTokensPerSec ? `${x.slimTokensPerSec} / ${x.tfTokensPerSec}` : '',
        `${x.slimK}/${x.tfK}`,
      ].join(' | ')} |`,
    );
  }
  lines.push('', 'speedup = TF.js ms / slimgpu ms. Validation before timing:');
  for (const x of r.rows) lines.push(`- ${x.name} ${x.size}: ${x.check}`);
  return lines.join('\n');
}
