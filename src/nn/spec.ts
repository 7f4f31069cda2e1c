// The model description's types: layer specs, the model spec, a resolved node, and ModelError
// (model.ts infers shapes and initial values; presets.ts builds specs by name).
export type LayerSpec = (
  | { kind: 'dense'; units: number }
  | { kind: 'conv2d'; filters: number; kernel: number; stride?: number; padding?: number }
  | { kind: 'maxPool2d'; size?: number; stride?: number }
  | { kind: 'relu' }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'flatten' }
  /** tokens (T) u32 → (T, dim) rows of the table (vocab, dim). */
  | { kind: 'embedding'; vocab: number; dim: number }
  /** (T, C) → (T, C) + a learned position table (T, C). */
  | { kind: 'positions' }
  /** Per-row normalisation over the last dimension, then ·γ + β. */
  | { kind: 'layerNorm' }
  /** Causal multi-head self-attention: fused qkv (T, 3C) → (T, C) (q = cols [0, C), k, v after). */
  | { kind: 'attention'; heads: number }
  | { kind: 'gelu' }
  /** Residual connection: the sum of its two inputs (same shape). */
  | { kind: 'add' }
  /** Logits (T, V) = x · Eᵀ with E the table of the embedding node `tie` (weight tying: no own parameter). */
  | { kind: 'tiedHead'; tie: number }
) & {
  /** Node name (default: kind + count, e.g. 'dense1'); parameters are '<name>.weight', '<name>.bias'. */
  name?: string;
  /** Indices of the nodes this one reads (−1 = the model input); default [index − 1]. */
  inputs?: number[];
};

export type LayerKind = LayerSpec['kind'];
export type LossKind = 'softmax-ce' | 'mse';
export type ModelTask = 'classification' | 'autoencoder' | 'regression' | 'language';

export interface ModelSpec {
  name: string;
  /** Per-sample input shape, e.g. [784], [1, 28, 28], or [T] tokens for a language model. */
  input: number[];
  layers: LayerSpec[];
  loss: LossKind;
  /** 'classification' (labels), 'autoencoder' (target = input), 'regression' (targets) or 'language' (next token). */
  task: ModelTask;
}

export interface ParamSpecOf {
  /** '<layer>.weight' or '<layer>.bias'. */
  name: string;
  shape: number[];
  /** Pruned and shared (matrices), or kept dense (biases, norms). */
  prunable: boolean;
}

export interface ResolvedLayer {
  index: number;
  spec: LayerSpec;
  name: string;
  /** Indices of the input nodes (−1 = model input). */
  inputs: number[];
  inShape: number[];
  outShape: number[];
  /** Per-token rows: [T, C] activations of a language model. */
  seq: boolean;
  /** Every own parameter, weight first. */
  params: ParamSpecOf[];
  /** Shape of the prunable '<name>.weight' (dense, conv2d, embedding, positions). */
  weightShape?: number[];
  /** Shape of '<name>.bias' (dense, conv2d). */
  biasShape?: number[];
  /** The activation fused into this layer's forward kernel (the next layer is then skipped). */
  fusedActivation?: 'relu';
  /** An embedding whose positions node is fused into its lookup (one kernel adds both tables). */
  fusedPositions?: boolean;
  fanIn?: number;
  fanOut?: number;
  /** Nodes that read this node's output. */
  consumers: number[];
}

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}
