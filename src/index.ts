// slimgpu public API (browser and Node).
export { createGpu, adapterSummary, restoreNodePolling, GpuError, NO_ADAPTER_HELP } from './gpu/device.js';
export type { Gpu, GpuOptions, AdapterSummary } from './gpu/device.js';
export { Tensor, createTensor, numel } from './gpu/tensor.js';
export type { DType } from './gpu/tensor.js';
export { PipelineCache, pipelines, specialize, compileModule } from './gpu/pipeline.js';
export { encodeDispatches, run, bindGroup, uniformParams } from './gpu/dispatch.js';
export type { Dispatch } from './gpu/dispatch.js';
export { ArgumentError } from './kernels/validate.js';
export * as kernels from './kernels/index.js';
export * as reference from './reference/index.js';
export { ops, tensor, zeros } from './ops.js';
