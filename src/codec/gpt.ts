// The codec's model: the GPT preset (gpt:L-D-H-T, byte vocabulary) behind the CodecModel interface,
// and whole-file compression/decompression with it.
//   forward: one StepPlan of B = streams windows (no gather: the coder writes the tokens), logits
//            read back whole or one row per window;
//   training: a second StepPlan over the same arena (batch windows, AdamW), windows drawn by a
//            seeded hash of (step, window) from the prefix of a GPU text buffer that holds the whole
//            file's room and grows as chunks are appended; no readback.
// Everything the decoder needs to rebuild the same model is in the settings stored in the header.
import type { Gpu } from '../gpu/device.js';
import { encodeDispatches } from '../gpu/dispatch.js';
import { GpuError } from '../gpu/device.js';
import { Network, uploadText } from '../nn/network.js';
import { StepPlan, TABLE_CAP, type DeviceData } from '../nn/plan.js';
import { gptSpec, parseGptName } from '../nn/presets.js';
import { hyperRow, type OptimizerHyper } from '../nn/optimizer.js';
import type { Tensor } from '../gpu/tensor.js';
import { codecFail } from './errors.js';
import type { CodecModel, CodecProgress } from './model.js';
import { compressText, decompressText, type Compressed } from './slimz.js';
import type { SlimzHeader, WriterInfo } from './container.js';

/** Written into every file's header; a decoder of another version may compute other numbers. */
export const CODEC_LIBRARY = 'slimgpu 0.1.0 (codec 1)';

/** What rebuilds the model: stored in the header's `model` field. */
export interface GptCodecSettings {
  kind: 'gpt';
  /** gpt:L-D-H-T */
  model: string;
  seed: number;
  /** AdamW: learning rate after a linear warm-up of `warmup` steps, betas, decoupled weight decay, global-norm clip. */
  lr: number;
  warmup: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clip: number;
  /** Training windows per step. */
  batch: number;
}

export interface GptCodecOptions {
  model?: string;
  seed?: number;
  streams?: number;
  chunkBytes?: number;
  stepsPerChunk?: number;
  lr?: number;
  batch?: number;
  /** Two-part coding (train first, prune and share, store the model) instead of prequential. */
  twoPart?: { trainSteps?: number; sparsity?: number; bits?: number };
}

export const GPT_CODEC_DEFAULTS = {
  model: 'gpt:2-64-4-64',
  chunkBytes: 128,
  stepsPerChunk: 8,
  lr: 2e-3,
  batch: 16,
  maxStreams: 64,
  twoPart: { trainSteps: 2000, sparsity: 0.5, bits: 5 },
} as const;

const HYPER: Omit<GptCodecSettings, 'kind' | 'model' | 'seed' | 'lr' | 'batch'> = { warmup: 20, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, clip: 1 };

/** Streams for a text of n bytes: each at least 64 windows long, at most maxStreams of them. */
export function defaultStreams(n: number, T: number): number {
  return Math.max(1, Math.min(GPT_CODEC_DEFAULTS.maxStreams, Math.floor(n / (64 * T))));
}

function settingsOf(o: GptCodecOptions): GptCodecSettings {
  const d = GPT_CODEC_DEFAULTS;
  const s: GptCodecSettings = { kind: 'gpt', model: o.model ?? d.model, seed: o.seed ?? 0, lr: o.lr ?? d.lr, batch: o.batch ?? d.batch, ...HYPER };
  checkSettings(s, 'options');
  return s;
}

/** Validates settings (from options or from a file's header); errors say which. */
export function checkSettings(v: unknown, where: string): GptCodecSettings {
  const bad = (m: string): never => codecFail(`${where}: ${m}`);
  if (typeof v !== 'object' || v === null) bad('model settings missing');
  const s = v as Record<string, unknown>;
  if (s.kind !== 'gpt') bad(`model kind must be 'gpt', got ${JSON.stringify(s.kind)}`);
  if (typeof s.model !== 'string' || !parseGptName(s.model)) bad(`model must be a gpt:L-D-H-T preset, got ${JSON.stringify(s.model)}`);
  const num = (k: string, lo: number, hi: number, int = false) => {
    const x = s[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi || (int && !Number.isInteger(x))) bad(`${k} must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(x)}`);
  };
  num('seed', 0, 2 ** 32 - 1, true); num('lr', 0, 10); num('warmup', 0, 1e9, true); num('beta1', 0, 1); num('beta2', 0, 1);
  num('eps', 0, 1); num('weightDecay', 0, 10); num('clip', 0, 1e9); num('batch', 1, 65536, true);
  return s as unknown as GptCodecSettings;
}

