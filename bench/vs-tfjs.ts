// slimgpu side by side with TensorFlow.js's WebGPU backend: the same work, on the same GPUDevice,
// in one run. Browser-safe (no Node imports): bench/vs-tfjs-node.ts runs it in Node (Dawn),
// demo/vs-tfjs.ts in a page.
//
// TF.js runs on slimgpu's own device: its WebGPUBackend is constructed with `gpu.device` and
// registered as the backend 'webgpu-shared' (TF.js looks kernels up by backend name, so the
// 'webgpu' kernels are registered again under that name). Nothing else is shimmed here; in Node the
// caller must give TF.js a truthy `navigator.gpu` first and register TF.js's gradients (tfjs-core's
// Node bundle has none; see vs-tfjs-node.ts), in a page the page imports
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
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Gpu } from '../src/gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../src/gpu/dispatch.js';
import { createTensor, readBuffer, type Tensor } from '../src/gpu/tensor.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter } from '../src/kernels/conv2d.js';
import { LOSS_STATS } from '../src/kernels/loss.js';
import { matmul, matmulVariant } from '../src/kernels/matmul.js';
import { matmulCpu } from '../src/reference/matmul.js';
import { modelFromName } from '../src/nn/model.js';
import { StepPlan, TABLE_CAP } from '../src/nn/plan.js';
import { Network, uploadDataset } from '../src/nn/trainer.js';
import type { RawDataset } from '../src/data/dataset.js';
import { median } from './timing.js';
import { checkClose, MismatchError, uniform } from './util.js';

export const TF_BACKEND = 'webgpu-shared';

export type TrainModel = 'lenet-300-100' | 'lenet-5';

export interface VsOptions {
  /** Square matmul sizes n (n×n·n×n). */
  matmul: number[];
  /** Batch of the LeNet-5 convolution cases; 0 = no conv cases. */
  convBatch: number;
  /** Training-step cases and their batch sizes. */
  train: { model: TrainModel; batch: number }[];
  /** Timed samples per side per case. */
  reps: number;
  /** Wall milliseconds one sample aims for (k repetitions per sample). */
  targetMs: number;
  /** Largest k. */
  maxK: number;
  /** Validate only (no timing): for tests. */
  validateOnly?: boolean;
  /** SGD hyper-parameters of the training step. */
  lr: number;
  momentum: number;
  log?: (line: string) => void;
}

/** Node on lavapipe: the full comparison. */
export const NODE_PRESET: VsOptions = {
  matmul: [256, 512, 1024, 2048], convBatch: 64,
  train: [{ model: 'lenet-300-100', batch: 128 }, { model: 'lenet-5', batch: 64 }],
  reps: 7, targetMs: 60, maxK: 64, lr: 0.01, momentum: 0.9,
};

/** Headless Chromium on SwiftShader: small sizes. */
export const BROWSER_PRESET: VsOptions = {
  matmul: [256, 512], convBatch: 64,
  train: [{ model: 'lenet-300-100', batch: 128 }],
  reps: 5, targetMs: 60, maxK: 32, lr: 0.01, momentum: 0.9,
};

/** Tiny sizes, validation only (tests/vs-tfjs.test.ts). */
export const TINY_PRESET: VsOptions = {
  matmul: [64, 100], convBatch: 2,
  train: [{ model: 'lenet-300-100', batch: 8 }, { model: 'lenet-5', batch: 4 }],
  reps: 1, targetMs: 1, maxK: 1, validateOnly: true, lr: 0.01, momentum: 0.9,
};

