// Argument checks shared by the kernel wrappers: every error names the argument and what was expected.
import { GpuError } from '../gpu/device.js';
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
