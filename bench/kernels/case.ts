// What one kernel benchmark case is (bench/registry.ts lists the suites; each bench/kernels/<name>.ts
// returns its cases): the work it does and how to prepare, validate and dispose it on a GPU.
import type { Gpu } from '../../src/gpu/device.js';
import type { Dispatch } from '../../src/gpu/dispatch.js';

export interface Prepared {
  /** What one timed repetition runs, in one compute pass. */
  dispatches: Dispatch[];
  /** Reads the outputs of one run and throws (naming the worst element) if they differ from the CPU reference. */
  validate(): Promise<void>;
  /** Frees tensors and the dispatches' owned buffers. */
  dispose(): void;
}

export interface BenchCase {
  kernel: string;
  /** Kernel variant ('cpu'/'gpu' for matmul), or '-' when the kernel has one. */
  variant: string;
  /** Human-readable size, e.g. '1024x1024x1024' or 'n=10M'. */
  size: string;
  /** Floating-point operations of one run (compute-bound kernels: reported as GFLOPS). */
  flops?: number;
  /** Bytes read + written by one run (memory-bound kernels: reported as GB/s). */
  bytes?: number;
  /** Part of the short default run (others need --all). */
  quick?: boolean;
  prepare(gpu: Gpu): Promise<Prepared>;
}
