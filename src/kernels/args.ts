// Argument checks of the kernel wrappers and ops (the kernels layer's one error helper, `fail`, and
// its one error class, ArgumentError): every error names the op, the argument and what was expected.
// checkArgs states a wrapper's tensor operands declaratively: names, ranks or shapes, dtypes, the
// same device, and written operands in buffers that no read operand uses.
import { GpuError, type Gpu } from '../gpu/device.js';
import type { DType, Tensor } from '../gpu/tensor.js';

export class ArgumentError extends GpuError {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

export function fail(op: string, msg: string): never {
  throw new ArgumentError(`slimgpu.${op}: ${msg}`);
}

export function rank(op: string, name: string, t: Tensor, r: number, what?: string): void {
  if (!t || !Array.isArray(t.shape)) fail(op, `${name} must be a Tensor`);
  if (t.shape.length !== r) fail(op, `${name} must be ${r}-D${what ? ` ${what}` : ''}, got shape [${t.shape}]`);
  if (t.isDisposed) fail(op, `${name} was disposed`);
}

export function dtype(op: string, name: string, t: Tensor, d: DType): void {
  if (t.dtype !== d) fail(op, `${name} must have dtype ${d}, got ${t.dtype}`);
}

export function finite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${v}`);
}

export function inRange(op: string, name: string, v: number, lo: number, hi: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) fail(op, `${name} must be in [${lo}, ${hi}], got ${v}`);
}

export function positiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) fail(op, `${name} must be a positive integer, got ${v}`);
}

export function sameDevice(op: string, ...ts: [string, Tensor | undefined][]): void {
  const g = ts.find(([, t]) => t)?.[1]?.gpu;
  for (const [n, t] of ts) if (t && t.gpu !== g) fail(op, `${n} lives on another GPU device`);
}

export function shapeIs(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    fail(op, `${name} must have shape [${shape}], got [${t.shape}]`);
  }
}

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
  for (let i = 0; i < ts.length; i++)
    for (let j = i + 1; j < ts.length; j++) {
      const [na, a] = ts[i]!,
        [nb, b] = ts[j]!;
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
  if (t.offset % a !== 0)
    fail(op, `${name} must start at a byte offset that is a multiple of ${a} (minStorageBufferOffsetAlignment), got ${t.offset}`);
}

/**
 * Throws unless every read-only operand is in a different GPU buffer from every written one
 * (WebGPU cannot bind one buffer read-only and writable in one dispatch); written operands may
 * share a buffer with each other.
 */
export function readWriteDistinct(op: string, reads: [string, Tensor | undefined][], writes: [string, Tensor | undefined][]): void {
  for (const [nr, r] of reads)
    for (const [nw, w] of writes) {
      if (r && w && r.buffer === w.buffer) fail(op, `${nr} and ${nw} must be in different GPU buffers (${nw} is written)`);
    }
}

/** One tensor operand of a kernel, as checkArgs checks it. */
export interface TensorArg {
  /** The tensor; undefined is an error unless the operand is `optional` (then it is skipped). */
  t: Tensor | undefined;
  /** An operand that may be absent (undefined). */
  optional?: boolean;
  /** Its rank (checked first), spelled out by `what` in the message, e.g. '(N, C)'. */
  rank?: number;
  dtype?: DType;
  /** Its exact shape (checked after rank and dtype). */
  shape?: readonly number[];
  /** Its number of elements, any shape (checked after the shape); `what` says why, e.g. 'like w'. */
  size?: number;
  /** Spells out `rank`/`shape`/`size` in the messages, e.g. '(N, C)' or '(the logits)'. */
  what?: string;
  /** Its byte offset must be a multiple of minStorageBufferOffsetAlignment (bound in element ranges). */
  aligned?: boolean;
  /** Written by the kernel: it must not share a GPU buffer with any operand that is only read. */
  out?: boolean;
  /** What else this operand must satisfy (e.g. at most K values), checked after the rest and before the device and buffers. */
  check?: (t: Tensor) => void;
}

export interface CheckArgsOptions {
  /**
   * 'written' (default): no written operand shares a buffer with a read one; 'all': no two operands
   * share a buffer (updates whose operands are views of one arena but must never alias).
   */
  distinct?: 'written' | 'all';
}

/**
 * Checks a kernel's tensor operands in order (each: a live Tensor, rank, dtype, shape, size,
 * alignment), then that they all live on one device and that no written operand shares a buffer
 * with a read one (or, with distinct 'all', that no two share one).
 */
export function checkArgs(op: string, args: Record<string, TensorArg>, opts: CheckArgsOptions = {}): void {
  const given = Object.entries(args).filter(([, a]) => a.t !== undefined || !a.optional);
  for (const [name, a] of given) {
    const t = a.t!;
    if (a.rank !== undefined) rank(op, name, t, a.rank, a.what);
    else tensorArg(op, name, t);
    if (a.dtype) dtype(op, name, t, a.dtype);
    if (a.shape && (t.shape.length !== a.shape.length || t.shape.some((d, i) => d !== a.shape![i]))) {
      fail(op, `${name} must have shape [${a.shape}]${a.what && a.rank === undefined ? ` ${a.what}` : ''}, got [${t.shape}]`);
    }
    if (a.size !== undefined && t.size !== a.size) {
      fail(op, `${name} must have ${a.size} elements${a.what ? ` ${a.what}` : ''}, got shape [${t.shape}] (${t.size})`);
    }
    if (a.aligned) alignedOffset(op, name, t);
    a.check?.(t);
  }
  const pairs = given.map(([name, a]): [string, Tensor] => [name, a.t!]);
  sameDevice(op, ...pairs);
  if (opts.distinct === 'all') distinctBuffers(op, ...pairs);
  else
    readWriteDistinct(
      op,
      pairs.filter(([n]) => !args[n]!.out),
      pairs.filter(([n]) => args[n]!.out),
    );
}