export interface VsRow {
  group: 'matmul' | 'conv2d' | 'train';
  name: string;
  size: string;
  /** Median milliseconds of one unit (one op / one step). */
  slimMs: number;
  tfMs: number;
  /** tfMs / slimMs: how many times faster slimgpu is. */
  speedup: number;
  slimGflops?: number;
  tfGflops?: number;
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
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// TF.js on slimgpu's device

/** The TF.js backend object (WebGPUBackend) running on `gpu.device`. */
export function tfBackend(): WebGPUBackend {
  return tf.engine().findBackend(TF_BACKEND) as WebGPUBackend;
}

/**
 * Registers TF.js's WebGPU backend on slimgpu's GPUDevice as 'webgpu-shared' and makes it the
 * current backend. Idempotent. In Node `navigator.gpu` must be truthy before this call (the backend
 * constructor checks it).
 */
export async function useSharedTfBackend(gpu: Gpu): Promise<typeof tf> {
  if (!tf.getGradient('RealDiv')) {
    throw new Error("TF.js gradients are not registered: import '@tensorflow/tfjs-core/dist/register_all_gradients' " +
      '(browser, Vite) or call registerTfGradients() from bench/vs-tfjs-node.ts (Node)');
  }
  if (!tf.findBackendFactory(TF_BACKEND)) {
    for (const k of tf.getKernelsForBackend('webgpu')) {
      if (!tf.getKernel(k.kernelName, TF_BACKEND)) tf.registerKernel({ ...k, backendName: TF_BACKEND });
    }
    tf.registerBackend(TF_BACKEND, () => new WebGPUBackend(gpu.device, gpu.adapter.info));
  }
  if (!(await tf.setBackend(TF_BACKEND))) throw new Error(`TF.js: backend '${TF_BACKEND}' failed to initialise`);
  if (tfBackend().device !== gpu.device) throw new Error('TF.js: the shared backend is on another GPUDevice');
  return tf;
}

/** Submits TF.js's pending commands and waits for the queue (the same wait slimgpu uses). */
async function tfSync(gpu: Gpu): Promise<void> {
  const b = tfBackend();
  b.ensureCommandEncoderReady(); // submitQueue() needs an encoder (an empty one when nothing is pending)
  b.endComputePassEncoder();
  b.submitQueue();
  await gpu.device.queue.onSubmittedWorkDone();
}

// ---------------------------------------------------------------------------------------------
// cases

interface Side {
  /** Runs k units and resolves when their results are ready. */
  run(k: number): Promise<void>;
}

interface Case {
  group: VsRow['group'];
  name: string;
  size: string;
  flops?: number;
  slim: Side;
  tf: Side;
  /** Runs both once and compares; returns a description of the check. Throws MismatchError. */
  validate(): Promise<string>;
  dispose(): void;
}

async function runSlim(gpu: Gpu, dispatches: readonly Dispatch[], k: number, label: string): Promise<void> {
  const enc = gpu.device.createCommandEncoder({ label });
  for (let i = 0; i < k; i++) encodeDispatches(enc, dispatches, label);
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
}

/** NCHW (N, C, H, W) → NHWC. */
function nchwToNhwc(x: Float32Array, [N, C, H, W]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N!; n++) for (let c = 0; c < C!; c++) for (let h = 0; h < H!; h++) for (let w = 0; w < W!; w++) {
    out[((n * H! + h) * W! + w) * C! + c] = x[((n * C! + c) * H! + h) * W! + w]!;
  }
  return out;
}

/** Conv weight (OC, C, KH, KW) → TF.js filter (KH, KW, C, OC). */
function oihwToHwio(w: Float32Array, [OC, C, KH, KW]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < OC!; o++) for (let c = 0; c < C!; c++) for (let i = 0; i < KH!; i++) for (let j = 0; j < KW!; j++) {
    out[((i * KW! + j) * C! + c) * OC! + o] = w[((o * C! + c) * KH! + i) * KW! + j]!;
  }
  return out;
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/** Worst |a − b| relative to max |b|, for the check text. */
function worstRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w / Math.max(maxAbs(b), 1e-30);
}

