// Argument checks shared by the kernel wrappers (not part of the public API).
import type { Gpu } from '../gpu/device.js';
import type { Tensor } from '../gpu/tensor.js';
import { dtype, fail } from './validate.js';

/** Throws unless `t` is a live Tensor (any rank). */
export function tensorArg(op: string, name: string, t: Tensor): void {
  if (!t || !Array.isArray(t.shape)) fail(op, `${name} must be a Tensor`);
  if (t.isDisposed) fail(op, `${name} was disposed`);
}

/** Throws unless `t` is a live f32 Tensor of exactly `shape` (`what` spells it out for the message). */
export function f32Shape(op: string, name: string, t: Tensor, shape: readonly number[], what: string): void {
  tensorArg(op, name, t);
  dtype(op, name, t, 'f32');
  if (t.shape.length !== shape.length || t.shape.some((x, i) => x !== shape[i])) {
    fail(op, `${name} must have shape [${shape}] ${what}, got [${t.shape}]`);
  }
}

/** Throws unless the named tensors use different GPU buffers (WebGPU forbids binding one buffer writable and read-only at once). */
export function distinctBuffers(op: string, ...ts: [string, Tensor | undefined][]): void {
  for (let i = 0; i < ts.length; i++) for (let j = i + 1; j < ts.length; j++) {
    const [na, a] = ts[i]!, [nb, b] = ts[j]!;
    if (a && b && a.buffer === b.buffer) fail(op, `${na} and ${nb} must be in different GPU buffers`);
  }
}

/** Whether two tensors are the same elements of the same buffer (an in-place operation). */
export function sameRange(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.offset === b.offset && a.byteLength === b.byteLength;
}

/**
 * Splits n elements into a vec4 body and a scalar tail: the body is a multiple of 4 elements whose
 * byte length is a multiple of the device's storage offset alignment, so the tail range can be
 * bound at its own offset. The tail has fewer than max(4, alignment/4) elements.
 */
export function vec4Split(gpu: Gpu, n: number): { body: number; tail: number } {
  const q = Math.max(16, gpu.limits.minStorageBufferOffsetAlignment) / 4;
  const body = Math.floor(n / q) * q;
  return { body, tail: n - body };
}

/** Binding of elements [start, start + count) of a tensor. */
export function elementRange(t: Tensor, start: number, count: number): GPUBufferBinding {
  return { buffer: t.buffer, offset: t.offset + start * 4, size: count * 4 };
}

/** Throws unless the tensor's byte offset is a multiple of the device's minStorageBufferOffsetAlignment. */
export function alignedOffset(op: string, name: string, t: Tensor): void {
  const a = t.gpu.limits.minStorageBufferOffsetAlignment;
  if (t.offset % a !== 0) fail(op, `${name} must start at a byte offset that is a multiple of ${a} (minStorageBufferOffsetAlignment), got ${t.offset}`);
}

/**
 * Throws unless every read-only operand is in a different GPU buffer from every written one
 * (WebGPU cannot bind one buffer read-only and writable in one dispatch); written operands may
 * share a buffer with each other.
 */
export function readWriteDistinct(op: string, reads: [string, Tensor | undefined][], writes: [string, Tensor | undefined][]): void {
  for (const [nr, r] of reads) for (const [nw, w] of writes) {
    if (r && w && r.buffer === w.buffer) fail(op, `${nr} and ${nw} must be in different GPU buffers (${nw} is written)`);
  }
}
