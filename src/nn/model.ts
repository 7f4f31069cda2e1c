// Model descriptions: layer specs, presets and shape inference (no GPU here).
//   Shapes are per sample: [D] for vectors, [C, H, W] for images (NCHW with the batch in front).
//   dense weight (in, out) so that y = x·W + b; conv weight (OC, C, KH, KW).
import { Rng } from '../data/random.js';

export type LayerSpec =
  | { kind: 'dense'; units: number }
  | { kind: 'conv2d'; filters: number; kernel: number; stride?: number; padding?: number }
  | { kind: 'maxPool2d'; size?: number; stride?: number }
  | { kind: 'relu' }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'flatten' };

export type LossKind = 'softmax-ce' | 'mse';

export interface ModelSpec {
  name: string;
  /** Per-sample input shape, e.g. [784] or [1, 28, 28]. */
  input: number[];
  layers: LayerSpec[];
  loss: LossKind;
  /** 'classification' (labels) or 'autoencoder' (target = input) or 'regression' (targets). */
  task: 'classification' | 'autoencoder' | 'regression';
}

export interface ResolvedLayer {
  index: number;
  spec: LayerSpec;
  name: string;
  inShape: number[];
  outShape: number[];
  /** Parameter shapes: weight then bias, for dense and conv. */
  weightShape?: number[];
  biasShape?: number[];
  /** The activation fused into this layer's forward kernel (the next layer is then skipped). */
  fusedActivation?: 'relu';
  fanIn?: number;
  fanOut?: number;
}

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Infers every layer's shapes; throws a ModelError naming the layer on a mismatch. */
export function resolveModel(spec: ModelSpec): ResolvedLayer[] {
  if (!spec.input.length || spec.input.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ModelError(`model '${spec.name}': input shape must be positive integers, got [${spec.input}]`);
  }
  let shape = [...spec.input];
  const out: ResolvedLayer[] = [];
  const counts: Record<string, number> = {};
  spec.layers.forEach((l, index) => {
    counts[l.kind] = (counts[l.kind] ?? 0) + 1;
    const name = `${l.kind}${counts[l.kind]}`;
    const where = `model '${spec.name}' layer ${index} (${name})`;
    const inShape = shape;
    const r: ResolvedLayer = { index, spec: l, name, inShape, outShape: inShape };
    switch (l.kind) {
      case 'dense': {
        if (!Number.isInteger(l.units) || l.units < 1) throw new ModelError(`${where}: units must be a positive integer, got ${l.units}`);
        const inD = prod(inShape);
        r.outShape = [l.units];
        r.weightShape = [inD, l.units];
        r.biasShape = [l.units];
        r.fanIn = inD; r.fanOut = l.units;
        break;
      }
      case 'conv2d': {
        if (inShape.length !== 3) throw new ModelError(`${where}: needs an image input [C, H, W], got [${inShape}]`);
        const [C, H, W] = inShape as [number, number, number];
        const k = l.kernel, s = l.stride ?? 1, p = l.padding ?? 0;
        if (!Number.isInteger(l.filters) || l.filters < 1) throw new ModelError(`${where}: filters must be a positive integer, got ${l.filters}`);
        if (!Number.isInteger(k) || k < 1) throw new ModelError(`${where}: kernel must be a positive integer, got ${k}`);
        if (!Number.isInteger(s) || s < 1) throw new ModelError(`${where}: stride must be a positive integer, got ${s}`);
        if (!Number.isInteger(p) || p < 0) throw new ModelError(`${where}: padding must be a non-negative integer, got ${p}`);
        const OH = Math.floor((H + 2 * p - k) / s) + 1, OW = Math.floor((W + 2 * p - k) / s) + 1;
        if (OH < 1 || OW < 1) throw new ModelError(`${where}: kernel ${k} is larger than the padded input ${H + 2 * p}×${W + 2 * p}`);
        r.outShape = [l.filters, OH, OW];
        r.weightShape = [l.filters, C, k, k];
        r.biasShape = [l.filters];
        r.fanIn = C * k * k; r.fanOut = l.filters * k * k;
        break;
      }
      case 'maxPool2d': {
        if (inShape.length !== 3) throw new ModelError(`${where}: needs an image input [C, H, W], got [${inShape}]`);
        const [C, H, W] = inShape as [number, number, number];
        const k = l.size ?? 2, s = l.stride ?? k;
        const OH = Math.floor((H - k) / s) + 1, OW = Math.floor((W - k) / s) + 1;
        if (OH < 1 || OW < 1) throw new ModelError(`${where}: pool ${k} is larger than the input ${H}×${W}`);
        r.outShape = [C, OH, OW];
        break;
      }
      case 'flatten':
        r.outShape = [prod(inShape)];
        break;
      case 'relu': case 'sigmoid': case 'tanh':
        break;
      default:
        throw new ModelError(`${where}: unknown layer kind '${(l as { kind: string }).kind}'`);
    }
    shape = r.outShape;
    out.push(r);
  });
  // fuse relu into the preceding dense/conv forward kernel
  for (let i = 0; i + 1 < out.length; i++) {
    const a = out[i]!, b = out[i + 1]!;
    if ((a.spec.kind === 'dense' || a.spec.kind === 'conv2d') && b.spec.kind === 'relu') a.fusedActivation = 'relu';
  }
  return out;
}

