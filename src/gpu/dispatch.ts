// Dispatch records: what a kernel wrapper returns and what the scheduler records. A record holds a
// built pipeline, a bound bind group and workgroup counts; encoding one is allocation-free.
import { GpuError, type Gpu } from './device.js';
import type { Tensor } from './tensor.js';

export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: readonly [number, number, number];
  /** Uniform buffers owned by this record (destroyed with it). */
  owned?: GPUBuffer[];
}

export type Binding = Tensor | GPUBuffer | GPUBufferBinding;

function toResource(b: Binding): GPUBufferBinding {
  if ('binding' in b && typeof (b as Tensor).binding === 'function') return (b as Tensor).binding();
  if ('buffer' in b) return b as GPUBufferBinding;
  return { buffer: b as GPUBuffer };
}

/**
 * Builds a bind group for group 0 of `pipeline` with `bindings[i]` at binding i; an undefined
 * entry is skipped (an entry point that does not use that binding).
 */
export function bindGroup(gpu: Gpu, pipeline: GPUComputePipeline, label: string, bindings: (Binding | undefined)[]): GPUBindGroup {
  const entries: GPUBindGroupEntry[] = [];
  bindings.forEach((b, i) => {
    if (b !== undefined) entries.push({ binding: i, resource: toResource(b) });
  });
  return gpu.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
}

export type ParamField = ['u32' | 'i32' | 'f32', number];

/** A small uniform buffer holding `fields` in order (each 4 bytes), padded to 16 bytes. */
export function uniformParams(gpu: Gpu, label: string, fields: ParamField[]): GPUBuffer {
  const size = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const buf = gpu.device.createBuffer({ label, size, usage: 0x40 | 0x8, mappedAtCreation: true }); // UNIFORM | COPY_DST
  const dv = new DataView(buf.getMappedRange());
  fields.forEach(([t, v], i) => {
    if (t === 'f32') dv.setFloat32(i * 4, v, true);
    else if (t === 'i32') dv.setInt32(i * 4, v, true);
    else dv.setUint32(i * 4, v, true);
  });
  buf.unmap();
  return buf;
}

/** Splits `groups` workgroups over x and y so that neither exceeds the device limit. */
export function grid(gpu: Gpu, groups: number): [number, number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(1, groups), 1, 1];
  const y = Math.ceil(groups / max);
  if (y > max) throw new GpuError(`slimgpu: ${groups} workgroups exceed this device's grid (${max}²)`);
  return [Math.ceil(groups / y), y, 1];
}

export function checkWorkgroups(gpu: Gpu, label: string, wg: readonly number[]): void {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  for (const w of wg) {
    if (w > max) throw new GpuError(`slimgpu: kernel '${label}' needs ${w} workgroups in one dimension, beyond this device's ${max}`);
  }
}

/** Records `dispatches` into an open compute pass. */
export function recordDispatches(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    const [x, y, z] = d.workgroups;
    if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
  }
}

/** Records `dispatches` into one compute pass of `encoder` (with `timestampWrites` when given). */
export function encodeDispatches(
  encoder: GPUCommandEncoder,
  dispatches: readonly Dispatch[],
  label = 'slimgpu',
  timestampWrites?: GPUComputePassTimestampWrites,
): void {
  const pass = encoder.beginComputePass(timestampWrites ? { label, timestampWrites } : { label });
  recordDispatches(pass, dispatches);
  pass.end();
}

/** Encodes, submits and (optionally) waits for `dispatches`; frees their owned uniforms after. */
export async function run(gpu: Gpu, dispatches: readonly Dispatch[], opts: { wait?: boolean } = {}): Promise<void> {
  gpu.assertAlive();
  const enc = gpu.device.createCommandEncoder({
    label: dispatches
      .map((d) => d.label)
      .join('+')
      .slice(0, 200),
  });
  encodeDispatches(enc, dispatches);
  gpu.device.queue.submit([enc.finish()]);
  if (opts.wait ?? true) await gpu.device.queue.onSubmittedWorkDone();
  for (const d of dispatches) for (const b of d.owned ?? []) b.destroy();
  gpu.check();
}

export function destroyDispatches(dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) for (const b of d.owned ?? []) b.destroy();
}
