// The codebook types that training and export share: how centroids start, the default bits per
// layer kind, and one layer's (or a whole model's) weight sharing. compress/sharing.ts computes them.
import type { ResolvedLayer } from './spec.js';

export type InitMethod = 'linear' | 'density' | 'kmeans++';
export const INIT_METHODS: readonly InitMethod[] = ['linear', 'density', 'kmeans++'];

/** The default codebook bits of a dense layer and of a convolution (run/config.ts's RUN_DEFAULTS uses these). */
export const SHARING_DEFAULTS = { bits: 5, convBits: 8 } as const;

/** Default codebook bits: 5 for dense layers, 8 for convolutions (Deep Compression's choice was 5 and 8). */
export function defaultBits(layer: Pick<ResolvedLayer, 'spec'>): number {
  return layer.spec.kind === 'conv2d' ? SHARING_DEFAULTS.convBits : SHARING_DEFAULTS.bits;
}

export interface SharedLayer {
  /** Layer name, e.g. 'dense1'. */
  layer: string;
  /** Parameter name in the arena, e.g. 'dense1.weight'. */
  param: string;
  shape: number[];
  bits: number;
  /** K = 2^bits centroids; the layer's kept weights are exactly these values. */
  codebook: Float32Array;
  /** Codebook index of every kept weight, in position order (kept = mask ≠ 0). */
  assignments: Uint8Array;
  /** Kept weights (= assignments.length) and all weights of the layer. */
  kept: number;
  params: number;
  /** Members per centroid. */
  counts: Uint32Array;
}

export interface WeightSharing {
  layers: Record<string, SharedLayer>;
  init: InitMethod;
  iterations: number;
}
