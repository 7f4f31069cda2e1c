// One SGD-momentum training step of LeNet-300-100 / LeNet-5 as a comparison case of
// bench/vs-tfjs/index.ts (re-exported by cases.ts): slimgpu's step plan against the same model in
// TF.js from the same initial weights, validated against each other before timing. Browser-safe.
import * as tf from '@tensorflow/tfjs-core';
import type { Gpu } from '../../src/gpu/device.js';
import { encodeDispatches } from '../../src/gpu/dispatch.js';
import { readBuffer } from '../../src/gpu/tensor.js';
import { LOSS_STATS } from '../../src/kernels/loss.js';
import { modelFromName } from '../../src/nn/model.js';
import { StepPlan, TABLE_CAP } from '../../src/nn/plan.js';
import { Network, uploadDataset } from '../../src/nn/trainer.js';
import type { RawDataset } from '../../src/data/dataset.js';
import { checkClose, MismatchError, uniform } from '../util.js';
import { hwioToOihw, maxAbs, oihwToHwio, runSlim, worstRel, type Case } from './core.js';
import type { TrainModel, VsOptions } from './options.js';

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
    name: 'vs-tfjs.batch',
    task: 'classification',
    n,
    inputShape: imageShape,
    featureCount: D,
    inputs,
    normalization: { scale: 1 / 255, mean: 0.1307, std: 0.3081 },
    labels,
    numClasses: 10,
    targets: undefined,
    targetDim: 0,
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
    readers.push([
      name,
      async () => {
        const d = (await v.data()) as Float32Array;
        return back ? back(d) : d;
      },
    ]);
    return v;
  };
  const read = async () => new Map(await Promise.all(readers.map(async ([n, f]) => [n, await f()] as [string, Float32Array])));
  if (model === 'lenet-300-100') {
    const D = x.shape[1]!;
    const w1 = variable('dense1.weight', get('dense1.weight'), [D, 300]),
      b1 = variable('dense1.bias', get('dense1.bias'), [300]);
    const w2 = variable('dense2.weight', get('dense2.weight'), [300, 100]),
      b2 = variable('dense2.bias', get('dense2.bias'), [100]);
    const w3 = variable('dense3.weight', get('dense3.weight'), [100, 10]),
      b3 = variable('dense3.bias', get('dense3.bias'), [10]);
    return {
      vars,
      read,
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
  const f2 = variable('dense2.weight', get('dense2.weight'), [500, 10]),
    fb2 = variable('dense2.bias', get('dense2.bias'), [10]);
  return {
    vars,
    read,
    loss: () => {
      let h: tf.Tensor4D = tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: c1 as tf.Tensor4D,
        strides: 1,
        pad: 'valid',
        bias: cb1,
        activation: 'relu',
      });
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
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
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

/** One step from the same weights on the same batch: the loss, then every parameter after the update. */
async function validateStep(
  gpu: Gpu,
  model: TrainModel,
  p: StepPlan,
  net: Network,
  m: TfModel,
  init: Map<string, Float32Array>,
  tfStep: (k: number) => Promise<void>,
  lastLoss: () => number,
): Promise<string> {
  const enc = gpu.device.createCommandEncoder({ label: 'vs.train.validate' });
  enc.clearBuffer(p.stats.buffer);
  encodeDispatches(enc, p.train, 'vs.train.validate');
  gpu.device.queue.submit([enc.finish()]);
  const stats = new Float32Array(await readBuffer(gpu, p.stats.buffer, 0, LOSS_STATS.size * 4));
  const slimLoss = stats[LOSS_STATS.lossSum]! / stats[LOSS_STATS.count]!;
  await tfStep(1);
  const relLoss = Math.abs(slimLoss - lastLoss()) / Math.abs(lastLoss());
  if (!(relLoss < 1e-4)) throw new MismatchError(`${model}: first-step loss slimgpu ${slimLoss} vs TF.js ${lastLoss()}`);
  const mine = await net.arena.read('weights');
  const theirs = await m.read();
  let worst = 0;
  for (const [name, t] of theirs) {
    const s = mine.get(name)!;
    const i0 = init.get(name)!;
    // compare the updates (w1 − w0) so that the test sees the gradients, not just the weights
    const du = Float32Array.from(s, (v, i) => v - i0[i]!),
      dt = Float32Array.from(t, (v, i) => v - i0[i]!);
    checkClose(`${model} ${name} update after one step (slimgpu vs TF.js)`, du, dt, 2e-3 * maxAbs(dt) + 1e-7, 2e-2);
    worst = Math.max(worst, worstRel(du, dt));
  }
  return `loss ${slimLoss.toFixed(5)} vs ${lastLoss().toFixed(5)}; step-1 updates agree (max |Δ|/max ${worst.toExponential(1)})`;
}

/** The step plan of `net` on `data` (batch B), its step 0 and a table of constant SGD rows; disposes data and net if it fails. */
async function stepPlan(
  gpu: Gpu,
  spec: ReturnType<typeof modelFromName>,
  net: Network,
  data: ReturnType<typeof uploadDataset>,
  B: number,
  opts: VsOptions,
): Promise<StepPlan> {
  let plan: StepPlan | undefined;
  try {
    plan = await StepPlan.build(gpu, spec, net.layers, net.arena, data, B);
  } catch (e) {
    data.dispose();
    net.dispose();
    throw e;
  }
  const p = plan;
  p.setStep(0, 0);
  p.setHyperRows(
    0,
    Array.from({ length: TABLE_CAP }, () => [opts.lr, opts.momentum, 0] as [number, number, number]),
  );
  return p;
}

export async function trainCases(gpu: Gpu, model: TrainModel, B: number, opts: VsOptions): Promise<Case[]> {
  const imageShape = model === 'lenet-5' ? [1, 28, 28] : [784];
  const ds = syntheticBatch(B, 7, imageShape);
  const spec = modelFromName(model, { input: imageShape, numClasses: 10 });
  const net = Network.create(gpu, spec, 42);
  const data = uploadDataset(gpu, ds);
  const p = await stepPlan(gpu, spec, net, data, B, opts);
  const init = await net.arena.read('weights');

  // TF.js: the same normalised batch (x·scale + shift, as the gather kernel computes it)
  const scale = Math.fround(data.scale),
    shift = Math.fround(data.shift);
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
    p.destroy();
    data.dispose();
    net.dispose();
    x.dispose();
    onehot.dispose();
    optimizer.dispose();
    // tfjs-core 4.22: MomentumOptimizer.dispose() does not free the learning-rate scalar its base
    // class (SGDOptimizer) keeps as `c`: one tensor per optimizer, not per step
    (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
    for (const v of m.vars) v.dispose();
  };
  const size = `batch ${B}`;
  const batched: Case = {
    group: 'train',
    name: `${model} step (k steps/submit)`,
    size,
    flops: stepFlops(model, B),
    slim: { run: slimStep },
    tf: { run: tfStep },
    validate: () => validateStep(gpu, model, p, net, m, init, tfStep, () => lastLoss),
    dispose,
  };
  const single: Case = {
    group: 'train',
    name: `${model} step (1 step/submit)`,
    size,
    flops: stepFlops(model, B),
    slim: {
      run: async (k) => {
        for (let i = 0; i < k; i++) await slimStep(1);
      },
    },
    tf: {
      run: async (k) => {
        for (let i = 0; i < k; i++) await tfStep(1);
      },
    },
    async validate() {
      return 'as above';
    },
    dispose,
  };
  return [batched, single];
}
