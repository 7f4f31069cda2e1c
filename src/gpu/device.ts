// One call gives a ready GPU context in a browser page and in Node (Dawn, npm `webgpu`).
//
//   const gpu = await createGpu();          // adapter + device with the limits training needs
//   gpu.device, gpu.info, gpu.features, gpu.hasTimestamps
//
// Errors: WGSL compile errors and validation errors become thrown `GpuError`s naming the label
// and line (see pipeline.ts); uncaptured errors are kept and re-thrown by `gpu.check()`; a lost
// device is reported with its reason and every later call throws.

export interface GpuOptions {
  /** 'high-performance' (default) or 'low-power'. */
  powerPreference?: GPUPowerPreference;
  /** Browser only: 'compatibility' reaches lavapipe through ANGLE/GLES in Chromium. */
  featureLevel?: 'core' | 'compatibility';
  /** Ask for a fallback (software) adapter. */
  forceFallbackAdapter?: boolean;
  /**
   * Node only. dawn.node waits for GPU work by re-queuing `setImmediate` in a loop, which keeps a
   * CPU core busy; on a software driver (lavapipe) that core is taken from the shader threads.
   * With 'timeout' (default) slimgpu routes `globalThis.setImmediate` through `setTimeout(fn, 0)`
   * while Dawn is in use, which made GPU work 1.5-2x faster on 2 cores. 'immediate' leaves Node's
   * setImmediate untouched.
   */
  nodePolling?: 'timeout' | 'immediate';
  /** Extra Dawn toggles/flags for `create()` in Node, e.g. ['backend=vulkan']. */
  dawnFlags?: string[];
  /**
   * Node only. Show Dawn's start-up warnings (e.g. `maxDynamicUniformBuffersPerPipelineLayout
   * artificially reduced ...`) instead of holding them back (default: SLIMGPU_VERBOSE=1 in the
   * environment). Held-back lines are kept in `gpu.startupMessages`.
   */
  verbose?: boolean;
}

/** Live GPU memory as slimgpu sees it: every buffer created on the device and not yet destroyed. */
export interface GpuMemory {
  /** Buffers created and not destroyed. */
  liveBuffers: number;
  /** Bytes of those buffers. */
  liveBytes: number;
  /** Buffers created since the device was made. */
  createdBuffers: number;
  /** Buffers destroyed since the device was made. */
  destroyedBuffers: number;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  backend: 'node-dawn' | 'browser';
  features: string[];
  limits: Record<string, number>;
}

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}

/** The limits training asks for (the adapter's maximum, not the default). */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
] as const;

const WANTED_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16'] as GPUFeatureName[];

const REPORTED_LIMITS = [
  ...WANTED_LIMITS,
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
  'maxUniformBufferBindingSize',
] as const;

export const NO_ADAPTER_HELP =
  'slimgpu: no WebGPU adapter was found.\n' +
  '  Node: the `webgpu` package (Dawn) needs a Vulkan driver. On a Debian machine without a GPU run\n' +
  '        `sudo bash scripts/setup-software-gpu.sh` (installs Mesa lavapipe >= 24 from backports).\n' +
  '        Fallback: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader, slower).\n' +
  '  Browser: use Chrome/Chromium 113+ on a secure page (https:// or http://127.0.0.1); on Linux start it\n' +
  '        with --enable-unsafe-webgpu (and --use-angle=vulkan for a Vulkan software driver).';

const isNode =
  typeof process !== 'undefined' &&
  !!(process as { versions?: { node?: string } }).versions?.node &&
  typeof (globalThis as { window?: unknown }).window === 'undefined';

import { captureNativeStderr, verboseFromEnv } from './quiet.js';

// Strong references: if Dawn's GPU object is garbage collected the process aborts.
let dawnGpu: GPU | undefined;
let originalSetImmediate: typeof setImmediate | undefined;

function installTimeoutPolling(): void {
  if (originalSetImmediate) return;
  originalSetImmediate = globalThis.setImmediate;
  const viaTimeout = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => setTimeout(fn, 0, ...args)) as unknown as typeof setImmediate;
  globalThis.setImmediate = viaTimeout;
}

/** Restores Node's own setImmediate (after `nodePolling: 'timeout'` replaced it). */
export function restoreNodePolling(): void {
  if (originalSetImmediate) {
    globalThis.setImmediate = originalSetImmediate;
    originalSetImmediate = undefined;
  }
}

