// The kernel benchmark registry. A bench entry describes one kernel at one size (and variant):
// how much work it does (flops for compute-bound kernels, bytes moved for memory-bound ones) and
// how to prepare it on a GPU: the Dispatch records to time, a check against the CPU reference
// (run once, before any timing; it throws on a mismatch) and cleanup.
//
// Adding a kernel: write bench/kernels/<name>.ts exporting a function that returns BenchCase[]
// (see matmul.ts or sgd-l2.ts), and add it to KERNEL_SUITES below.
import type { Gpu } from '../src/gpu/device.js';
import { adamwCases } from './kernels/adamw.js';
import { attentionCases } from './kernels/attention.js';
import { conv2dCases } from './kernels/conv2d.js';
import { convTranspose2dCases } from './kernels/conv-transpose2d.js';
import { embeddingCases } from './kernels/embedding.js';
import { factorizedPriorCases } from './kernels/factorized-prior.js';
import { byteMlpCases } from './kernels/bytemlp.js';
import { geluCases } from './kernels/gelu.js';
import { layerNormCases } from './kernels/layernorm.js';
import { lossCases } from './kernels/loss.js';
import { matmulCases } from './kernels/matmul.js';
import { poolCases } from './kernels/pool.js';
import { sgdL2Cases } from './kernels/sgd-l2.js';
import { topkMaskCases } from './kernels/topk-mask.js';
import { qatCases } from './kernels/qat.js';
import { rankTopkCases } from './kernels/rank-topk.js';
import { recSoftmaxCases } from './kernels/rec-softmax.js';
import { recPairsCases } from './kernels/rec-pairs.js';

export type { BenchCase, Prepared } from './kernels/case.js';
import type { BenchCase } from './kernels/case.js';

export interface Suite {
  name: string;
  cases(gpu: Gpu): BenchCase[];
}

export const KERNEL_SUITES: Suite[] = [
  { name: 'matmul', cases: matmulCases },
  { name: 'conv2d', cases: conv2dCases },
  { name: 'conv-transpose2d', cases: convTranspose2dCases },
  { name: 'factorized-prior', cases: factorizedPriorCases },
  { name: 'pool', cases: poolCases },
  { name: 'loss', cases: lossCases },
  { name: 'sgd-l2', cases: sgdL2Cases },
  { name: 'topk-mask', cases: topkMaskCases },
  { name: 'embedding', cases: embeddingCases },
  { name: 'bytemlp', cases: byteMlpCases },
  { name: 'layernorm', cases: layerNormCases },
  { name: 'gelu', cases: geluCases },
  { name: 'attention', cases: attentionCases },
  { name: 'adamw', cases: adamwCases },
  { name: 'qat', cases: qatCases },
  { name: 'rank-topk', cases: rankTopkCases },
  { name: 'rec-softmax', cases: recSoftmaxCases },
  { name: 'rec-pairs', cases: recPairsCases },
];
