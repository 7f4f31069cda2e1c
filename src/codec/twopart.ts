// Two-part coding: train the GPT on the whole text first (trainSteps), prune it (magnitude, per
// matrix) and fine-tune under the masks (trainSteps/4 more steps), share its weights (k-means, `bits` per matrix), store that compressed
// model in the file, and code the text under the model as the decoder will load it from those bytes.
// The report says what pruning and sharing took off the model part and what they cost the data part.
import type { Gpu } from '../gpu/device.js';
import { shareWeights } from '../compress/sharing.js';
import { decodeCompressed, exportCompressed } from '../io/export.js';
import { codecFail } from './errors.js';
import { GptCodecModel, type CodecHooks, type GptCodecSettings, type GptCompressed, type TwoPartReport } from './gpt.js';
import { encodeText } from './prequential.js';
import { compressText } from './slimz.js';
import type { WriterInfo } from './container.js';
import type { Mixer } from './prequential.js';
import { GPT_CODEC_DEFAULTS } from './gpt.js';

export interface TwoPartOptions {
  streams: number;
  mixer?: Mixer;
  chunkBytes: number;
  recordBytes?: number;
  trainSteps?: number;
  sparsity?: number;
  bits?: number;
}

/** Keeps the round((1 − s)·n) largest |w| of each prunable matrix (ties: lower index first). */
function magnitudeMasks(weights: Map<string, Float32Array>, names: string[], sparsity: number): Map<string, Float32Array> {
  const masks = new Map<string, Float32Array>();
  for (const name of names) {
    const w = weights.get(name)!;
    const keep = Math.round((1 - sparsity) * w.length);
    const order = Array.from({ length: w.length }, (_, i) => i).sort((a, b) => Math.abs(w[b]!) - Math.abs(w[a]!) || a - b);
    const m = new Float32Array(w.length);
    for (let i = 0; i < keep; i++) m[order[i]!] = 1;
    masks.set(name, m);
    for (let i = 0; i < w.length; i++) w[i]! *= m[i]!;
  }
  return masks;
}

export async function compressTwoPart(
  gpu: Gpu,
  text: Uint8Array,
  s: GptCodecSettings,
  o: TwoPartOptions,
  writer: WriterInfo,
  hooks: CodecHooks,
): Promise<GptCompressed> {
  const d = GPT_CODEC_DEFAULTS.twoPart;
  const trainSteps = o.trainSteps ?? d.trainSteps,
    sparsity = o.sparsity ?? d.sparsity,
    bits = o.bits ?? d.bits;
  if (!(sparsity >= 0 && sparsity < 1)) codecFail(`two-part: sparsity must be in [0, 1), got ${sparsity}`);
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) codecFail(`two-part: bits must be an integer in [1, 8], got ${bits}`);
  const trainer = await GptCodecModel.create(gpu, s, o.streams, text.length);
  let section: Uint8Array, denseBits: number;
  const net = trainer.net;
  try {
    const fineTune = sparsity > 0 ? Math.round(trainSteps / 4) : 0;
    hooks.onLog?.(
      `slimgpu compress --two-part: ${s.model} (${net.paramCount} parameters), ${trainSteps} ${s.optimizer} steps, then pruning to ${(100 * sparsity).toFixed(0)}% + ${fineTune} steps under the masks, ${bits}-bit sharing`,
    );
    await trainer.appendText(text);
    await trainer.train(trainSteps);
    denseBits = (await encodeText(text, trainer, { chunkBytes: o.chunkBytes, stepsPerChunk: 0 })).bits;
    if (sparsity > 0) {
      const w = await net.arena.read('weights');
      const masks = magnitudeMasks(
        w,
        net.arena.prunable().map((v) => v.name),
        sparsity,
      );
      await net.setParams(w, masks);
      await trainer.train(fineTune);
    }
    const sharing = await shareWeights(net, { bits: () => bits, seed: s.seed });
    section = await exportCompressed(net, sharing);
  } finally {
    trainer.dispose();
  }
  // code under the model exactly as the decoder will have it: loaded from the stored bytes
  const model = await loadTwoPartModel(gpu, s, section, o.streams, text.length);
  try {
    const r = await compressText(text, model, {
      mode: 'two-part',
      chunkBytes: o.chunkBytes,
      recordBytes: o.recordBytes,
      stepsPerChunk: 0,
      mixer: o.mixer,
      model: { ...s, twoPart: { trainSteps, sparsity, bits } },
      writer,
      modelSection: section,
      onProgress: hooks.onProgress,
    });
    const n = Math.max(1, text.length);
    const report: TwoPartReport = {
      denseModelBytes: 4 * model.net.paramCount,
      modelBytes: section.length,
      sparsity,
      bits,
      denseBitsPerByte: denseBits / n,
      bitsPerByte: r.modelBits / n,
      codedBitsPerByte: r.bits / n,
    };
    return { ...r, modelBytes: section.length, twoPart: report };
  } finally {
    model.dispose();
  }
}

/** A two-part file's model: the preset's network with the stored (pruned, shared) weights and masks. */
export async function loadTwoPartModel(gpu: Gpu, s: GptCodecSettings, section: Uint8Array, streams: number, length: number): Promise<GptCodecModel> {
  const d = decodeCompressed(section, { name: 'the .slimz model section' });
  if (d.spec.name !== s.model) codecFail(`the stored model is '${d.spec.name}', the header says '${s.model}': the file is inconsistent`);
  const model = await GptCodecModel.create(gpu, s, streams, length);
  try {
    await model.net.setParams(d.values, d.masks);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
