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
import { layerKind } from './layers/index.js';

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
    const arity = layerKind(l.kind)?.arity ?? 1;
    if (!Array.isArray(inputs) || inputs.length !== arity || inputs.some((i) => !Number.isInteger(i) || i < -1 || i >= index)) {
      throw new ModelError(
        `${where}: inputs must be ${arity} index${arity > 1 ? 'es' : ''} of earlier layers (−1 = the model input), got ${JSON.stringify(l.inputs)}`,
      );
    }
    const shapeOf = (i: number) => (i < 0 ? [...spec.input] : out[i]!.outShape);
    const seqOf = (i: number) => (i < 0 ? false : out[i]!.seq);
    const inShape = shapeOf(inputs[0]!);
    const seq = seqOf(inputs[0]!);
    const tokens = language && inputs[0] === -1;
    const r: ResolvedLayer = { index, spec: l, name, inputs: [...inputs], inShape, outShape: inShape, seq, params: [], consumers: [] };
    if (tokens && !layerKind(l.kind)?.readsTokens) throw new ModelError(`${where}: a language model's tokens can only feed an embedding`);
    const fail = (msg: string): never => {
      throw new ModelError(`${where}: ${msg}`);
    };
    const def = layerKind(l.kind);
    if (!def) fail(`unknown layer kind '${(l as { kind: string }).kind}'`);
    def!.resolve(l as never, {
      r,
      inShape,
      seq,
      tokens,
      out,
      shapeOf,
      seqOf,
      fail,
      needSeq: () => {
        if (!seq) fail(`needs per-token rows [T, C] (after an embedding), got [${inShape}]`);
      },
      noSeq: () => {
        if (seq) fail(`does not apply to per-token rows [${inShape}]`);
      },
      weight: (shape) => {
        r.weightShape = shape;
        r.params.push({ name: `${name}.weight`, shape, prunable: true });
      },
      bias: (shape) => {
        r.biasShape = shape;
        r.params.push({ name: `${name}.bias`, shape, prunable: false });
      },
    });
    for (const i of inputs) if (i >= 0) out[i]!.consumers.push(index);
    out.push(r);
  });
  if (language) {
    const last = out[out.length - 1];
    if (!last || !last.seq || last.outShape.length !== 2)
      throw new ModelError(`model '${spec.name}': a language model must end with per-token logits (T, V)`);
  }
  // fuse a node into the one it reads (a relu into its dense/conv kernel, positions into the lookup)
  for (const b of out) {
    layerKind(b.spec.kind)!.fuse?.(b as never, out, (msg) => {
      throw new ModelError(`model '${spec.name}' layer ${b.index} (${b.name}): ${msg}`);
    });
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
 * Language models (nanoGPT's): per-token matrices (embedding included) N(0, 0.02), one feeding a
 * residual join (`add`) N(0, 0.02/√(number of joins)), biases 0; a kind with an `init` hook sets its
 * own (layer norms γ = 1, β = 0).
 */
export function initParams(layers: ResolvedLayer[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  const residual = (l: ResolvedLayer) => !!layerKind(l.spec.kind)!.residual;
  const adds = layers.filter(residual).length;
  const c = { rng, layers, set: (name: string, values: Float32Array) => void out.set(name, values) };
  for (const l of layers) {
    const init = layerKind(l.spec.kind)!.init;
    if (init) {
      init(l as never, c);
      continue;
    }
    if (!l.weightShape) continue;
    const n = prod(l.weightShape);
    const w = new Float32Array(n);
    if (l.seq) {
      const std = l.consumers.some((i) => residual(layers[i]!)) && adds > 0 ? 0.02 / Math.sqrt(adds) : 0.02;
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