/** The GPT preset as a CodecModel: B windows per forward pass, training on the coded prefix. */
export class GptCodecModel implements CodecModel {
  private valid = 0;
  private step = 0;
  private readonly host: Uint8Array;
  private readonly staging: { all: GPUBuffer; row: GPUBuffer };
  private disposed = false;

  private constructor(
    private readonly gpu: Gpu, readonly net: Network, private readonly s: GptCodecSettings,
    readonly windows: number, readonly context: number,
    private readonly data: DeviceData & { dispose(): void }, private readonly fwd: StepPlan, private readonly trn?: StepPlan,
  ) {
    this.host = new Uint8Array(data.inputs.byteLength);
    const mk = (size: number, label: string) => gpu.device.createBuffer({ label, size, usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
    this.staging = { all: mk(windows * context * 256 * 4, 'codec.logits'), row: mk(windows * 256 * 4, 'codec.logits.row') };
  }

  /**
   * A model for `windows` streams and a text of `capacity` bytes; `net` (two-part: the loaded
   * compressed model) or a fresh initialisation from the settings' seed. `train` false: no training plan.
   */
  static async create(gpu: Gpu, s: GptCodecSettings, windows: number, capacity: number, opts: { net?: Network; train?: boolean } = {}): Promise<GptCodecModel> {
    const cfg = parseGptName(s.model)!;
    const spec = gptSpec(cfg, s.model);
    const net = opts.net ?? Network.create(gpu, spec, s.seed);
    const T = cfg.T;
    const data = uploadText(gpu, { kind: 'text', name: 'codec', bytes: new Uint8Array(0) }, T, 'train', Math.max(capacity, T + 2));
    let fwd: StepPlan | undefined, trn: StepPlan | undefined;
    try {
      fwd = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, windows, { train: false, gather: false });
      if (opts.train ?? true) trn = await StepPlan.build(gpu, net.spec, net.layers, net.arena, data, s.batch, { optimizer: 'adamw' });
    } catch (e) {
      fwd?.destroy();
      data.dispose();
      if (!opts.net) net.dispose();
      throw e;
    }
    return new GptCodecModel(gpu, net, s, windows, T, data, fwd, trn);
  }

  async logits(tokens: Uint32Array, row?: number): Promise<Float32Array> {
    const { gpu, fwd } = this;
    const B = this.windows, T = this.context;
    if (tokens.length !== B * T) codecFail(`logits: tokens must hold B·T = ${B * T} values, got ${tokens.length}`);
    gpu.device.queue.writeBuffer(fwd.input.buffer, fwd.input.offset, tokens.buffer, tokens.byteOffset, tokens.byteLength);
    const enc = gpu.device.createCommandEncoder({ label: 'codec.forward' });
    encodeDispatches(enc, fwd.evalStep, 'codec.forward');
    const out: Tensor = fwd.output;
    const staging = row === undefined ? this.staging.all : this.staging.row;
    if (row === undefined) enc.copyBufferToBuffer(out.buffer, out.offset, staging, 0, B * T * 256 * 4);
    else for (let b = 0; b < B; b++) enc.copyBufferToBuffer(out.buffer, out.offset + (b * T + row) * 1024, staging, b * 1024, 1024);
    gpu.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(0x1);
    } catch (e) {
      gpu.check();
      throw new GpuError(`slimgpu.codec: reading the logits failed: ${(e as Error).message}`);
    }
    const v = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    gpu.check();
    return v;
  }

  appendText(bytes: Uint8Array): void {
    if (this.valid + bytes.length > this.host.length) codecFail(`appendText: the text buffer holds ${this.host.length} bytes, ${this.valid + bytes.length} needed`);
    const w0 = Math.floor(this.valid / 4);
    this.host.set(bytes, this.valid);
    this.valid += bytes.length;
    const w1 = Math.ceil(this.valid / 4);
    if (w1 > w0) this.gpu.device.queue.writeBuffer(this.data.inputs.buffer, this.data.inputs.offset + 4 * w0, this.host.buffer, 4 * w0, 4 * (w1 - w0));
  }

  private lrAt(t: number): number {
    return this.s.warmup > 0 && t < this.s.warmup ? (this.s.lr * (t + 1)) / this.s.warmup : this.s.lr;
  }

