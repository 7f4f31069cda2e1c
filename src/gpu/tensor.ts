// GPU tensors: a typed view (shape, dtype) of a storage buffer at a byte offset. A tensor either
// owns its buffer or is a view into one (the parameter arena), bound with (offset, size).
import { GpuError, type Gpu } from './device.js';

export type DType = 'f32' | 'u32' | 'i32';
export type TypedArrayOf<D extends DType> = D extends 'f32' ? Float32Array : D extends 'u32' ? Uint32Array : Int32Array;

export const STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], what = 'shape'): void {
  if (!Array.isArray(shape) || shape.length === 0)
    throw new GpuError(`slimgpu: ${what} must be a non-empty array of positive integers, got ${JSON.stringify(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) throw new GpuError(`slimgpu: ${what} must hold positive integers, got ${JSON.stringify(shape)}`);
  }
}

export class Tensor<D extends DType = DType> {
  private disposed = false;

  constructor(
    readonly gpu: Gpu,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: D,
    /** Byte offset inside `buffer`. */
    readonly offset = 0,
    /** Whether dispose() destroys the buffer. */
    readonly owned = true,
  ) {}

  get size(): number {
    return numel(this.shape);
  }
  get byteLength(): number {
    return this.size * 4;
  }
  get label(): string {
    return this.buffer.label;
  }
  get isDisposed(): boolean {
    return this.disposed;
  }

  binding(): GPUBufferBinding {
    if (this.disposed) throw new GpuError(`slimgpu: tensor '${this.label}' was disposed`);
    return { buffer: this.buffer, offset: this.offset, size: this.byteLength };
  }

  /** A tensor with the same data and another shape of the same element count. */
  reshape(shape: readonly number[]): Tensor<D> {
    checkShape(shape);
    if (numel(shape) !== this.size) throw new GpuError(`slimgpu: cannot reshape [${this.shape}] (${this.size} elements) to [${shape}]`);
    return new Tensor(this.gpu, this.buffer, [...shape], this.dtype, this.offset, false);
  }

  /** Copies the tensor to the CPU. */
  async read(): Promise<TypedArrayOf<D>> {
    const bytes = await readBuffer(this.gpu, this.buffer, this.offset, this.byteLength);
    return typedFrom(this.dtype, bytes) as TypedArrayOf<D>;
  }

  write(data: ArrayLike<number>): void {
    if (data.length !== this.size) throw new GpuError(`slimgpu: write to '${this.label}' needs ${this.size} values, got ${data.length}`);
    const arr = data instanceof typedCtor(this.dtype) ? (data as TypedArrayOf<D>) : typedCtor(this.dtype).from(data);
    this.gpu.device.queue.writeBuffer(this.buffer, this.offset, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.owned) this.buffer.destroy();
  }
}

export function typedCtor(dtype: DType): Float32ArrayConstructor | Uint32ArrayConstructor | Int32ArrayConstructor {
  return dtype === 'f32' ? Float32Array : dtype === 'u32' ? Uint32Array : Int32Array;
}

function typedFrom(dtype: DType, bytes: ArrayBuffer): Float32Array | Uint32Array | Int32Array {
  return new (typedCtor(dtype))(bytes);
}

export interface TensorOptions<D extends DType> {
  dtype?: D;
  label?: string;
  /** Extra buffer usage bits. */
  usage?: number;
}

/** A new zero-filled (or `data`-filled) tensor in its own storage buffer. */
export function createTensor<D extends DType = 'f32'>(
  gpu: Gpu,
  shape: readonly number[],
  data?: ArrayLike<number>,
  opts: TensorOptions<D> = {},
): Tensor<D> {
  gpu.assertAlive();
  checkShape(shape, opts.label ? `shape of '${opts.label}'` : 'shape');
  const dtype = (opts.dtype ?? 'f32') as D;
  const n = numel(shape);
  const bytes = n * 4;
  const lim = gpu.limits;
  if (bytes > lim.maxBufferSize || bytes > lim.maxStorageBufferBindingSize) {
    throw new GpuError(
      `slimgpu: tensor${opts.label ? ` '${opts.label}'` : ''} of shape [${shape}] needs ${bytes} bytes, beyond this device's limit ` +
        `(maxStorageBufferBindingSize ${lim.maxStorageBufferBindingSize}, maxBufferSize ${lim.maxBufferSize})`,
    );
  }
  if (data !== undefined && data.length !== n) {
    throw new GpuError(`slimgpu: data for${opts.label ? ` '${opts.label}'` : ''} shape [${shape}] needs ${n} values, got ${data.length}`);
  }
  const buffer = gpu.device.createBuffer({
    label: opts.label ?? `tensor[${shape}]`,
    size: bytes,
    usage: STORAGE | (opts.usage ?? 0),
    mappedAtCreation: data !== undefined,
  });
  if (data !== undefined) {
    const Ctor = typedCtor(dtype);
    new Ctor(buffer.getMappedRange()).set(data as ArrayLike<number>);
    buffer.unmap();
  }
  return new Tensor(gpu, buffer, [...shape], dtype);
}

/** Reads `size` bytes of `buffer` from `offset` through a staging buffer. */
export async function readBuffer(gpu: Gpu, buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
  gpu.assertAlive();
  const staging = gpu.device.createBuffer({ label: `read:${buffer.label}`, size, usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
  const enc = gpu.device.createCommandEncoder({ label: `read:${buffer.label}` });
  enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
  gpu.device.queue.submit([enc.finish()]);
  try {
    await staging.mapAsync(0x1);
  } catch (e) {
    gpu.check();
    throw new GpuError(`slimgpu: reading '${buffer.label}' failed: ${(e as Error).message}`);
  }
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  gpu.check();
  return out;
}
