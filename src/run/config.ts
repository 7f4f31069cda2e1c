// A run's configuration: RunConfig (every option of a run), RunError, and the one table of
// defaults that the CLI, the demo and the run itself read.
import type { TrainOptions } from '../nn/trainer.js';
import type { NameScheme } from '../io/torch.js';
import { SHARING_DEFAULTS, type InitMethod } from '../nn/codebook.js';

export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

export interface RunConfig extends TrainOptions {
  model: string;
  data: string;
  /** Folder of IDX files for --data fashion-mnist / idx. */
  dataDir?: string;
  trainSize?: number;
  testSize?: number;
  evalBatch?: number;
  /** Output folder: checkpoint.safetensors, model.slim.safetensors and report.json. */
  out?: string;
  /** Weight sharing after training: bits per dense layer (K = 2^bits centroids); undefined = none. */
  bits?: number;
  /** Bits per conv layer when sharing (default 8). */
  convBits?: number;
  /**
   * Per-layer codebook bits, by layer name ('dense1'), alias ('conv1') or kind ('conv', 'dense');
   * they win over bits/convBits. Sharing runs when bits or layerBits is given.
   */
  layerBits?: Record<string, number>;
  /** Centroid fine-tuning learning rate (default lr·0.1). */
  fineTuneLr?: number;
  /** Learning rate of the fp32 parameters (biases, norms, unshared layers) during centroid fine-tuning, with cfg.optimizer (default 0: frozen). */
  fineTuneDenseLr?: number;
  /** Centroid initialisation (default linear). */
  shareInit?: InitMethod;
  /** Centroid fine-tuning steps after sharing (default 100). */
  fineTuneSteps?: number;
  /** Start from these weights: a safetensors state_dict (`train --init`), names per initNames. */
  init?: string;
  /** Names and layouts in the init file: 'torch' (default) or 'slimgpu' (src/io/torch.ts). */
  initNames?: NameScheme;
  /**
   * Quantisation-aware training during `train` (nn/qat.ts): codebook bits of the dense layers (conv
   * layers: convBits) or per layer (qatLayerBits, as layerBits); the run ends on the snapped weights
   * and the export writes their codebooks (then no k-means sharing; fineTuneSteps default 0).
   */
  qatBits?: number;
  qatLayerBits?: Record<string, number>;
  /** First QAT step (default: the end of pruning, or 0). */
  qatBegin?: number;
  /** Steps between k-means re-fits of the codebooks during QAT (default 0: never). */
  qatRefitEvery?: number;
  /** During QAT, also train the centroids by their members' summed gradient at this SGD rate (default 0: off). */
  qatCentroidLr?: number;
  /** During QAT, pull latent weights towards their codebook values: gradient += qatDampen·(latent − snapped) (default 0: off). */
  qatDampen?: number;
  /** Lloyd iterations when the QAT codebooks start from linear centroids (default 30; 0: a uniform grid over each layer's range). */
  qatIterations?: number;
  /** Export from a checkpoint: instead of k-means sharing + centroid fine-tuning, this many QAT steps (AdamW/SGD as trained, cosine from qatLr) at `bits`. */
  qatSteps?: number;
  /** Learning rate of those QAT steps (default lr / 10). */
  qatLr?: number;
  /** Export: staged QAT, 'G1;G2;…' (groups of layer-name prefixes, cumulative; qatSteps per stage; see qatStagesOf). */
  qatStages?: string;
}

/**
 * The one table of a run's defaults: the CLI's option defaults, the demo's and the run's fall-backs
 * read it (the codebook bits come from nn/codebook.ts: 5-bit dense / 8-bit conv layers).
 */
export const RUN_DEFAULTS = {
  model: 'lenet-300-100',
  data: 'mnist',
  epochs: 5,
  batch: 128,
  momentum: 0.9,
  l2: 1e-4,
  beta1: 0.9,
  beta2: 0.95,
  weightDecay: 0.1,
  clip: 0,
  warmup: 0,
  schedule: 'polynomial',
  pruning: 'layer',
  lrSchedule: 'constant',
  seed: 0,
  bits: SHARING_DEFAULTS.bits,
  convBits: SHARING_DEFAULTS.convBits,
  shareInit: 'linear',
} as const;
