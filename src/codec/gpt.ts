// The codec's model: the GPT preset (gpt:L-D-H-T, byte vocabulary) behind the CodecModel interface,
// its settings and defaults (the entry points that compress whole files are in api.ts). The model is nn's GptModel (B = streams windows
// per training step) decoded by nn's KvDecoder (B streams, prefill T/2, one token per step), AdamW steps on windows drawn by a seeded hash from the
// prefix of a GPU text buffer that grows as chunks are appended, no readback inside training.
// Everything the decoder needs to rebuild the same model is in the settings stored in the header.
import type { Gpu } from '../gpu/device.js';
import { GptModel } from '../nn/lm.js';
import { KvDecoder } from '../nn/decode.js';
import { parseGptName } from '../nn/presets.js';
import { OPTIMIZERS, type OptimizerKind } from '../nn/optimizer.js';
import { codecFail } from './errors.js';
import type { CodecModel, CodecProgress } from './model.js';
import type { Mixer } from './prequential.js';
import type { Compressed } from './slimz.js';
import type { WriterInfo } from './container.js';

/** Written into every file's header; a decoder of another version may compute other numbers. */
export const CODEC_LIBRARY = 'slimgpu 0.1.0 (codec 5)';

/** What rebuilds the model: stored in the header's `model` field. */
export interface GptCodecSettings {
  kind: 'gpt';
  /** gpt:L-D-H-T */
  model: string;
  seed: number;
  optimizer: OptimizerKind;
  /** Learning rate after a linear warm-up of `warmup` steps; AdamW betas, decoupled weight decay, global-norm clip; SGD momentum. */
  lr: number;
  warmup: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  clip: number;
  momentum: number;
}

export interface GptCodecOptions {
  /** gpt:L-D-H-T, or 'none': no GPT, the CM mixer codes alone (needs mixer 'cm'). */
  model?: string;
  /** How bytes are coded: 'cm' (the context-mixing model with the GPT's table as an input) or 'none' (the range coder under the GPT's table). */
  mixer?: Mixer;
  seed?: number;
  streams?: number;
  chunkBytes?: number;
  /** Text bytes per container record, about (default RECORD_BYTES = 64 KiB; 1: a record per chunk). */
  recordBytes?: number;
  stepsPerChunk?: number;
  lr?: number;
  optimizer?: OptimizerKind;
  /** Two-part coding (train first, prune and share, store the model) instead of prequential. */
  twoPart?: { trainSteps?: number; sparsity?: number; bits?: number };
}

export const GPT_CODEC_DEFAULTS = {
  model: 'gpt:2-64-4-64',
  mixer: 'cm' as Mixer,
  chunkBytes: 64,
  stepsPerChunk: 4,
  lr: 1e-2,
  optimizer: 'adamw' as OptimizerKind,
  /**
   * At most 16 streams: on lavapipe a step of 16 streams costs about a quarter of a step of 64, so
   * the run takes the same time while the GPT gets 4× the optimizer steps and the CM sees less
   * interleaving (KJV 1 MB: see README, Text compression).
   */
  maxStreams: 16,
  /** --model none (CM alone): bytes per chunk record. */
  cmOnlyChunkBytes: 65536,
  twoPart: { trainSteps: 2000, sparsity: 0.5, bits: 5 },
} as const;

const HYPER = { warmup: 20, beta1: 0.9, beta2: 0.99, weightDecay: 0.01, clip: 1, momentum: 0.9 };

/** Streams for a text of n bytes: each at least 64 windows long, at most maxStreams of them. */
export function defaultStreams(n: number, T: number): number {
  return Math.max(1, Math.min(GPT_CODEC_DEFAULTS.maxStreams, Math.floor(n / (64 * T))));
}

