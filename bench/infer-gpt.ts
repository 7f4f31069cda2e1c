// GPT decode in `npm run bench -- infer`: tokens/s of batch-1 greedy decoding, the dense decoder
// (src/nn/decode.ts over loadCompressed's Network) vs the compressed one (CompressedModel.decoder:
// every matrix in its compressed form), each built once, steps interleaved in rounds; GPU memory of
// each (weights, then the decoder's caches and activations) from the device's live-byte counter.
// A `gpt:L-D-H-T` argument instead of a file makes a random-init model pruned to 75% and shared at
// 5 bits (decode speed does not depend on the weights' values). Browser-safe (demo/infer.ts runs it
// in Chromium).
import type { Gpu } from '../src/gpu/device.js';
import { CompressedModel } from '../src/io/compressed-model.js';
import { loadCompressed, serializeCompressed } from '../src/io/export.js';
import { syntheticCompressed } from '../src/io/synthetic-compressed.js';
import { Decoder, sampleLogits } from '../src/nn/decode.js';
import { gptSpec } from '../src/nn/model.js';
import { median } from './infer-core.js';

const basename = (f: string) => f.split('/').pop()!;

/** A random-init `gpt:L-D-H-T` file: every prunable matrix pruned to `sparsity` at random, kept weights shared at `bits` (a uniform codebook). */
export function randomGptFile(preset: string, sparsity = 0.75, bits = 5, seed = 1): Uint8Array {
  const m = /^gpt:(\d+)-(\d+)-(\d+)-(\d+)$/.exec(preset);
  if (!m) throw new Error(`bench infer: '${preset}' is neither a file nor a gpt:L-D-H-T preset`);
  const spec = gptSpec({ L: +m[1]!, D: +m[2]!, H: +m[3]!, T: +m[4]! });
  return serializeCompressed(syntheticCompressed(spec, { sparsity, bits, seed, step: 0.02, dense: 'identity' }));
}

/** Tokens/s and GPU bytes, dense decoder vs compressed, interleaved rounds of `tokens` greedy steps. */
export async function benchDecode(
  gpu: Gpu,
  file: string,
  bytes: Uint8Array,
  reps: number,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const live = () => gpu.memory.liveBytes;
  let at = live();
  const net = await loadCompressed(gpu, bytes);
  const denseWeights = live() - at;
  at = live();
  const dDec = await Decoder.create(net);
  const denseDecoder = live() - at;
  at = live();
  const m = await CompressedModel.load(gpu, bytes);
  const compressedWeights = live() - at;
  at = live();
  const cDec = await m.decoder();
  const compressedDecoder = live() - at;
  const tokens = Math.min(64, m.spec.input[0]! - 4); // within the context: every round is the same work
  const decoders = { dense: dDec, compressed: cDec };
  const texts: Record<string, number[]> = {};
  const times: Record<string, number[]> = { dense: [], compressed: [] };
  for (let rep = 0; rep < Math.max(3, reps); rep++) {
    for (const [k, d] of Object.entries(decoders)) {
      d.reset();
      const t0 = performance.now();
      let logits!: Float32Array;
      for (const b of new TextEncoder().encode('The ')) logits = await d.step(b);
      const out: number[] = [];
      for (let i = 0; i < tokens; i++) {
        out.push(sampleLogits(logits, 0, 0));
        logits = await d.step(out[i]!);
      }
      times[k]!.push(performance.now() - t0);
      texts[k] = out;
    }
  }
  const steps = tokens + 4;
  const tps = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, +(steps / (median(t) / 1000)).toFixed(1)]));
  const same = texts.dense!.join() === texts.compressed!.join();
  log(
    `${basename(file)} decode: ${JSON.stringify(tps)} tokens/s, same greedy text: ${same}; GPU weight bytes dense ${denseWeights}, compressed ${compressedWeights}\n`,
  );
  const out = {
    file: basename(file),
    model: m.spec.name,
    fileBytes: bytes.length,
    denseWeightBytes: m.denseBytes,
    layouts: Object.fromEntries(m.info.filter((l) => l.bits !== 32 || l.rows > 1).map((l) => [l.name, l.format])),
    gpuBytes: {
      denseWeights,
      compressedWeights,
      compressedWeightsReported: m.weightBytes,
      ratio: +(denseWeights / compressedWeights).toFixed(2),
      denseDecoderCachesAndActivations: denseDecoder,
      compressedDecoderCachesAndActivations: compressedDecoder,
    },
    decode: {
      tokensPerSec: tps,
      speedup: +(tps.compressed! / tps.dense!).toFixed(2),
      sameGreedyText: same,
      stepsPerRound: steps,
      rounds: times.dense!.length,
      note: 'decoders built once; per round: reset, a 4-byte prompt, greedy steps; rounds interleaved dense/compressed; median',
    },
  };
  dDec.dispose();
  cDec.dispose();
  m.dispose();
  net.dispose();
  return out;
}