export function outputShape(spec: ModelSpec): number[] {
  const r = resolveModel(spec);
  return r.length ? r[r.length - 1]!.outShape : spec.input;
}

export const PRESETS = ['lenet-300-100', 'lenet-5', 'mlp:784-256-10', 'autoencoder:784-64'] as const;

/**
 * A model from its name: `lenet-300-100`, `lenet-5` (Caffe's: conv 20, conv 50, fc 500, fc 10),
 * `mlp:784-256-10` (any sizes; the first is the input, the last the classes),
 * `autoencoder:784-64` (784 → 64 → 784, relu code, sigmoid output, MSE).
 */
export function modelFromName(name: string, data: { input: number[]; numClasses: number }): ModelSpec {
  const inD = prod(data.input);
  const image = data.input.length === 3 ? data.input : inD === 784 ? [1, 28, 28] : undefined;
  const dense = (units: number[], relu = true): LayerSpec[] =>
    units.flatMap((u, i) => (i < units.length - 1 && relu ? [{ kind: 'dense', units: u }, { kind: 'relu' }] : [{ kind: 'dense', units: u }]) as LayerSpec[]);
  if (name === 'lenet-300-100') {
    return { name, input: [inD], layers: dense([300, 100, data.numClasses]), loss: 'softmax-ce', task: 'classification' };
  }
  if (name === 'lenet-5') {
    if (!image) throw new ModelError(`model 'lenet-5' needs image data [C, H, W] (or 784 = 28×28 features), got [${data.input}]`);
    return {
      name, input: image, loss: 'softmax-ce', task: 'classification',
      layers: [
        { kind: 'conv2d', filters: 20, kernel: 5 }, { kind: 'relu' }, { kind: 'maxPool2d', size: 2 },
        { kind: 'conv2d', filters: 50, kernel: 5 }, { kind: 'relu' }, { kind: 'maxPool2d', size: 2 },
        { kind: 'flatten' }, { kind: 'dense', units: 500 }, { kind: 'relu' }, { kind: 'dense', units: data.numClasses },
      ],
    };
  }
  const m = /^(mlp|autoencoder):(\d+(?:-\d+)+)$/.exec(name);
  if (m) {
    const sizes = m[2]!.split('-').map(Number);
    if (sizes.some((s) => s < 1)) throw new ModelError(`model '${name}': sizes must be positive`);
    if (sizes[0] !== inD) throw new ModelError(`model '${name}': the first size must be the input size ${inD}, got ${sizes[0]}`);
    if (m[1] === 'mlp') {
      if (sizes.length < 2) throw new ModelError(`model '${name}': needs at least input and output sizes`);
      if (data.numClasses > 0 && sizes[sizes.length - 1] !== data.numClasses) {
        throw new ModelError(`model '${name}': the last size must be the number of classes ${data.numClasses}, got ${sizes[sizes.length - 1]}`);
      }
      return { name, input: [inD], layers: dense(sizes.slice(1)), loss: 'softmax-ce', task: 'classification' };
    }
    const hidden = sizes.slice(1);
    const enc = hidden.flatMap((u) => [{ kind: 'dense', units: u }, { kind: 'relu' }] as LayerSpec[]);
    const dec = [...hidden.slice(0, -1)].reverse().flatMap((u) => [{ kind: 'dense', units: u }, { kind: 'relu' }] as LayerSpec[]);
    return { name, input: [inD], layers: [...enc, ...dec, { kind: 'dense', units: inD }, { kind: 'sigmoid' }], loss: 'mse', task: 'autoencoder' };
  }
  throw new ModelError(`unknown model '${name}': use one of ${PRESETS.join(', ')} (mlp:/autoencoder: take any sizes)`);
}

/**
 * A learning rate that trains the preset well with SGD + momentum 0.9 (measured on MNIST):
 * LeNet-5 diverges early above ~0.05; the autoencoder's MSE is a mean over all 784 values, so its
 * gradients are small and it needs a large step.
 */
export function defaultLr(model: string): number {
  if (model === 'lenet-5') return 0.01;
  if (model.startsWith('autoencoder:')) return 20;
  return 0.1;
}

/** Seeded initial values: He normal before a relu, Glorot uniform otherwise; biases 0. */
export function initParams(layers: ResolvedLayer[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const l of layers) {
    if (!l.weightShape) continue;
    const n = prod(l.weightShape);
    const w = new Float32Array(n);
    if (l.fusedActivation === 'relu') {
      const std = Math.sqrt(2 / l.fanIn!);
      for (let i = 0; i < n; i++) w[i] = std * rng.normal();
    } else {
      const lim = Math.sqrt(6 / (l.fanIn! + l.fanOut!));
      for (let i = 0; i < n; i++) w[i] = (2 * rng.uniform() - 1) * lim;
    }
    out.set(`${l.name}.weight`, w);
    out.set(`${l.name}.bias`, new Float32Array(prod(l.biasShape!)));
  }
  return out;
}