/** The model settings (stored in the header) that options ask for, validated. */
export function settingsOf(o: GptCodecOptions): GptCodecSettings {
  const d = GPT_CODEC_DEFAULTS;
  const s: GptCodecSettings = {
    kind: 'gpt',
    model: o.model ?? d.model,
    seed: o.seed ?? 0,
    optimizer: o.optimizer ?? d.optimizer,
    lr: o.lr ?? d.lr,
    ...HYPER,
  };
  return checkSettings(s, 'options');
}

/** Validates settings (from options or from a file's header); errors say which. */
export function checkSettings(v: unknown, where: string): GptCodecSettings {
  const bad = (m: string): never => codecFail(`${where}: ${m}`);
  if (typeof v !== 'object' || v === null) bad('model settings missing');
  const s = v as Record<string, unknown>;
  if (s.kind !== 'gpt') bad(`model kind must be 'gpt', got ${JSON.stringify(s.kind)}`);
  if (typeof s.model !== 'string' || !parseGptName(s.model)) bad(`model must be a gpt:L-D-H-T preset, got ${JSON.stringify(s.model)}`);
  if (!OPTIMIZERS.includes(s.optimizer as OptimizerKind))
    bad(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(s.optimizer)}`);
  const num = (k: string, lo: number, hi: number, int = false) => {
    const x = s[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi || (int && !Number.isInteger(x)))
      bad(`${k} must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(x)}`);
  };
  num('seed', 0, 2 ** 32 - 1, true);
  num('lr', 0, 100);
  num('warmup', 0, 1e9, true);
  num('beta1', 0, 1);
  num('beta2', 0, 1);
  num('weightDecay', 0, 10);
  num('clip', 0, 1e9);
  num('momentum', 0, 1);
  return s as unknown as GptCodecSettings;
}

/** nn's GptModel as the codec's model: B = streams windows, T = the preset's context. */
export class GptCodecModel implements CodecModel {
  private kv?: KvDecoder;
  private constructor(readonly lm: GptModel) {}

  /** A model for `windows` streams and a text of `capacity` bytes, initialised from the settings' seed. */
  static async create(gpu: Gpu, s: GptCodecSettings, windows: number, capacity: number): Promise<GptCodecModel> {
    const lm = await GptModel.create(gpu, s.model, {
      seed: s.seed,
      windows,
      capacity,
      optimizer: s.optimizer,
      lr: s.lr,
      warmup: s.warmup,
      beta1: s.beta1,
      beta2: s.beta2,
      weightDecay: s.weightDecay,
      clip: s.clip,
      momentum: s.momentum,
    });
    return new GptCodecModel(lm);
  }

  get windows(): number {
    return this.lm.windows;
  }
  get context(): number {
    return this.lm.context;
  }
  get net() {
    return this.lm.net;
  }
  async prefill(tokens: Uint32Array): Promise<void> {
    this.kv ??= await KvDecoder.create(this.lm.net, { batch: this.windows, prefill: this.context >> 1 });
    this.kv.prefill(tokens);
  }
  async step(tokens: Uint32Array): Promise<Float32Array> {
    if (!this.kv) codecFail('GptCodecModel.step: prefill first');
    return (await this.kv!.step(tokens))!;
  }
  appendText(bytes: Uint8Array): Promise<void> {
    return this.lm.appendText(bytes);
  }
  train(steps: number): Promise<void> {
    return this.lm.train(steps);
  }
  dispose(): void {
    this.kv?.dispose();
    this.lm.dispose();
  }
}

export function writerOf(gpu: Gpu): WriterInfo {
  const i = gpu.info;
  return {
    library: CODEC_LIBRARY,
    adapter: { backend: i.backend, vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description },
  };
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
  /** Code length of the text under the dense trained model, and under the stored one (pruned, fine-tuned, shared), bits per byte. */
  denseBitsPerByte: number;
  bitsPerByte: number;
  /** Code length of the data part as coded (with mixer 'cm': the CM mixing the stored model's table in), bits per byte. */
  codedBitsPerByte: number;
}
