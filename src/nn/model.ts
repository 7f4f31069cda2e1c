// Model descriptions: a small graph of layer specs, shape inference and initial values (no GPU here).
//   A model is a list of nodes; node i reads the outputs of `inputs` (indices of earlier nodes, −1 =
//   the model input; default: the node before it), so a Sequential preset is a graph with one input
//   per node and a residual block is `add` with two. Shapes are per sample: [D] for vectors,
//   [C, H, W] for images (NCHW with the batch in front), [T] tokens and [T, C] per-token rows for
//   language models (every node after an embedding acts on each of the T rows: dense maps the last
//   dimension). dense weight (in, out) so that y = x·W + b; conv weight (OC, C, KH, KW);
//   embedding (V, C); positions (T, C); layer norm weight γ (C) and bias β (C).
import { Rng } from '../data/random.js';

import { ModelError, type ModelSpec, type ParamSpecOf, type ResolvedLayer } from './spec.js';

export * from './spec.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const posInt = (x: unknown) => Number.isInteger(x) && (x as number) >= 1;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.]{0,63}$/;

/** Infers every node's shapes; throws a ModelError naming the node on a mismatch. */
export function resolveModel(spec: ModelSpec): ResolvedLayer[] {
  if (!spec.input.length || spec.input.some((d) => !posInt(d))) {
    throw new ModelError(`model '${spec.name}': input shape must be positive integers, got [${spec.input}]`);
  }
  const language = spec.task === 'language';
  if (language && spec.input.length !== 1) throw new ModelError(`model '${spec.name}': a language model's input is [T] tokens, got [${spec.input}]`);
  const out: ResolvedLayer[] = [];
  const counts: Record<string, number> = {};
  const names = new Set<string>();
  spec.layers.forEach((l, index) => {
    counts[l.kind] = (counts[l.kind] ?? 0) + 1;
    const name = l.name ?? `${l.kind}${counts[l.kind]}`;
    const where = `model '${spec.name}' layer ${index} (${name})`;
    if (!NAME_RE.test(name)) throw new ModelError(`${where}: a name is 1-64 letters, digits, '_' or '.', got ${JSON.stringify(name)}`);
    if (names.has(name)) throw new ModelError(`${where}: the name '${name}' is used twice`);
    names.add(name);
    const inputs = l.inputs ?? [index - 1];
    const arity = l.kind === 'add' ? 2 : 1;
    if (!Array.isArray(inputs) || inputs.length !== arity || inputs.some((i) => !Number.isInteger(i) || i < -1 || i >= index)) {
      throw new ModelError(`${where}: inputs must be ${arity} index${arity > 1 ? 'es' : ''} of earlier layers (−1 = the model input), got ${JSON.stringify(l.inputs)}`);
    }
    const shapeOf = (i: number) => (i < 0 ? [...spec.input] : out[i]!.outShape);
    const seqOf = (i: number) => (i < 0 ? false : out[i]!.seq);
    const inShape = shapeOf(inputs[0]!);
    const seq = seqOf(inputs[0]!);
    const tokens = language && inputs[0] === -1;
    const r: ResolvedLayer = { index, spec: l, name, inputs: [...inputs], inShape, outShape: inShape, seq, params: [], consumers: [] };
    if (tokens && l.kind !== 'embedding') throw new ModelError(`${where}: a language model's tokens can only feed an embedding`);
    const needSeq = () => { if (!seq) throw new ModelError(`${where}: needs per-token rows [T, C] (after an embedding), got [${inShape}]`); };
    const noSeq = () => { if (seq) throw new ModelError(`${where}: does not apply to per-token rows [${inShape}]`); };
    const weight = (shape: number[]) => { r.weightShape = shape; r.params.push({ name: `${name}.weight`, shape, prunable: true }); };
    const bias = (shape: number[]) => { r.biasShape = shape; r.params.push({ name: `${name}.bias`, shape, prunable: false }); };
    switch (l.kind) {
      case 'dense': {
        if (!posInt(l.units)) throw new ModelError(`${where}: units must be a positive integer, got ${l.units}`);
        const inD = seq ? inShape[inShape.length - 1]! : prod(inShape);
        r.outShape = seq ? [inShape[0]!, l.units] : [l.units];
        weight([inD, l.units]);
        bias([l.units]);
        r.fanIn = inD; r.fanOut = l.units;
        break;
      }
      case 'conv2d': {
        noSeq();
        if (inShape.length !== 3) throw new ModelError(`${where}: needs an image input [C, H, W], got [${inShape}]`);
        const [C, H, W] = inShape as [number, number, number];
        const k = l.kernel, s = l.stride ?? 1, p = l.padding ?? 0;
        if (!posInt(l.filters)) throw new ModelError(`${where}: filters must be a positive integer, got ${l.filters}`);
        if (!posInt(k)) throw new ModelError(`${where}: kernel must be a positive integer, got ${k}`);
        if (!posInt(s)) throw new ModelError(`${where}: stride must be a positive integer, got ${s}`);
        if (!Number.isInteger(p) || p < 0) throw new ModelError(`${where}: padding must be a non-negative integer, got ${p}`);
        const OH = Math.floor((H + 2 * p - k) / s) + 1, OW = Math.floor((W + 2 * p - k) / s) + 1;
        if (OH < 1 || OW < 1) throw new ModelError(`${where}: kernel ${k} is larger than the padded input ${H + 2 * p}×${W + 2 * p}`);
        r.outShape = [l.filters, OH, OW];
        weight([l.filters, C, k, k]);
        bias([l.filters]);
        r.fanIn = C * k * k; r.fanOut = l.filters * k * k;
        break;
      }
      case 'maxPool2d': {
        noSeq();
        if (inShape.length !== 3) throw new ModelError(`${where}: needs an image input [C, H, W], got [${inShape}]`);
        const [C, H, W] = inShape as [number, number, number];
        const k = l.size ?? 2, s = l.stride ?? k;
        const OH = Math.floor((H - k) / s) + 1, OW = Math.floor((W - k) / s) + 1;
        if (OH < 1 || OW < 1) throw new ModelError(`${where}: pool ${k} is larger than the input ${H}×${W}`);
        r.outShape = [C, OH, OW];
        break;
      }
      case 'flatten':
        noSeq();
        r.outShape = [prod(inShape)];
        break;
      case 'relu': case 'sigmoid': case 'tanh': case 'gelu':
        break;
      case 'embedding': {
        if (!tokens) throw new ModelError(`${where}: an embedding reads the model's tokens (input −1 of a language model)`);
        if (!posInt(l.vocab) || l.vocab > 65536) throw new ModelError(`${where}: vocab must be an integer in [1, 65536], got ${l.vocab}`);
        if (!posInt(l.dim)) throw new ModelError(`${where}: dim must be a positive integer, got ${l.dim}`);
        r.outShape = [inShape[0]!, l.dim];
        r.seq = true;
        weight([l.vocab, l.dim]);
        r.fanIn = l.vocab; r.fanOut = l.dim;
        break;
      }
      case 'positions':
        needSeq();
        if (out[inputs[0]!]?.spec.kind !== 'embedding') throw new ModelError(`${where}: positions read an embedding directly (they are added by its lookup kernel)`);
        weight([...inShape]);
        r.fanIn = inShape[0]; r.fanOut = inShape[1];
        break;
      case 'layerNorm':
        needSeq();
        r.params.push({ name: `${name}.weight`, shape: [inShape[1]!], prunable: false }, { name: `${name}.bias`, shape: [inShape[1]!], prunable: false });
        break;
      case 'attention': {
        needSeq();
        const C3 = inShape[1]!;
        if (C3 % 3 !== 0) throw new ModelError(`${where}: needs fused q, k, v rows (T, 3C), got [${inShape}]`);
        const C = C3 / 3;
        if (!posInt(l.heads) || C % l.heads !== 0) throw new ModelError(`${where}: heads must be a positive integer dividing C = ${C}, got ${l.heads}`);
        r.outShape = [inShape[0]!, C];
        break;
      }
      case 'add': {
        const other = shapeOf(inputs[1]!);
        if (other.length !== inShape.length || other.some((d, i) => d !== inShape[i]) || seqOf(inputs[1]!) !== seq) {
          throw new ModelError(`${where}: both inputs must have the same shape, got [${inShape}] and [${other}]`);
        }
        break;
      }
      case 'tiedHead': {
        needSeq();
        const e = out[l.tie];
        if (!Number.isInteger(l.tie) || !e || e.spec.kind !== 'embedding') throw new ModelError(`${where}: tie must be the index of an earlier embedding layer, got ${l.tie}`);
        const [V, C] = e.weightShape as [number, number];
        if (inShape[1] !== C) throw new ModelError(`${where}: rows of width ${C} (the embedding's) needed, got [${inShape}]`);
        r.outShape = [inShape[0]!, V];
        break;
      }
      default:
        throw new ModelError(`${where}: unknown layer kind '${(l as { kind: string }).kind}'`);
    }
    for (const i of inputs) if (i >= 0) out[i]!.consumers.push(index);
    out.push(r);
  });
  if (language) {
    const last = out[out.length - 1];
    if (!last || !last.seq || last.outShape.length !== 2) throw new ModelError(`model '${spec.name}': a language model must end with per-token logits (T, V)`);
  }
  // fuse a relu into the dense/conv forward kernel that is its only input (and has no other reader),
  // and positions into the embedding lookup they read
  for (const b of out) {
    if (b.spec.kind === 'positions') {
      const e = out[b.inputs[0]!]!;
      if (e.consumers.length !== 1) throw new ModelError(`model '${spec.name}' layer ${b.index} (${b.name}): its embedding '${e.name}' must feed only the positions`);
      e.fusedPositions = true;
    }
    if (b.spec.kind !== 'relu') continue;
    const a = out[b.inputs[0]!];
    if (a && (a.spec.kind === 'dense' || a.spec.kind === 'conv2d') && a.consumers.length === 1) a.fusedActivation = 'relu';
  }
  return out;
}

