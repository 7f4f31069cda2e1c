// Shared pieces of the TF.js comparisons (bench/vs-tfjs/index.ts, cases.ts, gpt.ts):
// TF.js's WebGPU backend on slimgpu's own GPUDevice, the Case/Side shapes every comparison case
// has, running Dispatch lists and syncing TF.js on the same queue, layout converters. Browser-safe.
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Gpu } from '../../src/gpu/device.js';
import { encodeDispatches, type Dispatch } from '../../src/gpu/dispatch.js';

export const TF_BACKEND = 'webgpu-shared';

// ---------------------------------------------------------------------------------------------
// TF.js on slimgpu's device

/** The TF.js backend object (WebGPUBackend) running on `gpu.device`. */
export function tfBackend(): WebGPUBackend {
  return tf.engine().findBackend(TF_BACKEND) as WebGPUBackend;
}

/**
 * Registers TF.js's WebGPU backend on slimgpu's GPUDevice as 'webgpu-shared' and makes it the
 * current backend. Idempotent. In Node `navigator.gpu` must be truthy before this call (the backend
 * constructor checks it).
 */
export async function useSharedTfBackend(gpu: Gpu): Promise<typeof tf> {
  if (!tf.getGradient('RealDiv')) {
    throw new Error(
      "TF.js gradients are not registered: import '@tensorflow/tfjs-core/dist/register_all_gradients' " +
        '(browser, Vite) or call registerTfGradients() from bench/vs-tfjs/node.ts (Node)',
    );
  }
  if (!tf.findBackendFactory(TF_BACKEND)) {
    for (const k of tf.getKernelsForBackend('webgpu')) {
      if (!tf.getKernel(k.kernelName, TF_BACKEND)) tf.registerKernel({ ...k, backendName: TF_BACKEND });
    }
    tf.registerBackend(TF_BACKEND, () => new WebGPUBackend(gpu.device, gpu.adapter.info));
  }
  if (!(await tf.setBackend(TF_BACKEND))) throw new Error(`TF.js: backend '${TF_BACKEND}' failed to initialise`);
  if (tfBackend().device !== gpu.device) throw new Error('TF.js: the shared backend is on another GPUDevice');
  return tf;
}

/** Submits TF.js's pending commands and waits for the queue (the same wait slimgpu uses). */
export async function tfSync(gpu: Gpu): Promise<void> {
  const b = tfBackend();
  b.ensureCommandEncoderReady(); // submitQueue() needs an encoder (an empty one when nothing is pending)
  b.endComputePassEncoder();
  b.submitQueue();
  await gpu.device.queue.onSubmittedWorkDone();
}

// ---------------------------------------------------------------------------------------------
// cases

export interface Side {
  /** Runs k units and resolves when their results are ready. */
  run(k: number): Promise<void>;
}

export interface Case {
  group: 'matmul' | 'conv2d' | 'train' | 'gpt';
  name: string;
  size: string;
  flops?: number;
  /** Tokens per unit (a language-model step): the row reports tokens/s. */
  tokens?: number;
  slim: Side;
  tf: Side;
  /** Runs both once and compares; returns a description of the check. Throws MismatchError. */
  validate(): Promise<string>;
  dispose(): void;
}

export async function runSlim(gpu: Gpu, dispatches: readonly Dispatch[], k: number, label: string): Promise<void> {
  const enc = gpu.device.createCommandEncoder({ label });
  for (let i = 0; i < k; i++) encodeDispatches(enc, dispatches, label);
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
}

/** NCHW (N, C, H, W) → NHWC. */
export function nchwToNhwc(x: Float32Array, [N, C, H, W]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N!; n++)
    for (let c = 0; c < C!; c++)
      for (let h = 0; h < H!; h++)
        for (let w = 0; w < W!; w++) {
          out[((n * H! + h) * W! + w) * C! + c] = x[((n * C! + c) * H! + h) * W! + w]!;
        }
  return out;
}

/** Conv weight (OC, C, KH, KW) → TF.js filter (KH, KW, C, OC). */
export function oihwToHwio(w: Float32Array, [OC, C, KH, KW]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < OC!; o++)
    for (let c = 0; c < C!; c++)
      for (let i = 0; i < KH!; i++)
        for (let j = 0; j < KW!; j++) {
          out[((i * KW! + j) * C! + c) * OC! + o] = w[((o * C! + c) * KH! + i) * KW! + j]!;
        }
  return out;
}

export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/** Worst |a − b| relative to max |b|, for the check text. */
export function worstRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w / Math.max(maxAbs(b), 1e-30);
}

export function nhwcToNchw(x: Float32Array, [N, C, H, W]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N!; n++)
    for (let c = 0; c < C!; c++)
      for (let h = 0; h < H!; h++)
        for (let w = 0; w < W!; w++) {
          out[((n * C! + c) * H! + h) * W! + w] = x[((n * H! + h) * W! + w) * C! + c]!;
        }
  return out;
}

export function hwioToOihw(w: Float32Array, [OC, C, KH, KW]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < OC!; o++)
    for (let c = 0; c < C!; c++)
      for (let i = 0; i < KH!; i++)
        for (let j = 0; j < KW!; j++) {
          out[((o * C! + c) * KH! + i) * KW! + j] = w[((i * KW! + j) * C! + c) * OC! + o]!;
        }
  return out;
}
