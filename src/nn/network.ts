// A model on the GPU (resolved graph + parameter arena), data uploads, and evaluation passes.
import type { Gpu } from '../gpu/device.js';
import { encodeDispatches } from '../gpu/dispatch.js';
import { createTensor, readBuffer, type Tensor } from '../gpu/tensor.js';
import { packBytes } from '../kernels/step.js';
import { LOSS_STATS } from '../kernels/loss.js';
import type { RawDataset } from '../data/dataset.js';
import { isTextDataset, windowCount, type TextDataset } from '../data/text.js';
import { Arena, type ParamSpec } from './arena.js';
import { initParams, modelParams, resolveModel, type ModelSpec, type ResolvedLayer } from './model.js';
import { StepPlan, type DeviceData } from './plan.js';

/** A data set of either kind: samples (images, vectors) or a text. */
export type AnyDataset = RawDataset | TextDataset;

export interface EvalResult {
  /** Mean loss per sample (a language model: per byte, in nats). */
  loss: number;
  accuracy?: number;
  mse?: number;
  psnr?: number;
  /** Language models: loss / ln 2 and e^loss. */
  bitsPerByte?: number;
  perplexity?: number;
  /** Samples (a language model: bytes predicted). */
  n: number;
}

export function uploadDataset(gpu: Gpu, ds: RawDataset, normalise: 'standard' | 'unit' = 'standard'): DeviceData & { dispose(): void } {
  const bytes = ds.inputs instanceof Uint8Array;
  const inputs = bytes
    ? createTensor(gpu, [Math.max(1, Math.ceil(ds.inputs.length / 4))], packBytes(ds.inputs as Uint8Array), {
        dtype: 'u32',
        label: `${ds.name}.inputs`,
      })
    : createTensor(gpu, [ds.inputs.length], ds.inputs, { label: `${ds.name}.inputs` });
  const owned: Tensor[] = [inputs];
  let labels: Tensor | undefined;
  if (ds.labels) {
    labels = createTensor(gpu, [ds.n], Uint32Array.from(ds.labels), { dtype: 'u32', label: `${ds.name}.labels` });
    owned.push(labels);
  }
  let targets: Tensor | undefined;
  if (ds.targets && ds.targetDim > 0) {
    targets = createTensor(gpu, [ds.targets.length], ds.targets, { label: `${ds.name}.targets` });
    owned.push(targets);
  }
  const nz = ds.normalization;
  // standard: (x·scale − mean)/std ; unit: x·scale (pixels in [0, 1], for autoencoders)
  const scale = normalise === 'unit' ? nz.scale : nz.scale / nz.std;
  const shift = normalise === 'unit' ? 0 : -nz.mean / nz.std;
  return {
    inputs,
    bytes,
    n: ds.n,
    D: ds.featureCount,
    labels,
    targets,
    T: ds.targetDim || undefined,
    scale,
    shift,
    dispose() {
      for (const t of owned) t.dispose();
    },
  };
}

/**
 * A text on the GPU for windows of T (+ 1) bytes: `n` window starts (every start for 'train',
 * non-overlapping windows for 'eval'; the plan's permutation holds byte offsets). `capacity`
 * reserves room for a text that grows (the codec appends to it).
 */
export function uploadText(
  gpu: Gpu,
  ds: TextDataset,
  T: number,
  mode: 'train' | 'eval',
  capacity = ds.bytes.length,
): DeviceData & { dispose(): void } {
  const len = ds.bytes.length;
  const n = windowCount(Math.max(len, capacity), T, mode);
  if (n < 1) throw new Error(`text '${ds.name}': ${len} bytes hold no window of ${T + 1} bytes`);
  const words = new Uint32Array(Math.max(1, Math.ceil(Math.max(len, capacity) / 4)));
  new Uint8Array(words.buffer).set(ds.bytes);
  const inputs = createTensor(gpu, [words.length], words, { dtype: 'u32', label: `${ds.name}.text` });
  return {
    inputs,
    bytes: true,
    n,
    D: T,
    scale: 1,
    shift: 0,
    text: { window: T, bytes: len },
    dispose() {
      inputs.dispose();
    },
  };
}

/** Uploads either kind of data set for `spec` (images normalised per task; texts as windows of the model's context). */
export function deviceDataOf(gpu: Gpu, spec: ModelSpec, ds: AnyDataset, mode: 'train' | 'eval'): DeviceData & { dispose(): void } {
  if (spec.task === 'language') {
    if (!isTextDataset(ds)) throw new Error(`model '${spec.name}' trains on text (e.g. --data text:FILE), got '${ds.name}'`);
    return uploadText(gpu, ds, spec.input[0]!, mode);
  }
  if (isTextDataset(ds)) throw new Error(`model '${spec.name}' does not read text; use a gpt: preset for '${ds.name}'`);
  return uploadDataset(gpu, ds, spec.task === 'autoencoder' ? 'unit' : 'standard');
}

/** Samples (a text: training windows) of a data set. */
export function sampleCount(spec: ModelSpec, ds: AnyDataset): number {
  return isTextDataset(ds) ? Math.max(0, windowCount(ds.bytes.length, spec.input[0]!, 'train')) : ds.n;
}

