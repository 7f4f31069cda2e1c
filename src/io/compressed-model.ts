// Inference straight from a compressed model file: every weight stays in its compressed form on the
// GPU (sparse index re-laid-out once as CSR by output unit, b-bit codebook indices packed in u32, the
// codebook, the bias: src/reference/spmm.ts) and runs through the spmm kernel (a conv through
// im2col + spmm). The file is decoded and every index and codebook checked on the CPU before any
// GPU buffer is made.
import type { Gpu } from '../gpu/device.js';
import { encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { relu, sigmoid, tanh } from '../kernels/elementwise.js';
import { maxPool2d } from '../kernels/pool.js';
import { im2col, spmm, uploadMatrix, type GpuMatrix } from '../kernels/spmm.js';
import { ArgumentError } from '../kernels/args.js';
import {
  buildMatrix,
  convOffsets,
  matrixBytes,
  perWord,
  type Activation,
  type CompressedMatrix,
  type MatrixFormat,
  type MatrixSource,
} from '../reference/spmm.js';
import { resolveModel, type ModelSpec, type ResolvedLayer } from '../nn/model.js';
import { Rng } from '../data/random.js';
import { sampleLogits } from '../nn/decode.js';
import { CompressedDecoder } from './compressed-decoder.js';
import { decodeSparse, type DecodedParam, type DecodedSparse, type DecodeOptions } from './format/index.js';

export interface CompressedModelOptions extends DecodeOptions {
  /** Layout of every weight matrix: 'csr', 'bitmask', 'dense' (dense with codebook) or 'auto' (default: the smallest; bitmask only where it saves a third of csr's bytes). */
  format?: MatrixFormat | 'auto';
  /**
   * From this batch size on, conv patches and the activations between dense layers are kept
   * transposed (inputs × batch), so the kernel's lanes run along the batch (shaders/spmm.wgsl
   * XT/YT). Default Infinity (never): measured on lavapipe it is 0.3–0.7× the speed of the
   * default layout at batch 16–64 (docs/inference.md), except LeNet-300-100 at 64 (1.16×).
   */
  transposedBatch?: number;
  /** Convolutions without padding: 'direct' (default; spmm reads the input through per-entry offsets, convOffsets) or 'im2col' (patches, then spmm). */
  conv?: 'direct' | 'im2col';
}

export interface CompressedLayerInfo {
  name: string;
  kind: 'dense' | 'conv2d';
  format: MatrixFormat;
  rows: number;
  inDim: number;
  /** Stored entries (kept weights for csr). */
  entries: number;
  bits: number;
  /** GPU bytes of index, values, codebook and bias. */
  bytes: number;
}

const RUNNABLE = new Set(['dense', 'conv2d', 'maxPool2d', 'flatten', 'relu', 'sigmoid', 'tanh']);
const ACTS = new Set(['relu', 'sigmoid', 'tanh']);
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A weight as rows = output units: a dense layer's Wᵀ (counting sort by unit), a conv's filters or an embedding table (tied head) as they are. */
export function matrixOf(l: ResolvedLayer, w: DecodedParam, bias: Float32Array, format: MatrixFormat | 'auto'): CompressedMatrix {
  const shape = w.entry.shape;
  const pos = w.positions!;
  const kept = pos.length;
  const dense = l.spec.kind === 'dense';
  const rows = dense ? shape[1]! : shape[0]!,
    inDim = dense ? shape[0]! : prod(shape.slice(1));
  const row = new Uint32Array(kept),
    col = new Uint32Array(kept);
  let order: Uint32Array | undefined;
  if (dense) {
    const start = new Uint32Array(rows + 1);
    for (let j = 0; j < kept; j++) start[(pos[j]! % rows) + 1]!++;
    for (let r = 0; r < rows; r++) start[r + 1]! += start[r]!;
    order = new Uint32Array(kept);
    for (let j = 0; j < kept; j++) {
      const o = pos[j]! % rows,
        at = start[o]!++;
      order[at] = j;
      row[at] = o;
      col[at] = Math.floor(pos[j]! / rows);
    }
  } else {
    for (let j = 0; j < kept; j++) {
      row[j] = Math.floor(pos[j]! / inDim);
      col[j] = pos[j]! % inDim;
    }
  }
  const pick = <T extends Uint32Array | Float32Array>(a: T): T => (order ? (a.map((_, k) => a[order![k]!]!) as T) : a);
  const bits = w.codes && w.entry.kind === 'sparse' ? w.entry.bits : 32;
  const src: MatrixSource = {
    rows,
    inDim,
    row,
    col,
    bias,
    ...(w.codes ? { codes: pick(w.codes), codebook: w.codebook, bits } : { values: pick(w.values!) }),
  };
  if (format !== 'auto') return buildMatrix(src, format);
  const codeBytes = 4 * Math.ceil(kept / perWord(bits));
  const sizes: [MatrixFormat, number][] = [
    ['csr', 4 * (rows + 1) + 4 * Math.ceil(kept / (inDim <= 65536 ? 2 : 1)) + codeBytes],
    ['bitmask', 4 * (rows + 1) + 4 * rows * Math.ceil(inDim / 32) + codeBytes],
    ['dense', 4 * Math.ceil((rows * inDim) / perWord(w.codes && bits < 16 ? bits + 1 : bits))],
  ];
  // bitmask decodes slower than csr (1.1–1.7× the kernel time at batch 1, 1.4× at 64: docs/inference.md):
  // it is taken only where it saves at least a third of csr's bytes (the GPT's 75%-sparse matrices)
  if (sizes[1]![1] > (2 / 3) * sizes[0]![1]) sizes.splice(1, 1);
  return buildMatrix(src, sizes.reduce((a, b) => (b[1] < a[1] ? b : a))[0]);
}

/** A dense (unpruned) parameter as a sparse one keeping every position. */
function sparseOf(w: DecodedParam): DecodedParam {
  return w.positions ? w : { ...w, positions: Uint32Array.from({ length: w.values!.length }, (_, i) => i) };
}

function infoOf(l: ResolvedLayer, m: CompressedMatrix): CompressedLayerInfo {
  const kind = l.spec.kind === 'conv2d' ? 'conv2d' : 'dense';
  return { name: l.name, kind, format: m.format, rows: m.rows, inDim: m.inDim, entries: m.entries, bits: m.bits, bytes: matrixBytes(m) };
}

interface Plan {
  B: number;
  input: Tensor;
  output: Tensor;
  dispatches: Dispatch[];
  tensors: Tensor[];
}

export class CompressedModel {
  private plans = new Map<number, Plan>();
  private disposed = false;

  private constructor(
    readonly gpu: Gpu,
    readonly spec: ModelSpec,
    private readonly layers: ResolvedLayer[],
    private readonly matrices: Map<string, GpuMatrix>,
    /** Per weight layer: layout and GPU bytes. */
    readonly info: CompressedLayerInfo[],
    /** Bytes of the file it came from. */
    readonly fileBytes: number,
    /** Language models: the layer norms' f32 vectors (every matrix is in `matrices`). */
    private readonly lm?: { vectors: Map<string, Tensor> },
    private readonly transposedBatch = Infinity,
  ) {}

  /** A language model: every matrix (token and position tables, qkv, projections, MLP) compressed; layer norms as f32 vectors. */
  private static async loadLanguage(
    gpu: Gpu,
    bytes: Uint8Array,
    d: DecodedSparse,
    layers: ResolvedLayer[],
    opts: CompressedModelOptions,
  ): Promise<CompressedModel> {
    const byName = new Map(d.params.map((p) => [p.entry.name, p]));
    const param = (name: string) => {
      const p = byName.get(name);
      if (!p) throw new ArgumentError(`slimgpu.CompressedModel: parameter '${name}' is missing from the file`);
      return p;
    };
    const built: [ResolvedLayer, CompressedMatrix][] = [];
    const vecs: [string, Float32Array][] = [];
    for (const l of layers) {
      const k = l.spec.kind;
      if (k === 'dense') built.push([l, matrixOf(l, sparseOf(param(`${l.name}.weight`)), param(`${l.name}.bias`).values!, opts.format ?? 'auto')]);
      else if (k === 'embedding' || k === 'positions')
        built.push([l, matrixOf(l, sparseOf(param(`${l.name}.weight`)), new Float32Array(l.weightShape![0]!), opts.format ?? 'auto')]);
      else if (l.params.length && k === 'layerNorm') for (const p of l.params) vecs.push([p.name, param(p.name).values!]);
      else if (l.params.length) throw new ArgumentError(`slimgpu.CompressedModel: layer '${l.name}' (${k}) cannot run from the compressed form`);
    }
    const matrices = new Map<string, GpuMatrix>();
    const vectors = new Map<string, Tensor>();
    try {
      for (const [l, m] of built) matrices.set(l.name, uploadMatrix(gpu, m, l.name));
      for (const [n, v] of vecs) vectors.set(n, createTensor(gpu, [v.length], v, { label: n }));
    } catch (e) {
      for (const g of matrices.values()) g.dispose();
      for (const v of vectors.values()) v.dispose();
      throw e;
    }
    const info = built.map(([l, m]) => ({ ...infoOf(l, m), kind: 'dense' as const }));
    for (const [n, v] of vecs)
      info.push({ name: n, kind: 'dense', format: 'dense', rows: 1, inDim: v.length, entries: v.length, bits: 32, bytes: 4 * v.length });
    return new CompressedModel(gpu, d.spec, layers, matrices, info, bytes.length, { vectors }, opts.transposedBatch ?? Infinity);
  }

  /**
   * Language models (gpt: presets): feeds `prompt` (a newline when empty) and samples `tokens`
   * bytes at `temperature` (0: argmax) with a seeded generator, every matrix of the decode step
   * (qkv, projections, MLP, tied head) read in its compressed form; returns the generated bytes.
   */
  async generate(
    prompt: string | Uint8Array,
    o: { tokens: number; temperature?: number; seed?: number; onByte?: (b: number) => void },
  ): Promise<Uint8Array> {
    if (!this.lm) throw new ArgumentError(`slimgpu.CompressedModel.generate: model '${this.spec.name}' is not a language model (use predict)`);
    if (!Number.isInteger(o.tokens) || o.tokens < 1)
      throw new ArgumentError(`slimgpu.CompressedModel.generate: tokens must be a positive integer, got ${o.tokens}`);
    const dec = await this.decoder();
    try {
      const rng = new Rng(o.seed ?? 1);
      const p = typeof prompt === 'string' ? new TextEncoder().encode(prompt) : prompt;
      let logits!: Float32Array;
      for (const b of p.length ? p : [10]) logits = await dec.step(b);
      const out = new Uint8Array(o.tokens);
      for (let i = 0; i < o.tokens; i++) {
        out[i] = sampleLogits(logits, o.temperature ?? 0.8, rng.uniform());
        o.onByte?.(out[i]!);
        if (i + 1 < o.tokens) logits = await dec.step(out[i]!);
      }
      return out;
    } finally {
      dec.dispose();
    }
  }

  /**
   * A batch-1 decoder over the compressed weights (language models; src/io/compressed-decoder.ts):
   * step(byte) → the next byte's logits. Dispose it before the model.
   */
  async decoder(): Promise<CompressedDecoder> {
    if (!this.lm || this.disposed) throw new ArgumentError(`slimgpu.CompressedModel.decoder: model '${this.spec.name}' is not a live language model`);
    return CompressedDecoder.create(this.gpu, this.spec, this.layers, { matrices: this.matrices, vectors: this.lm.vectors });
  }

  /** Decodes and checks the file on the CPU, then uploads the compressed weights. */
  static async load(gpu: Gpu, bytes: Uint8Array, opts: CompressedModelOptions = {}): Promise<CompressedModel> {
    const d = decodeSparse(bytes, opts);
    const layers = resolveModel(d.spec);
    const where = opts.name ? `'${opts.name}'` : `model '${d.spec.name}'`;
    if (d.spec.task === 'language') return CompressedModel.loadLanguage(gpu, bytes, d, layers, opts);
    layers.forEach((l, i) => {
      if (!RUNNABLE.has(l.spec.kind) || l.inputs.length !== 1 || l.inputs[0] !== i - 1) {
        throw new ArgumentError(
          `slimgpu.CompressedModel: ${where}: layer '${l.name}' (${l.spec.kind}) cannot run from the compressed form (supported: a chain of ${[...RUNNABLE].join(', ')})`,
        );
      }
    });
    const byName = new Map(d.params.map((p) => [p.entry.name, p]));
    const built: [ResolvedLayer, CompressedMatrix][] = [];
    for (const l of layers) {
      if (l.spec.kind !== 'dense' && l.spec.kind !== 'conv2d') continue;
      let m = matrixOf(l, byName.get(`${l.name}.weight`)!, byName.get(`${l.name}.bias`)!.values!, opts.format ?? 'auto');
      const s = l.spec;
      if (s.kind === 'conv2d' && !s.padding && opts.conv !== 'im2col' && m.format !== 'dense') {
        const [C, H, W] = l.inShape as [number, number, number];
        m = convOffsets(m, { C, H, W, KH: s.kernel, KW: s.kernel });
      }
      built.push([l, m]);
    }
    const matrices = new Map<string, GpuMatrix>();
    try {
      for (const [l, m] of built) matrices.set(l.name, uploadMatrix(gpu, m, l.name));
    } catch (e) {
      for (const g of matrices.values()) g.dispose();
      throw e;
    }
    const info = built.map(([l, m]) => infoOf(l, m));
    return new CompressedModel(gpu, d.spec, layers, matrices, info, bytes.length, undefined, opts.transposedBatch ?? Infinity);
  }

  get inputShape(): number[] {
    return [...this.spec.input];
  }
  get outputShape(): number[] {
    return [...this.layers[this.layers.length - 1]!.outShape];
  }
  /** GPU bytes of every weight (indices, codes, codebooks, biases). */
  get weightBytes(): number {
    return this.info.reduce((s, l) => s + l.bytes, 0);
  }
  /** Bytes the same weights take as dense fp32. */
  get denseBytes(): number {
    return this.layers.reduce((s, l) => s + l.params.reduce((t, p) => t + 4 * prod(p.shape), 0), 0);
  }

  /**
   * Outputs (B, ...outputShape) for a batch of B inputs, each of inputShape, normalised as in
   * training, row-major in one array of B·prod(inputShape) values.
   */
  async predict(batch: Float32Array | readonly number[]): Promise<Float32Array> {
    if (this.disposed) throw new ArgumentError('slimgpu.CompressedModel.predict: the model was disposed');
    if (this.lm) throw new ArgumentError(`slimgpu.CompressedModel.predict: model '${this.spec.name}' is a language model: use generate`);
    const D = prod(this.spec.input);
    const n = batch?.length;
    if (!(n > 0) || n % D !== 0) {
      throw new ArgumentError(
        `slimgpu.CompressedModel.predict: the input must have shape [B, ${this.spec.input.join(', ')}] (B·${D} values, B ≥ 1), got ${n ?? typeof batch} values`,
      );
    }
    const plan = await this.plan(n / D);
    plan.input.write(batch instanceof Float32Array ? batch : Float32Array.from(batch));
    this.gpu.assertAlive();
    const enc = this.gpu.device.createCommandEncoder({ label: `CompressedModel.predict B${plan.B}` });
    encodeDispatches(enc, plan.dispatches, 'CompressedModel');
    this.gpu.device.queue.submit([enc.finish()]);
    return (await plan.output.read()) as Float32Array;
  }

  /** Frees every GPU buffer. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.plans.values()) this.freePlan(p);
    for (const g of this.matrices.values()) g.dispose();
    for (const v of this.lm?.vectors.values() ?? []) v.dispose();
  }

  private freePlan(p: Plan): void {
    for (const d of p.dispatches) for (const b of d.owned ?? []) b.destroy();
    for (const t of p.tensors) t.dispose();
  }

  /** Activations and dispatch records for batch B, built once and kept. */
  private async plan(B: number): Promise<Plan> {
    const have = this.plans.get(B);
    if (have) return have;
    const tensors: Tensor[] = [];
    const t = (shape: number[], dtype: 'f32' | 'u32' = 'f32') => {
      const x = createTensor(this.gpu, shape, undefined, { dtype });
      tensors.push(x);
      return x as Tensor;
    };
    const input = t([B, ...this.spec.input]);
    const dispatches: Dispatch[] = [];
    let cur = input;
    const T = B >= this.transposedBatch;
    const lastWeights = this.layers.reduce((k, l, i) => (l.spec.kind === 'dense' || l.spec.kind === 'conv2d' ? i : k), -1);
    let curT = false; // cur is stored transposed (features × B)
    try {
      for (let i = 0; i < this.layers.length; i++) {
        const l = this.layers[i]!,
          s = l.spec;
        const next = this.layers[i + 1];
        const fuse = (s.kind === 'dense' || s.kind === 'conv2d') && next && ACTS.has(next.spec.kind) && l.consumers.length === 1;
        const act = (fuse ? next!.spec.kind : 'none') as Activation;
        const out = s.kind === 'flatten' ? cur.reshape([B, ...l.outShape]) : t([B, ...(fuse ? next!.outShape : l.outShape)]);
        if (s.kind === 'dense') {
          const yT = T && i < lastWeights && this.layers[lastWeights]!.spec.kind === 'dense';
          dispatches.push(...(await spmm(this.gpu, this.matrices.get(l.name)!, cur, out, { B, act, xT: curT, yT })));
          curT = yT;
        } else if (s.kind === 'conv2d') {
          const [C, H, W] = l.inShape as [number, number, number],
            [, OH, OW] = l.outShape as [number, number, number];
          const g = { N: B, C, H, W, KH: s.kernel, KW: s.kernel, S: s.stride ?? 1, PAD: s.padding ?? 0, OH, OW };
          const gm = this.matrices.get(l.name)!;
          if (gm.m.conv) {
            dispatches.push(...(await spmm(this.gpu, gm, cur, out, { B: B * OH * OW, P: OH * OW, act, conv: { C, H, W, OW, S: g.S } })));
            cur = out;
            if (fuse) i++;
            continue;
          }
          const patches = t([B * OH * OW * C * s.kernel * s.kernel]);
          const xT = B * OH * OW >= this.transposedBatch;
          dispatches.push(
            ...(await im2col(this.gpu, cur, patches, g, xT)),
            ...(await spmm(this.gpu, this.matrices.get(l.name)!, patches, out, { B: B * OH * OW, P: OH * OW, act, xT })),
          );
        } else if (s.kind === 'maxPool2d') {
          dispatches.push(
            ...(await maxPool2d(this.gpu, cur, out, t([B, ...l.outShape], 'u32'), { kernel: s.size ?? 2, stride: s.stride ?? s.size ?? 2 })),
          );
        } else if (s.kind !== 'flatten') {
          dispatches.push(...(await (s.kind === 'relu' ? relu : s.kind === 'sigmoid' ? sigmoid : tanh)(this.gpu, cur, out)));
        }
        cur = out;
        if (fuse) i++;
      }
    } catch (e) {
      this.freePlan({ B, input, output: cur, dispatches, tensors });
      throw e;
    }
    const plan = { B, input, output: cur, dispatches, tensors };
    this.plans.set(B, plan);
    return plan;
  }
}