function matmulCase(gpu: Gpu, n: number): Case {
  const a = uniform(n * n, 1 + n), b = uniform(n * n, 2 + n);
  let ta: Tensor | undefined, tb: Tensor | undefined, tc: Tensor | undefined;
  let dispatches: Dispatch[] = [];
  const A = tf.tensor2d(a, [n, n]), B = tf.tensor2d(b, [n, n]);
  let last: tf.Tensor | undefined;
  const c: Case = {
    group: 'matmul', name: 'matmul', size: `${n}x${n}x${n}`, flops: 2 * n * n * n,
    slim: { run: (k) => runSlim(gpu, dispatches, k, `vs.matmul ${n}`) },
    tf: {
      async run(k) {
        for (let i = 0; i < k; i++) { last?.dispose(); last = tf.matMul(A, B); }
        await tfSync(gpu);
      },
    },
    async validate() {
      ta = createTensor(gpu, [n, n], a, { label: 'vs.matmul.a' });
      tb = createTensor(gpu, [n, n], b, { label: 'vs.matmul.b' });
      tc = createTensor(gpu, [n, n], undefined, { label: 'vs.matmul.c' });
      dispatches = await matmul(gpu, ta, tb, tc);
      await c.slim.run(1);
      await c.tf.run(1);
      const mine = await tc.read();
      const theirs = await last!.data() as Float32Array;
      // both against the CPU reference on a few rows, and against each other everywhere
      const rows = [...new Set([0, n >> 1, n - 1])];
      for (const r of rows) {
        const ref = matmulCpu(a.subarray(r * n, (r + 1) * n), [1, n], b, [n, n]);
        checkClose(`slimgpu matmul ${n} row ${r}`, mine.subarray(r * n, (r + 1) * n), ref, 1e-5 * n, 1e-4);
        checkClose(`TF.js matmul ${n} row ${r}`, theirs.subarray(r * n, (r + 1) * n), ref, 1e-5 * n, 1e-4);
      }
      checkClose(`slimgpu vs TF.js matmul ${n}`, mine, theirs, 2e-5 * n, 1e-4);
      return `C agree (max |Δ|/max|C| ${worstRel(mine, theirs).toExponential(1)}; rows ${rows.join(',')} vs CPU)`;
    },
    dispose() {
      destroyDispatches(dispatches);
      for (const t of [ta, tb, tc]) t?.dispose();
      A.dispose(); B.dispose(); last?.dispose(); last = undefined;
    },
  };
  return c;
}

type S4 = [number, number, number, number];

interface ConvShape { name: string; x: S4; w: S4 }

/** The LeNet-5 (Caffe) convolutions: x (B,1,28,28) ⊛ 20×5×5, then (B,20,12,12) ⊛ 50×5×5. */
function lenetConvShapes(B: number): ConvShape[] {
  return [
    { name: 'conv1', x: [B, 1, 28, 28], w: [20, 1, 5, 5] },
    { name: 'conv2', x: [B, 20, 12, 12], w: [50, 20, 5, 5] },
  ];
}

type ConvKind = 'fwd' | 'bwd-data' | 'bwd-filter';

function convCase(gpu: Gpu, s: ConvShape, kind: ConvKind, seed: number): Case {
  const [N, C, H, W] = s.x, [OC, , KH, KW] = s.w;
  const OH = H - KH + 1, OW = W - KW + 1;
  const yShape: S4 = [N, OC, OH, OW];
  const xd = uniform(N * C * H * W, seed), wd = uniform(OC * C * KH * KW, seed + 1, -0.3, 0.3);
  const dyd = uniform(N * OC * OH * OW, seed + 2);
  // TF.js NHWC / HWIO copies, made once outside the timed region
  const tx = tf.tensor4d(nchwToNhwc(xd, s.x), [N, H, W, C]);
  const tw = tf.tensor4d(oihwToHwio(wd, s.w), [KH, KW, C, OC]);
  const tdy = tf.tensor4d(nchwToNhwc(dyd, yShape), [N, OH, OW, OC]);
  const owned: Tensor[] = [];
  let dispatches: Dispatch[] = [];
  let out: Tensor | undefined;
  let last: tf.Tensor | undefined;
  const tfOp = (): tf.Tensor => {
    if (kind === 'fwd') return tf.conv2d(tx, tw, 1, 'valid');
    if (kind === 'bwd-data') {
      return tf.engine().runKernel('Conv2DBackpropInput', { dy: tdy, filter: tw },
        { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', inputShape: [N, H, W, C] }) as tf.Tensor;
    }
    return tf.engine().runKernel('Conv2DBackpropFilter', { x: tx, dy: tdy },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [KH, KW, C, OC] }) as tf.Tensor;
  };
  const flops = 2 * N * OC * OH * OW * C * KH * KW;
  const c: Case = {
    group: 'conv2d', name: `${s.name} ${kind}`,
    size: `x${s.x.join('x')} w${s.w.join('x')}`, flops,
    slim: { run: (k) => runSlim(gpu, dispatches, k, `vs.conv ${s.name} ${kind}`) },
    tf: {
      async run(k) {
        for (let i = 0; i < k; i++) { last?.dispose(); last = tfOp(); }
        await tfSync(gpu);
      },
    },
    async validate() {
      const mk = (shape: S4, data: Float32Array | undefined, label: string) => {
        const t = createTensor(gpu, shape, data, { label });
        owned.push(t);
        return t;
      };
      if (kind === 'fwd') {
        out = mk(yShape, undefined, 'vs.conv.y');
        dispatches = await conv2d(gpu, mk(s.x, xd, 'vs.conv.x'), mk(s.w, wd, 'vs.conv.w'), out);
      } else if (kind === 'bwd-data') {
        out = mk(s.x, undefined, 'vs.conv.dx');
        dispatches = await conv2dBackwardData(gpu, mk(yShape, dyd, 'vs.conv.dy'), mk(s.w, wd, 'vs.conv.w'), out);
      } else {
        out = mk(s.w, undefined, 'vs.conv.dw');
        dispatches = await conv2dBackwardFilter(gpu, mk(s.x, xd, 'vs.conv.x'), mk(yShape, dyd, 'vs.conv.dy'), out);
      }
      await c.slim.run(1);
      await c.tf.run(1);
      const mine = await out.read();
      const theirsRaw = await last!.data() as Float32Array;
      // TF.js result back in slimgpu's layout
      const theirs = kind === 'fwd' ? nhwcToNchw(theirsRaw, yShape) : kind === 'bwd-data' ? nhwcToNchw(theirsRaw, s.x) : hwioToOihw(theirsRaw, s.w);
      const terms = kind === 'fwd' ? C * KH * KW : kind === 'bwd-data' ? OC * KH * KW : N * OH * OW;
      checkClose(`slimgpu vs TF.js ${s.name} ${kind}`, mine, theirs, 2e-6 * terms, 1e-4);
      return `agree (max |Δ|/max ${worstRel(mine, theirs).toExponential(1)})`;
    },
    dispose() {
      destroyDispatches(dispatches);
      for (const t of owned) t.dispose();
      tx.dispose(); tw.dispose(); tdy.dispose(); last?.dispose(); last = undefined;
    },
  };
  return c;
}

function nhwcToNchw(x: Float32Array, [N, C, H, W]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N!; n++) for (let c = 0; c < C!; c++) for (let h = 0; h < H!; h++) for (let w = 0; w < W!; w++) {
    out[((n * C! + c) * H! + h) * W! + w] = x[((n * H! + h) * W! + w) * C! + c]!;
  }
  return out;
}