/** A model on the GPU: resolved layers and the parameter arena. */
export class Network {
  private constructor(
    readonly gpu: Gpu,
    readonly spec: ModelSpec,
    readonly layers: ResolvedLayer[],
    readonly arena: Arena,
  ) {}

  static create(gpu: Gpu, spec: ModelSpec, seed = 0): Network {
    const layers = resolveModel(spec);
    const params: ParamSpec[] = modelParams(layers).map(({ name, shape, prunable }) => ({ name, shape, prunable }));
    const net = new Network(gpu, spec, layers, new Arena(gpu, params));
    net.arena.write('weights', initParams(layers, seed));
    return net;
  }

  get paramCount(): number {
    return this.arena.paramCount;
  }

  /** Uploads weights, and masks and optimizer moments when given. */
  async setParams(
    values: Map<string, Float32Array>,
    masks?: Map<string, Float32Array>,
    momentum?: Map<string, Float32Array>,
    variance?: Map<string, Float32Array>,
  ): Promise<void> {
    this.arena.write('weights', values);
    if (masks) this.arena.write('mask', masks);
    if (momentum) this.arena.write('momentum', momentum);
    if (variance && variance.size) {
      this.arena.ensureVariance();
      this.arena.write('variance', variance);
    }
    await this.gpu.device.queue.onSubmittedWorkDone();
  }

  dispose(): void {
    this.arena.destroy();
  }
}

export function statsOf(spec: ModelSpec, s: Float32Array): EvalResult {
  const n = s[LOSS_STATS.count]!;
  const loss = s[LOSS_STATS.lossSum]! / Math.max(1, n);
  if (spec.task === 'language')
    return { loss, accuracy: s[LOSS_STATS.correct]! / Math.max(1, n), bitsPerByte: loss / Math.LN2, perplexity: Math.exp(loss), n };
  if (spec.task === 'classification') return { loss, accuracy: s[LOSS_STATS.correct]! / Math.max(1, n), n };
  // the mse kernel sums per-sample mean squared errors: loss is the mean squared error per value
  const mse = loss;
  return { loss, mse, psnr: spec.task === 'autoencoder' ? 10 * Math.log10(1 / Math.max(mse, 1e-12)) : undefined, n };
}

/**
 * Forward-only passes over a data set: statistics and (samples only) predictions. A text is
 * evaluated on non-overlapping windows of the model's context (every byte after the first predicted
 * once, with 0..T−1 bytes of context).
 */
export async function evaluate(
  net: Network,
  ds: AnyDataset,
  opts: { batch?: number; normalise?: 'standard' | 'unit'; predictions?: boolean } = {},
): Promise<EvalResult & { predictions?: Float32Array }> {
  const gpu = net.gpu;
  const text = net.spec.task === 'language';
  const data = !text && opts.normalise && !isTextDataset(ds) ? uploadDataset(gpu, ds, opts.normalise) : deviceDataOf(gpu, net.spec, ds, 'eval');
  const n = data.n;
  const T = text ? net.spec.input[0]! : 1;
  const B = Math.min(opts.batch ?? (text ? Math.max(1, Math.floor(4096 / T)) : 500), n);
  const full = Math.floor(n / B),
    rem = n - full * B;
  const plans: { plan: StepPlan; steps: number; first: number }[] = [];
  const offsets = (i: number) => (text ? i * T : i);
  try {
    const main = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, B, { train: false });
    if (text) main.setPermutation(Uint32Array.from({ length: n }, (_, i) => offsets(i)));
    plans.push({ plan: main, steps: full, first: 0 });
    if (rem > 0) {
      const tail = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, rem, { train: false });
      tail.setPermutation(Uint32Array.from({ length: n }, (_, i) => offsets((full * B + i) % n)));
      plans.push({ plan: tail, steps: 1, first: full * B });
    }
    const outD = main.output.size / B;
    const preds =
      opts.predictions && !text ? gpu.device.createBuffer({ label: 'eval.predictions', size: n * outD * 4, usage: 0x80 | 0x4 | 0x8 }) : undefined;
    const enc = gpu.device.createCommandEncoder({ label: 'evaluate' });
    for (const { plan, steps, first } of plans) {
      plan.setStep(0, 0);
      enc.clearBuffer(plan.stats.buffer);
      for (let s = 0; s < steps; s++) {
        encodeDispatches(enc, plan.evalStep, 'eval');
        if (preds) enc.copyBufferToBuffer(plan.output.buffer, plan.output.offset, preds, (first + s * plan.B) * outD * 4, plan.B * outD * 4);
      }
    }
    gpu.device.queue.submit([enc.finish()]);
    const total = new Float32Array(LOSS_STATS.size);
    for (const { plan } of plans) {
      const s = new Float32Array(await readBuffer(gpu, plan.stats.buffer, 0, LOSS_STATS.size * 4));
      for (let i = 0; i < total.length; i++) total[i]! += s[i]!;
    }
    const res: EvalResult & { predictions?: Float32Array } = statsOf(net.spec, total);
    if (preds) {
      res.predictions = new Float32Array(await readBuffer(gpu, preds, 0, n * outD * 4));
      preds.destroy();
    }
    return res;
  } finally {
    for (const p of plans) p.plan.destroy();
    data.dispose();
  }
}