export function outputShape(spec: ModelSpec): number[] {
  const r = resolveModel(spec);
  return r.length ? r[r.length - 1]!.outShape : spec.input;
}

/** Every parameter of the model, in layer order (weights before biases within a layer). */
export function modelParams(layers: ResolvedLayer[]): (ParamSpecOf & { layer: string })[] {
  return layers.flatMap((l) => l.params.map((p) => ({ ...p, shape: [...p.shape], layer: l.name })));
}

/**
 * Seeded initial values. Image models: He normal before a relu, Glorot uniform otherwise; biases 0.
 * Language models (nanoGPT's): matrices N(0, 0.02), a dense layer feeding a residual add
 * N(0, 0.02/√(number of adds)), biases 0, layer norms γ = 1, β = 0.
 */
export function initParams(layers: ResolvedLayer[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  const adds = layers.filter((l) => l.spec.kind === 'add').length;
  for (const l of layers) {
    if (l.spec.kind === 'layerNorm') {
      out.set(`${l.name}.weight`, new Float32Array(l.inShape[1]!).fill(1));
      out.set(`${l.name}.bias`, new Float32Array(l.inShape[1]!));
      continue;
    }
    if (!l.weightShape) continue;
    const n = prod(l.weightShape);
    const w = new Float32Array(n);
    if (l.seq || l.spec.kind === 'embedding') {
      const residual = l.consumers.some((c) => layers[c]!.spec.kind === 'add');
      const std = residual && adds > 0 ? 0.02 / Math.sqrt(adds) : 0.02;
      for (let i = 0; i < n; i++) w[i] = std * rng.normal();
    } else if (l.fusedActivation === 'relu') {
      const std = Math.sqrt(2 / l.fanIn!);
      for (let i = 0; i < n; i++) w[i] = std * rng.normal();
    } else {
      const lim = Math.sqrt(6 / (l.fanIn! + l.fanOut!));
      for (let i = 0; i < n; i++) w[i] = (2 * rng.uniform() - 1) * lim;
    }
    out.set(`${l.name}.weight`, w);
    if (l.biasShape) out.set(`${l.name}.bias`, new Float32Array(prod(l.biasShape)));
  }
  return out;
}

export { PRESETS, modelFromName, defaultLr, gptSpec, parseGptName } from './presets.js';