function hwioToOihw(w: Float32Array, [OC, C, KH, KW]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < OC!; o++) for (let c = 0; c < C!; c++) for (let i = 0; i < KH!; i++) for (let j = 0; j < KW!; j++) {
    out[((o * C! + c) * KH! + i) * KW! + j] = w[((i * KW! + j) * C! + c) * OC! + o]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// training step

/** Seeded MNIST-shaped bytes and labels: the batch both sides train on. */
export function syntheticBatch(n: number, seed: number, imageShape: number[]): RawDataset {
  const D = imageShape.reduce((a, b) => a * b, 1);
  const u = uniform(n * D, seed, 0, 1);
  const inputs = new Uint8Array(n * D);
  // MNIST-like: most pixels 0, the rest spread over (0, 255]
  for (let i = 0; i < inputs.length; i++) inputs[i] = u[i]! < 0.8 ? 0 : Math.min(255, Math.floor((u[i]! - 0.8) * 5 * 256));
  const l = uniform(n, seed + 1, 0, 10);
  const labels = Uint8Array.from(l, (v) => Math.min(9, Math.floor(v)));
  return {
    name: 'vs-tfjs.batch', task: 'classification', n, inputShape: imageShape, featureCount: D, inputs,
    normalization: { scale: 1 / 255, mean: 0.1307, std: 0.3081 }, labels, numClasses: 10,
    targets: undefined, targetDim: 0,
  };
}

let variableCount = 0;

interface TfModel {
  vars: tf.Variable[];
  loss(): tf.Scalar;
  /** The variables' values in slimgpu's layouts, by arena name. */
  read(): Promise<Map<string, Float32Array>>;
}

/** LeNet-300-100 / LeNet-5 in TF.js with slimgpu's initial weights (layouts converted). */
function tfModel(model: TrainModel, init: Map<string, Float32Array>, x: tf.Tensor, onehot: tf.Tensor): TfModel {
  const get = (name: string) => {
    const v = init.get(name);
    if (!v) throw new Error(`vs-tfjs: no initial value for '${name}'`);
    return v;
  };
  const vars: tf.Variable[] = [];
  const readers: [string, () => Promise<Float32Array>][] = [];
  const variable = (name: string, values: Float32Array, shape: number[], back?: (v: Float32Array) => Float32Array) => {
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `vs.${name}.${++variableCount}`));
    vars.push(v);
    readers.push([name, async () => { const d = await v.data() as Float32Array; return back ? back(d) : d; }]);
    return v;
  };
  const read = async () => new Map(await Promise.all(readers.map(async ([n, f]) => [n, await f()] as [string, Float32Array])));
  if (model === 'lenet-300-100') {
    const D = x.shape[1]!;
    const w1 = variable('dense1.weight', get('dense1.weight'), [D, 300]), b1 = variable('dense1.bias', get('dense1.bias'), [300]);
    const w2 = variable('dense2.weight', get('dense2.weight'), [300, 100]), b2 = variable('dense2.bias', get('dense2.bias'), [100]);
    const w3 = variable('dense3.weight', get('dense3.weight'), [100, 10]), b3 = variable('dense3.bias', get('dense3.bias'), [10]);
    return {
      vars, read,
      loss: () => {
        const h1 = tf.fused.matMul({ a: x as tf.Tensor2D, b: w1 as tf.Tensor2D, bias: b1, activation: 'relu' });
        const h2 = tf.fused.matMul({ a: h1, b: w2 as tf.Tensor2D, bias: b2, activation: 'relu' });
        const logits = tf.fused.matMul({ a: h2, b: w3 as tf.Tensor2D, bias: b3 });
        return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
      },
    };
  }
  // LeNet-5: conv 20 5×5 → relu → pool 2 → conv 50 5×5 → relu → pool 2 → fc 500 → relu → fc 10
  const B = x.shape[0]!;
  const c1 = variable('conv2d1.weight', oihwToHwio(get('conv2d1.weight'), [20, 1, 5, 5]), [5, 5, 1, 20], (v) => hwioToOihw(v, [20, 1, 5, 5]));
  const cb1 = variable('conv2d1.bias', get('conv2d1.bias'), [20]);
  const c2 = variable('conv2d2.weight', oihwToHwio(get('conv2d2.weight'), [50, 20, 5, 5]), [5, 5, 20, 50], (v) => hwioToOihw(v, [50, 20, 5, 5]));
  const cb2 = variable('conv2d2.bias', get('conv2d2.bias'), [50]);
  // slimgpu flattens (C, H, W) = (50, 4, 4), TF.js (H, W, C): permute the rows of fc1's weight
  const [fromNchw, toNchw] = flattenPermutation(50, 4, 4, 500);
  const f1 = variable('dense1.weight', fromNchw(get('dense1.weight')), [800, 500], toNchw);
  const fb1 = variable('dense1.bias', get('dense1.bias'), [500]);
  const f2 = variable('dense2.weight', get('dense2.weight'), [500, 10]), fb2 = variable('dense2.bias', get('dense2.bias'), [10]);
  return {
    vars, read,
    loss: () => {
      let h: tf.Tensor4D = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: c1 as tf.Tensor4D, strides: 1, pad: 'valid', bias: cb1, activation: 'relu' });
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.fused.conv2d({ x: h, filter: c2 as tf.Tensor4D, strides: 1, pad: 'valid', bias: cb2, activation: 'relu' });
      h = tf.maxPool(h, 2, 2, 'valid');
      const flat = tf.reshape(h, [B, 800]) as tf.Tensor2D;
      const h3 = tf.fused.matMul({ a: flat, b: f1 as tf.Tensor2D, bias: fb1, activation: 'relu' });
      const logits = tf.fused.matMul({ a: h3, b: f2 as tf.Tensor2D, bias: fb2 });
      return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
    },
  };
}