  async train(steps: number): Promise<void> {
    const { gpu, trn, s } = this;
    const count = this.valid - this.context; // window starts with T + 1 bytes inside the prefix
    if (!trn || steps <= 0 || count < 1) return;
    const h: OptimizerHyper = { momentum: 0, l2: s.weightDecay, beta1: s.beta1, beta2: s.beta2, eps: s.eps, clip: s.clip };
    trn.setHashedWindows(this.step, count, s.seed);
    for (let done = 0; done < steps;) {
      const n = Math.min(TABLE_CAP, steps - done);
      trn.setHyperRows(this.step, Array.from({ length: n }, (_, i) => hyperRow('adamw', h, this.step + i, this.lrAt(this.step + i))));
      const enc = gpu.device.createCommandEncoder({ label: 'codec.train' });
      for (let i = 0; i < n; i++) encodeDispatches(enc, trn.train, 'codec.train');
      gpu.device.queue.submit([enc.finish()]);
      this.step += n;
      done += n;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.fwd.destroy();
    this.trn?.destroy();
    this.staging.all.destroy();
    this.staging.row.destroy();
    this.data.dispose();
    this.net.dispose();
  }
}

function writerOf(gpu: Gpu): WriterInfo {
  const i = gpu.info;
  return { library: CODEC_LIBRARY, adapter: { backend: i.backend, vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description } };
}

export interface CodecHooks {
  onProgress?: (p: CodecProgress) => void;
  onLog?: (line: string) => void;
}

export interface GptCompressed extends Compressed {
  /** Two-part: bytes of the stored model. */
  modelBytes?: number;
  twoPart?: TwoPartReport;
}

export interface TwoPartReport {
  /** The trained model as fp32 (every parameter, 4 bytes). */
  denseModelBytes: number;
  /** The stored model (pruned, shared, sparse-indexed). */
  modelBytes: number;
  sparsity: number;
  bits: number;
  /** Code length of the text under the dense model, and under the stored one (bits per byte). */
  denseBitsPerByte: number;
  bitsPerByte: number;
}

/** Compresses `text` with the GPT preset (prequential unless opts.twoPart). */
export async function compressWithGpt(gpu: Gpu, text: Uint8Array, opts: GptCodecOptions = {}, hooks: CodecHooks = {}): Promise<GptCompressed> {
  const s = settingsOf(opts);
  const T = parseGptName(s.model)!.T;
  const streams = opts.streams ?? defaultStreams(text.length, T);
  const chunkBytes = opts.chunkBytes ?? GPT_CODEC_DEFAULTS.chunkBytes;
  if (opts.twoPart) {
    const { compressTwoPart } = await import('./twopart.js');
    return compressTwoPart(gpu, text, s, { streams, chunkBytes, ...opts.twoPart }, writerOf(gpu), hooks);
  }
  const stepsPerChunk = opts.stepsPerChunk ?? GPT_CODEC_DEFAULTS.stepsPerChunk;
  const model = await GptCodecModel.create(gpu, s, streams, text.length, { train: stepsPerChunk > 0 });
  hooks.onLog?.(`slimgpu compress: ${s.model} (${model.net.paramCount} parameters), ${streams} streams, ${stepsPerChunk} AdamW steps of ${s.batch} windows per chunk of ${streams}×${chunkBytes} bytes, on ${gpu.info.description || gpu.info.device}`);
  try {
    return await compressText(text, model, { mode: 'prequential', chunkBytes, stepsPerChunk, model: { ...s }, writer: writerOf(gpu), onProgress: hooks.onProgress });
  } finally {
    model.dispose();
  }
}

/** Decompresses a .slimz file written by compressWithGpt; throws a CodecError naming the chunk on any mismatch. */
export async function decompressWithGpt(gpu: Gpu, bytes: Uint8Array, hooks: CodecHooks = {}): Promise<{ text: Uint8Array; header: SlimzHeader }> {
  return decompressText(bytes, async (h, section) => {
    const s = checkSettings(h.model, 'the file\'s header');
    if (h.mode === 'two-part') {
      const { loadTwoPartModel } = await import('./twopart.js');
      return loadTwoPartModel(gpu, s, section!, h);
    }
    return GptCodecModel.create(gpu, s, h.coding.streams, h.length, { train: h.coding.stepsPerChunk > 0 });
  }, { adapter: gpu.info.description || gpu.info.device, onProgress: hooks.onProgress });
}
