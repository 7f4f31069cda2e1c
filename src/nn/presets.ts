// Model presets by name: LeNet-300-100, LeNet-5, mlp:/autoencoder: sizes, and gpt:L-D-H-T.
import { ModelError, type LayerSpec, type ModelSpec } from './spec.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export const PRESETS = ['lenet-300-100', 'lenet-5', 'mlp:784-256-10', 'autoencoder:784-64', 'gpt:4-128-4-128'] as const;

/** Byte-level vocabulary of the gpt: presets. */
export const GPT_VOCAB = 256;

export interface GptConfig {
  /** Blocks, width, heads, context. */
  L: number;
  D: number;
  H: number;
  T: number;
}

/** Parses `gpt:L-D-H-T` (e.g. gpt:4-128-4-128); undefined when the name is not a gpt: preset. */
export function parseGptName(name: string): GptConfig | undefined {
  const m = /^gpt:(\d+)-(\d+)-(\d+)-(\d+)$/.exec(name);
  if (!m) {
    if (name.startsWith('gpt:')) throw new ModelError(`model '${name}': write gpt:L-D-H-T (layers, width, heads, context), e.g. gpt:4-128-4-128`);
    return undefined;
  }
  const [L, D, H, T] = m.slice(1).map(Number) as [number, number, number, number];
  const bad = (what: string) => {
    throw new ModelError(`model '${name}': ${what}`);
  };
  if (L < 1 || L > 64) bad(`layers L must be in [1, 64], got ${L}`);
  if (D < 1 || D > 4096) bad(`width D must be in [1, 4096], got ${D}`);
  if (H < 1 || D % H !== 0) bad(`heads H must divide the width D = ${D}, got ${H}`);
  if (T < 1 || T > 4096) bad(`context T must be in [1, 4096], got ${T}`);
  return { L, D, H, T };
}

/**
 * The GPT graph (nanoGPT's, byte vocabulary 256): wte (token embedding, 256×D) + wpe (learned
 * positions, T×D), then L pre-norm blocks x ← x + attn(ln_1(x)), x ← x + mlp(ln_2(x)) with a fused
 * qkv projection (D → 3D), causal attention over H heads, an output projection and a 4·D GELU MLP,
 * a final layer norm ln_f, and the LM head tied to the embedding: logits = x·wteᵀ. The head has no
 * parameter of its own: one tensor (wte.weight), one mask, one codebook serve both uses, its
 * gradient is the sum of both uses' gradients, and pruning or sharing it changes both at once.
 */
export function gptSpec(c: GptConfig, name = `gpt:${c.L}-${c.D}-${c.H}-${c.T}`): ModelSpec {
  const layers: LayerSpec[] = [];
  const add = (l: LayerSpec): number => layers.push(l) - 1;
  add({ kind: 'embedding', vocab: GPT_VOCAB, dim: c.D, name: 'wte', inputs: [-1] });
  let x = add({ kind: 'positions', name: 'wpe' });
  for (let i = 0; i < c.L; i++) {
    const h = `h${i}`;
    add({ kind: 'layerNorm', name: `${h}.ln_1`, inputs: [x] });
    add({ kind: 'dense', units: 3 * c.D, name: `${h}.attn.c_attn` });
    add({ kind: 'attention', heads: c.H, name: `${h}.attn` });
    const a = add({ kind: 'dense', units: c.D, name: `${h}.attn.c_proj` });
    x = add({ kind: 'add', name: `${h}.res_1`, inputs: [x, a] });
    add({ kind: 'layerNorm', name: `${h}.ln_2`, inputs: [x] });
    add({ kind: 'dense', units: 4 * c.D, name: `${h}.mlp.c_fc` });
    add({ kind: 'gelu', name: `${h}.mlp.gelu` });
    const m = add({ kind: 'dense', units: c.D, name: `${h}.mlp.c_proj` });
    x = add({ kind: 'add', name: `${h}.res_2`, inputs: [x, m] });
  }
  add({ kind: 'layerNorm', name: 'ln_f', inputs: [x] });
  add({ kind: 'tiedHead', tie: 0, name: 'lm_head' });
  return { name, input: [c.T], layers, loss: 'softmax-ce', task: 'language' };
}

/**
 * A model from its name: `lenet-300-100`, `lenet-5` (Caffe's: conv 20, conv 50, fc 500, fc 10),
 * `mlp:784-256-10` (any sizes; the first is the input, the last the classes),
 * `autoencoder:784-64` (784 → 64 → 784, relu code, sigmoid output, MSE), `gpt:L-D-H-T` (gptSpec).
 */
export function modelFromName(name: string, data: { input: number[]; numClasses: number }): ModelSpec {
  const gpt = parseGptName(name);
  if (gpt) {
    if (data.input.length !== 1 || data.input[0] !== gpt.T || (data.numClasses !== 0 && data.numClasses !== GPT_VOCAB)) {
      throw new ModelError(
        `model '${name}' needs text data (windows of T = ${gpt.T} bytes, e.g. --data text:FILE), got samples [${data.input}] with ${data.numClasses} classes`,
      );
    }
    return gptSpec(gpt, name);
  }
  const inD = prod(data.input);
  const image = data.input.length === 3 ? data.input : inD === 784 ? [1, 28, 28] : undefined;
  const dense = (units: number[], relu = true): LayerSpec[] =>
    units.flatMap(
      (u, i) => (i < units.length - 1 && relu ? [{ kind: 'dense', units: u }, { kind: 'relu' }] : [{ kind: 'dense', units: u }]) as LayerSpec[],
    );
  if (name === 'lenet-300-100') {
    return { name, input: [inD], layers: dense([300, 100, data.numClasses]), loss: 'softmax-ce', task: 'classification' };
  }
  if (name === 'lenet-5') {
    if (!image) throw new ModelError(`model 'lenet-5' needs image data [C, H, W] (or 784 = 28×28 features), got [${data.input}]`);
    return {
      name,
      input: image,
      loss: 'softmax-ce',
      task: 'classification',
      layers: [
        { kind: 'conv2d', filters: 20, kernel: 5 },
        { kind: 'relu' },
        { kind: 'maxPool2d', size: 2 },
        { kind: 'conv2d', filters: 50, kernel: 5 },
        { kind: 'relu' },
        { kind: 'maxPool2d', size: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 500 },
        { kind: 'relu' },
        { kind: 'dense', units: data.numClasses },
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
  throw new ModelError(`unknown model '${name}': use one of ${PRESETS.join(', ')} (mlp:/autoencoder:/gpt: take any sizes)`);
}

/**
 * A learning rate that trains the preset well (measured): SGD + momentum 0.9 on MNIST — LeNet-5
 * diverges early above ~0.05; the autoencoder's MSE is a mean over all 784 values, so its gradients
 * are small and it needs a large step; gpt: presets are trained with AdamW at 1e-3.
 */
export function defaultLr(model: string): number {
  if (model === 'lenet-5') return 0.01;
  if (model.startsWith('autoencoder:')) return 20;
  if (model.startsWith('gpt:')) return 1e-3;
  return 0.1;
}