/** Row permutations of a (C·H·W, units) weight between (c, h, w) and (h, w, c) flattening. */
function flattenPermutation(C: number, H: number, W: number, units: number): [(w: Float32Array) => Float32Array, (w: Float32Array) => Float32Array] {
  const rowHwc = (c: number, h: number, w: number) => (h * W + w) * C + c;
  const rowChw = (c: number, h: number, w: number) => (c * H + h) * W + w;
  const move = (src: Float32Array, from: typeof rowChw, to: typeof rowChw) => {
    const out = new Float32Array(src.length);
    for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      out.set(src.subarray(from(c, h, w) * units, (from(c, h, w) + 1) * units), to(c, h, w) * units);
    }
    return out;
  };
  return [(w) => move(w, rowChw, rowHwc), (w) => move(w, rowHwc, rowChw)];
}

/** Training FLOPs of one step: 3 × the forward matmul/conv FLOPs (forward, dX, dW). */
function stepFlops(model: TrainModel, B: number): number {
  if (model === 'lenet-300-100') return 3 * 2 * B * (784 * 300 + 300 * 100 + 100 * 10);
  return 3 * 2 * B * (20 * 24 * 24 * 25 + 50 * 8 * 8 * 20 * 25 + 800 * 500 + 500 * 10);
}

