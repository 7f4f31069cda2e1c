// The side-by-side harness's options (index.ts runs them, cases.ts reads them).
import type { GptVsCase } from './gpt.js';

export type TrainModel = 'lenet-300-100' | 'lenet-5';

export interface VsOptions {
  /** Square matmul sizes n (n×n·n×n). */
  matmul: number[];
  /** Batch of the LeNet-5 convolution cases; 0 = no conv cases. */
  convBatch: number;
  /** Training-step cases and their batch sizes. */
  train: { model: TrainModel; batch: number }[];
  /** Whole GPT training-step cases (gpt.ts). */
  gpt: GptVsCase[];
  /** Timed samples per side per case. */
  reps: number;
  /** Wall milliseconds one sample aims for (k repetitions per sample). */
  targetMs: number;
  /** Largest k. */
  maxK: number;
  /** Validate only (no timing): for tests. */
  validateOnly?: boolean;
  /** SGD hyper-parameters of the training step. */
  lr: number;
  momentum: number;
  log?: (line: string) => void;
}