async function nodeGpu(opts: GpuOptions): Promise<GPU> {
  if ((opts.nodePolling ?? 'timeout') === 'timeout') installTimeoutPolling();
  if (dawnGpu) return dawnGpu;
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    const name = 'webgpu';
    mod = await import(/* @vite-ignore */ name);
  } catch (e) {
    throw new GpuError(`slimgpu: cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}`);
  }
  // GPUBufferUsage, GPUMapMode, ... as globals, as in a browser.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  dawnGpu = mod.create(opts.dawnFlags ?? []);
  return dawnGpu;
}

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly info: AdapterSummary;
  readonly features: ReadonlySet<string>;
  readonly hasTimestamps: boolean;
  readonly limits: GPUSupportedLimits;
  /** Set once the device is lost. */
  readonly lost: { reason: string; message: string } | undefined;
  /** Resolves once the device is lost (never for a device destroyed on purpose with destroy()). */
  readonly whenLost: Promise<{ reason: string; message: string }>;
  /** Buffer accounting (every createBuffer / destroy on this device). */
  readonly memory: GpuMemory;
  /** Dawn's start-up lines held back (see GpuOptions.verbose). */
  readonly startupMessages: readonly string[];
  /**
   * Fault injection (tests, the demo, SLIMGPU_FAULT): destroys the device as a driver reset would;
   * `lost` then reports reason 'destroyed' with `message`, and every later call throws.
   */
  simulateLoss(message: string): void;
  /** Throws the first uncaptured GPU error since the last check, or the loss of the device. */
  check(): void;
  /** Throws if the device is lost. */
  assertAlive(): void;
  destroy(): void;
}

class GpuContext implements Gpu {
  lost: { reason: string; message: string } | undefined;
  readonly whenLost: Promise<{ reason: string; message: string }>;
  readonly memory: GpuMemory = { liveBuffers: 0, liveBytes: 0, createdBuffers: 0, destroyedBuffers: 0 };
  startupMessages: string[] = [];
  private fault: string | undefined;
  private uncaptured: string[] = [];
  readonly features: ReadonlySet<string>;
  readonly hasTimestamps: boolean;
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: GPUAdapter,
    readonly info: AdapterSummary,
  ) {
    this.features = new Set([...device.features].map(String));
    this.hasTimestamps = this.features.has('timestamp-query');
    this.whenLost = new Promise((resolve) => {
      device.lost.then((l) => {
        if (this.destroyed && l.reason === 'destroyed') return;
        this.lost = { reason: String(l.reason), message: this.fault ?? l.message };
        resolve(this.lost);
      });
    });
    this.countBuffers(device);
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.uncaptured.push(err.message);
    });
  }

  /** Wraps device.createBuffer so that every buffer and its destroy() are counted. */
  private countBuffers(device: GPUDevice): void {
    const create = device.createBuffer.bind(device);
    const mem = this.memory;
    device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
      const buf = create(desc);
      const size = desc.size;
      mem.createdBuffers++;
      mem.liveBuffers++;
      mem.liveBytes += size;
      const destroy = buf.destroy.bind(buf);
      let gone = false;
      buf.destroy = () => {
        if (!gone) {
          gone = true;
          mem.destroyedBuffers++;
          mem.liveBuffers--;
          mem.liveBytes -= size;
        }
        destroy();
      };
      return buf;
    };
  }

  simulateLoss(message: string): void {
    if (this.destroyed || this.lost) return;
    this.fault = message;
    this.device.destroy();
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  assertAlive(): void {
    if (this.destroyed) throw new GpuError('slimgpu: this GPU context was destroyed');
    if (this.lost) throw new GpuError(`slimgpu: GPU device lost (${this.lost.reason}): ${this.lost.message}`);
  }

  check(): void {
    this.assertAlive();
    if (this.uncaptured.length) {
      const msgs = this.uncaptured.splice(0);
      throw new GpuError(`slimgpu: GPU error: ${msgs[0]}${msgs.length > 1 ? ` (+${msgs.length - 1} more)` : ''}`);
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
  }
}

function summarise(adapter: GPUAdapter, backend: AdapterSummary['backend']): AdapterSummary {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const limits: Record<string, number> = {};
  for (const k of REPORTED_LIMITS) limits[k] = Number((adapter.limits as unknown as Record<string, number>)[k]);
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    backend,
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

/** Acquires an adapter and a device with the limits and optional features training needs. */
export async function createGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const gpuApi: GPU | undefined = isNode ? await nodeGpu(opts) : (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpuApi) throw new GpuError(NO_ADAPTER_HELP + '\n  (navigator.gpu is undefined in this page)');
  const req: GPURequestAdapterOptions & { featureLevel?: string } = {
    powerPreference: opts.powerPreference ?? 'high-performance',
  };
  if (opts.featureLevel) req.featureLevel = opts.featureLevel;
  if (opts.forceFallbackAdapter) req.forceFallbackAdapter = true;
  const verbose = opts.verbose ?? verboseFromEnv();
  const got =
    isNode && !verbose
      ? await captureNativeStderr(() => gpuApi.requestAdapter(req))
      : { value: await gpuApi.requestAdapter(req), hidden: [] as string[] };
  const adapter = got.value;
  if (!adapter) throw new GpuError(NO_ADAPTER_HELP);

  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'slimgpu' });
  const gpu = new GpuContext(device, adapter, summarise(adapter, isNode ? 'node-dawn' : 'browser'));
  gpu.startupMessages = got.hidden;
  return gpu;
}

/** Adapter facts without keeping a device. */
export async function adapterSummary(opts: GpuOptions = {}): Promise<AdapterSummary> {
  const gpu = await createGpu(opts);
  const info = gpu.info;
  gpu.destroy();
  return info;
}