async function trainCases(gpu: Gpu, model: TrainModel, B: number, opts: VsOptions): Promise<Case[]> {
  const imageShape = model === 'lenet-5' ? [1, 28, 28] : [784];
  const ds = syntheticBatch(B, 7, imageShape);
  const spec = modelFromName(model, { input: imageShape, numClasses: 10 });
  const net = Network.create(gpu, spec, 42);
  const data = uploadDataset(gpu, ds);
  let plan: StepPlan | undefined;
  try {
    plan = await StepPlan.build(gpu, spec, net.layers, net.arena, data, B);
  } catch (e) {
    data.dispose(); net.dispose();
    throw e;
  }
  const p = plan;
  p.setStep(0, 0);
  p.setHyperRows(0, Array.from({ length: TABLE_CAP }, () => [opts.lr, opts.momentum, 0] as [number, number, number]));
  const init = await net.arena.read('weights');

  // TF.js: the same normalised batch (x·scale + shift, as the gather kernel computes it)
  const scale = Math.fround(data.scale), shift = Math.fround(data.shift);
  const xs = Float32Array.from(ds.inputs, (v) => Math.fround(Math.fround(v * scale) + shift));
  const x = model === 'lenet-5' ? tf.tensor4d(xs, [B, 28, 28, 1]) : tf.tensor2d(xs, [B, 784]);
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(ds.labels!), 'int32'), 10));
  const m = tfModel(model, init, x, onehot);
  const optimizer = tf.train.momentum(opts.lr, opts.momentum);
  let lastLoss = NaN;
  const tfStep = async (k: number) => {
    let cost: tf.Scalar | undefined;
    for (let i = 0; i < k; i++) {
      cost?.dispose();
      cost = tf.tidy(() => optimizer.minimize(m.loss, true, m.vars)!);
    }
    lastLoss = (await cost!.data())[0]!;
    cost!.dispose();
  };
  const slimStep = (k: number) => runSlim(gpu, p.train, k, `vs.train ${model}`);
  let disposed = 0;
  const dispose = () => {
    if (++disposed < 2) return; // shared by the two rows
    p.destroy(); data.dispose(); net.dispose();
    x.dispose(); onehot.dispose(); optimizer.dispose();
    // tfjs-core 4.22: MomentumOptimizer.dispose() does not free the learning-rate scalar its base
    // class (SGDOptimizer) keeps as `c`: one tensor per optimizer, not per step
    (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
    for (const v of m.vars) v.dispose();
  };
  const size = `batch ${B}`;
  const batched: Case = {
    group: 'train', name: `${model} step (k steps/submit)`, size, flops: stepFlops(model, B),
    slim: { run: slimStep },
    tf: { run: tfStep },
    async validate() {
      // one step from the same weights on the same batch: the loss, then every parameter after the update
      const enc = gpu.device.createCommandEncoder({ label: 'vs.train.validate' });
      enc.clearBuffer(p.stats.buffer);
      encodeDispatches(enc, p.train, 'vs.train.validate');
      gpu.device.queue.submit([enc.finish()]);
      const stats = new Float32Array(await readBuffer(gpu, p.stats.buffer, 0, LOSS_STATS.size * 4));
      const slimLoss = stats[LOSS_STATS.lossSum]! / stats[LOSS_STATS.count]!;
      await tfStep(1);
      const relLoss = Math.abs(slimLoss - lastLoss) / Math.abs(lastLoss);
      if (!(relLoss < 1e-4)) throw new MismatchError(`${model}: first-step loss slimgpu ${slimLoss} vs TF.js ${lastLoss}`);
      const mine = await net.arena.read('weights');
      const theirs = await m.read();
      let worst = 0;
      for (const [name, t] of theirs) {
        const s = mine.get(name)!;
        const i0 = init.get(name)!;
        // compare the updates (w1 − w0) so that the test sees the gradients, not just the weights
        const du = Float32Array.from(s, (v, i) => v - i0[i]!), dt = Float32Array.from(t, (v, i) => v - i0[i]!);
        checkClose(`${model} ${name} update after one step (slimgpu vs TF.js)`, du, dt, 2e-3 * maxAbs(dt) + 1e-7, 2e-2);
        worst = Math.max(worst, worstRel(du, dt));
      }
      return `loss ${slimLoss.toFixed(5)} vs ${lastLoss.toFixed(5)}; step-1 updates agree (max |Δ|/max ${worst.toExponential(1)})`;
    },
    dispose,
  };
  const single: Case = {
    group: 'train', name: `${model} step (1 step/submit)`, size, flops: stepFlops(model, B),
    slim: { run: async (k) => { for (let i = 0; i < k; i++) await slimStep(1); } },
    tf: { run: async (k) => { for (let i = 0; i < k; i++) await tfStep(1); } },
    async validate() { return 'as above'; },
    dispose,
  };
  return [batched, single];
}

