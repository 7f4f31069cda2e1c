// The codec's entry points: compress and decompress whole files with the GPT preset (prequential or
// two-part) or with the CM alone. Above gpt.ts and twopart.ts, so both import downward.
import type { Gpu } from '../gpu/device.js';
import { parseGptName } from '../nn/presets.js';
import { codecFail } from './errors.js';
import { NoModel } from './model.js';
import { compressText, decompressText } from './slimz.js';
import { SlimzReader, type SlimzHeader, type WriterInfo } from './container.js';
import {
  CODEC_LIBRARY,
  GPT_CODEC_DEFAULTS,
  GptCodecModel,
  checkSettings,
  defaultStreams,
  settingsOf,
  writerOf,
  type CodecHooks,
  type GptCodecOptions,
  type GptCompressed,
} from './gpt.js';
import { compressTwoPart, loadTwoPartModel } from './twopart.js';

/** Compresses `text` with the GPT preset (prequential unless opts.twoPart). */
export async function compressWithGpt(gpu: Gpu, text: Uint8Array, opts: GptCodecOptions = {}, hooks: CodecHooks = {}): Promise<GptCompressed> {
  if (opts.model === 'none') return compressCmAlone(text, opts, hooks);
  const mixer = opts.mixer ?? GPT_CODEC_DEFAULTS.mixer;
  const s = settingsOf(opts);
  const T = parseGptName(s.model)!.T;
  const streams = opts.streams ?? defaultStreams(text.length, T);
  const chunkBytes = opts.chunkBytes ?? GPT_CODEC_DEFAULTS.chunkBytes;
  if (opts.twoPart) {
    return compressTwoPart(gpu, text, s, { streams, chunkBytes, recordBytes: opts.recordBytes, mixer, ...opts.twoPart }, writerOf(gpu), hooks);
  }
  const stepsPerChunk = opts.stepsPerChunk ?? GPT_CODEC_DEFAULTS.stepsPerChunk;
  const model = await GptCodecModel.create(gpu, s, streams, text.length);
  hooks.onLog?.(
    `slimgpu compress: ${s.model} (${model.net.paramCount} parameters), ${streams} streams, ${stepsPerChunk} ${s.optimizer} steps of ${streams} windows per chunk of ${streams}×${chunkBytes} bytes, mixer ${mixer}, on ${gpu.info.description || gpu.info.device}`,
  );
  try {
    return await compressText(text, model, {
      mode: 'prequential',
      chunkBytes,
      recordBytes: opts.recordBytes,
      stepsPerChunk,
      mixer,
      model: { ...s },
      writer: writerOf(gpu),
      onProgress: hooks.onProgress,
    });
  } finally {
    model.dispose();
  }
}

/** The writer of a CM-alone file: no adapter computed anything. */
const CPU_WRITER: WriterInfo = {
  library: CODEC_LIBRARY,
  adapter: { backend: 'cpu', vendor: '', architecture: '', device: 'cpu', description: 'CPU (CM alone, no GPU)' },
};

/**
 * `--model none`: the CM codes the text alone, on the CPU — no GPU device is needed or opened. One
 * stream (the CM's best geometry) and chunks of cmOnlyChunkBytes unless opts say otherwise.
 */
export async function compressCmAlone(text: Uint8Array, opts: GptCodecOptions = {}, hooks: CodecHooks = {}): Promise<GptCompressed> {
  const mixer = opts.mixer ?? GPT_CODEC_DEFAULTS.mixer;
  if (opts.twoPart) codecFail('--two-part needs a model (not --model none)');
  if (mixer !== 'cm') codecFail('--model none codes with the CM alone: it needs --mixer cm');
  const chunkBytes = opts.chunkBytes ?? GPT_CODEC_DEFAULTS.cmOnlyChunkBytes;
  const model = new NoModel(opts.streams ?? 1);
  hooks.onLog?.(`slimgpu compress: CM alone (no GPT, no GPU), ${model.windows} stream(s), chunks of ${chunkBytes} bytes per stream`);
  return compressText(text, model, {
    mode: 'prequential',
    chunkBytes,
    recordBytes: opts.recordBytes,
    stepsPerChunk: 0,
    mixer,
    model: { kind: 'none' },
    writer: CPU_WRITER,
    onProgress: hooks.onProgress,
  });
}

/** True when a .slimz file was coded by the CM alone (it decodes without a GPU); throws on a file that is not .slimz. */
export function isCmAloneFile(bytes: Uint8Array): boolean {
  return new SlimzReader(bytes).header.model.kind === 'none';
}

/** Decompresses a CM-alone file (`--model none`) on the CPU; refuses a file that needs a model. */
export async function decompressCmAlone(bytes: Uint8Array, hooks: CodecHooks = {}): Promise<{ text: Uint8Array; header: SlimzHeader }> {
  return decompressText(
    bytes,
    async (h) => {
      if (h.model.kind !== 'none')
        codecFail(`the file was coded with a model (${JSON.stringify(h.model.model ?? h.model.kind)}): decompress it with a GPU (decompressWithGpt)`);
      return new NoModel(h.coding.streams);
    },
    { adapter: 'CPU', onProgress: hooks.onProgress },
  );
}

/** Decompresses a .slimz file written by compressWithGpt; throws a CodecError naming the chunk on any mismatch. */
export async function decompressWithGpt(gpu: Gpu, bytes: Uint8Array, hooks: CodecHooks = {}): Promise<{ text: Uint8Array; header: SlimzHeader }> {
  return decompressText(
    bytes,
    async (h, section) => {
      if (h.model.kind === 'none') return new NoModel(h.coding.streams);
      const s = checkSettings(h.model, "the file's header");
      if (h.mode === 'two-part') {
        return loadTwoPartModel(gpu, s, section!, h.coding.streams, h.length);
      }
      return GptCodecModel.create(gpu, s, h.coding.streams, h.length);
    },
    { adapter: gpu.info.description || gpu.info.device, onProgress: hooks.onProgress },
  );
}
