// What one layer kind defines: everything about it lives in its file in this folder (one line per
// kind in index.ts). `resolve` (shape inference and parameters) is required; the rest are optional
// hooks that the generic code calls through the registry: resolveModel and initParams (model.ts),
// the graph's forward and backward records (graph.ts), the incremental decoder's step (decode.ts)
// and the PyTorch names (io/torch.ts reads the `torch` table). A kind without a hook has no such
// step (the caller names the node in its error). Adding a kind: one new file + one line in index.ts
// (+ its spec's variant in spec.ts's LayerSpec union).
import type { Gpu } from '../../gpu/device.js';
import type { Dispatch } from '../../gpu/dispatch.js';
import type { Tensor } from '../../gpu/tensor.js';
import type { Rng } from '../../data/random.js';
import type { GpuMatrix } from '../../kernels/spmm.js';
import type { GraphContext, Grads, NodeState } from '../grads.js';
import type { LayerKind, LayerSpec, ResolvedLayer } from '../spec.js';

export const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
export const posInt = (x: unknown) => Number.isInteger(x) && (x as number) >= 1;

/** A resolved node whose spec is of kind K. */
export type LayerOf<K extends LayerKind = LayerKind> = ResolvedLayer & { spec: Extract<LayerSpec, { kind: K }> };

/** The node being resolved, what it reads, and helpers that throw a ModelError naming it. */
export interface ResolveContext {
  /** The resolved node: `resolve` sets outShape, seq, params, weightShape, biasShape, fanIn, fanOut. */
  r: ResolvedLayer;
  inShape: number[];
  /** Its input is per-token rows [T, C]. */
  seq: boolean;
  /** Its input is the language model's tokens. */
  tokens: boolean;
  /** The nodes resolved so far (earlier ones). */
  out: ResolvedLayer[];
  shapeOf(i: number): number[];
  seqOf(i: number): boolean;
  /** Throws ModelError(`model 'M' layer i (name): ${msg}`). */
  fail(msg: string): never;
  needSeq(): void;
  noSeq(): void;
  /** Adds the prunable '<name>.weight' of this shape. */
  weight(shape: number[]): void;
  /** Adds the dense '<name>.bias' of this shape. */
  bias(shape: number[]): void;
}

/** A node's forward records (graph.ts): `forward` sets n.y (and n.saved) and returns the dispatches. */
export interface ForwardContext<K extends LayerKind = LayerKind> {
  g: GraphContext;
  layers: ResolvedLayer[];
  l: LayerOf<K>;
  n: NodeState;
  /** [B, ...outShape]. */
  outShape: number[];
  /** The arena's '<name>.weight' / '<name>.bias' (default name: this node's). */
  W(name?: string): Tensor;
  bias(name?: string): Tensor;
}

/** A node's backward records, given its output gradient `gy`. */
export interface BackwardContext<K extends LayerKind = LayerKind> extends ForwardContext<K> {
  gy: Tensor;
  grads: Grads;
  /** The value whose gradient input i feeds (−1: none needed). */
  gradOf(input: number): number;
  /** gradOf(its first input). */
  i0: number;
}

/** One node of a KvDecoder pass (decode.ts) on rows = B·n new tokens: `decode` returns its output (rows, width). */
export interface DecodeContext<K extends LayerKind = LayerKind> {
  gpu: Gpu;
  layers: ResolvedLayer[];
  l: LayerOf<K>;
  x: Tensor[];
  /** New tokens per stream in this pass, and rows = B·n. */
  n: number;
  rows: number;
  /** The pass's tokens (rows, u32). */
  tokens: Tensor;
  /** False in a prefill for a node nothing after it needs (only `kvCache` kinds run then). */
  needed: boolean;
  /** The pass's records (push onto them). */
  rec: Dispatch[];
  /** A fresh output (rows, width). */
  out(): Tensor;
  alloc(shape: number[], label: string, dtype?: 'f32' | 'u32'): Tensor;
  W(name: string): Tensor;
  bias(name: string): Tensor;
  /** Compressed weights by layer name (used instead of the arena's dense ones when present). */
  matrices?: ReadonlyMap<string, GpuMatrix>;
  /** `kvCache` kinds: this node's key and value caches (B, T, C) and the position (1, u32). */
  kCache: Tensor;
  vCache: Tensor;
  position: Tensor;
  /** (n, C) rows of the position table `table` from the current position, copied before each pass. */
  positionRows(table: Tensor): Tensor;
}

/** Seeded initial values (model.ts initParams); `set` stores one parameter. */
export interface InitContext {
  rng: Rng;
  layers: ResolvedLayer[];
  set(name: string, values: Float32Array): void;
}

/** PyTorch's names and layouts of a kind's parameters (io/torch.ts builds the state_dict map from it). */
export interface TorchNames {
  /** The torch module, for messages ('Linear'); default the kind. */
  module?: string;
  /** Image models: the name prefix's torch spelling (['dense', 'fc']: dense1 ↔ fc1). */
  rename?: readonly [string, string];
  /** The weight's layout in slimgpu, for messages (' [in, out]'). */
  layout?: string;
  /** torch stores the weight transposed (Linear: ' [out, in]'). */
  transpose?: boolean;
  /** nanoGPT: the node's shared parameter is written a second time under this name ('lm_head'). */
  tied?: string;
}

export interface LayerKindDef<K extends LayerKind = LayerKind> {
  kind: K;
  /** Inputs the node reads (default 1). */
  arity?: number;
  /** It may read a language model's tokens (input −1). */
  readsTokens?: boolean;
  /** A residual join: a dense layer feeding it gets nanoGPT's scaled init (std 0.02/√(number of joins)). */
  residual?: boolean;
  /** It writes a key/value cache when decoding: it runs in every prefill and gets caches. */
  kvCache?: boolean;
  /** Checks the spec against its input and fills the node's shapes and parameters. */
  resolve(l: Extract<LayerSpec, { kind: K }>, c: ResolveContext): void;
  /** After every node is resolved: fuses this node into the one it reads (sets that node's flags). */
  fuse?(l: LayerOf<K>, out: ResolvedLayer[], fail: (msg: string) => never): void;
  /** Skipped by the graph: its work is done by `src`, the node it reads (fused). */
  fused?(l: LayerOf<K>, src: ResolvedLayer | undefined): boolean;
  /** A parameter the node uses without owning it (a tied head's embedding table). */
  shared?(l: LayerOf<K>, layers: ResolvedLayer[]): string;
  /** Initial values of its parameters (default: model.ts's by fan-in/out, biases 0). */
  init?(l: LayerOf<K>, c: InitContext): void;
  forward?(c: ForwardContext<K>): Promise<Dispatch[]>;
  backward?(c: BackwardContext<K>): Promise<Dispatch[]>;
  decode?(c: DecodeContext<K>): Promise<Tensor>;
  torch?: TorchNames;
}