// ---------------------------------------------------------------------------------------------
// timing

async function timeOnce(side: Side, k: number): Promise<number> {
  const t0 = performance.now();
  await side.run(k);
  return (performance.now() - t0) / k;
}

async function measureCase(c: Case, opts: VsOptions, fixedK?: { slim: number; tf: number }): Promise<Pick<VsRow, 'slimMs' | 'tfMs' | 'slimK' | 'tfK'>> {
  // warm-up (compiles already happened in validate): one unit each, then k from the second
  const kOf = async (side: Side) => {
    await timeOnce(side, 1);
    const est = await timeOnce(side, 1);
    return Math.max(1, Math.min(opts.maxK, Math.round(opts.targetMs / Math.max(est, 0.01))));
  };
  const slimK = fixedK?.slim ?? await kOf(c.slim);
  const tfK = fixedK?.tf ?? await kOf(c.tf);
  const s: number[] = [], t: number[] = [];
  for (let r = 0; r < opts.reps; r++) {
    if (r % 2 === 0) { s.push(await timeOnce(c.slim, slimK)); t.push(await timeOnce(c.tf, tfK)); }
    else { t.push(await timeOnce(c.tf, tfK)); s.push(await timeOnce(c.slim, slimK)); }
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
    ...(opts.convBatch > 0 ? lenetConvShapes(opts.convBatch).flatMap((s, i) =>
      (['fwd', 'bwd-data', 'bwd-filter'] as ConvKind[]).map((kind) => async () => [convCase(gpu, s, kind, 100 + 10 * i)])) : []),
    ...opts.train.map(({ model, batch }) => () => trainCases(gpu, model, batch, opts)),
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
          group: c.group, name: c.name, size: c.size, ...m, speedup: +(m.tfMs / m.slimMs).toFixed(2),
          reps: opts.validateOnly ? 0 : opts.reps, check,
        };
        row.slimMs = +row.slimMs.toFixed(3); row.tfMs = +row.tfMs.toFixed(3);
        if (c.flops && !opts.validateOnly) {
          row.slimGflops = +(c.flops / (m.slimMs * 1e6)).toFixed(2);
          row.tfGflops = +(c.flops / (m.tfMs * 1e6)).toFixed(2);
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
    adapter: gpu.info.description || gpu.info.device || `${gpu.info.vendor}/${gpu.info.architecture}${gpu.info.isFallbackAdapter ? ' (fallback)' : ''}`,
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
  const head = ['case', 'size', 'slimgpu ms', 'TF.js ms', 'speedup', 'slimgpu GFLOPS', 'TF.js GFLOPS', 'k slim/tf'];
  const lines = [
    `${r.platform} · ${r.adapter} · matmul variant ${r.matmulVariant} · TF.js ${r.tfjs} on the same GPUDevice · polling ${r.polling} · median of ${r.rows[0]?.reps ?? 0} interleaved samples · TF.js tensors ${r.tfTensors.before} → ${r.tfTensors.after}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const x of r.rows) {
    lines.push(`| ${[x.name, x.size, x.slimMs.toFixed(3), x.tfMs.toFixed(3), `${x.speedup.toFixed(2)}×`,
      x.slimGflops?.toFixed(2) ?? '', x.tfGflops?.toFixed(2) ?? '', `${x.slimK}/${x.tfK}`].join(' | ')} |`);
  }
  lines.push('', 'speedup = TF.js ms / slimgpu ms. Validation before timing:');
  for (const x of r.rows) lines.push(`- ${x.name} ${x.size}: ${x.check}`);
  return lines.join('\n');
}
