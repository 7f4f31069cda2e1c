// Deep Compression (Han et al. 2016) applied to the image codec's own weights, without retraining:
// per layer, magnitude pruning to `sparsity`, then k-means weight sharing of the kept weights with
// 2^bits linearly initialised centroids (kmeansCpu, the CPU twin of the cluster kernels). Returns
// the model with the shared weights (so its R-D curve can be measured) and the decoder's stored size
// in Han's format: per kept weight `bits` for the centroid index + 4 bits of relative position (a
// filler zero for every gap over 15), a f32 codebook per layer, f32 biases, and the integer tables.
import { kmeansCpu } from '../reference/cluster.js';
import type { ConvWeights, ImageModel } from './model.js';

export interface DeepCompressOptions {
  sparsity: number;
  bits: number;
  iterations?: number;
}

export interface DeepCompressReport {
  sparsity: number;
  bits: number;
  /** Synthesis (decoder) weights before and after. */
  decoderParams: number;
  decoderKept: number;
  /** The decoder as shipped now (f32 weights + tables) and as pruned + shared + relative-indexed. */
  decoderBytesDense: number;
  decoderBytesCompressed: number;
}

function compressLayer(c: ConvWeights, o: DeepCompressOptions): { layer: ConvWeights; kept: number; bits: number } {
  const n = c.w.length;
  const mags = Float32Array.from(c.w, Math.abs).sort();
  const cut = o.sparsity > 0 ? mags[Math.min(n - 1, Math.floor(o.sparsity * n))]! : -1;
  const mask = Float32Array.from(c.w, (v) => (Math.abs(v) > cut ? 1 : 0));
  const K = 2 ** o.bits;
  let lo = Infinity,
    hi = -Infinity;
  c.w.forEach((v, i) => {
    if (mask[i]) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  });
  const init = Float32Array.from({ length: K }, (_, k) => lo + ((hi - lo) * (k + 0.5)) / K);
  const { weights } = kmeansCpu(c.w, mask, init, o.iterations ?? 20);
  let kept = 0,
    fillers = 0,
    gap = 0;
  for (let i = 0; i < n; i++) {
    if (!mask[i]) {
      gap++;
      continue;
    }
    kept++;
    fillers += Math.floor(gap / 16);
    gap = 0;
  }
  const bits = (kept + fillers) * (o.bits + 4) + K * 32 + c.b.length * 32;
  return { layer: { ...c, w: weights }, kept, bits };
}

export function deepCompressModel(model: ImageModel, o: DeepCompressOptions): { model: ImageModel; report: DeepCompressReport } {
  const analysis = model.analysis.map((c) => compressLayer(c, o).layer);
  const syn = model.synthesis.map((c) => compressLayer(c, o));
  const tableBytes = model.decoderBytes - model.synthesis.reduce((s, c) => s + c.w.byteLength + c.b.byteLength, 0);
  const report: DeepCompressReport = {
    sparsity: o.sparsity,
    bits: o.bits,
    decoderParams: model.synthesis.reduce((s, c) => s + c.w.length, 0),
    decoderKept: syn.reduce((s, l) => s + l.kept, 0),
    decoderBytesDense: model.decoderBytes,
    decoderBytesCompressed: Math.ceil(syn.reduce((s, l) => s + l.bits, 0) / 8) + tableBytes,
  };
  return { model: { ...model, analysis, synthesis: syn.map((l) => l.layer) }, report };
}

/**
 * The decoder's stored size in Han's format for a model whose synthesis is already pruned and shared
 * (trained so: python/image_codec.py --prune/--share-bits): per layer, the non-zero weights, indices
 * of ceil(log2(distinct values)) bits + 4-bit relative positions (fillers for gaps over 15), a f32
 * codebook, f32 biases; plus the integer tables. A layer with over 256 distinct weights counts as dense f32.
 */
export function storedSize(model: ImageModel): number {
  let bits = 0;
  for (const c of model.synthesis) {
    const distinct = new Set<number>();
    let kept = 0,
      fillers = 0,
      gap = 0;
    for (const v of c.w) {
      if (v === 0) {
        gap++;
        continue;
      }
      distinct.add(v);
      kept++;
      fillers += Math.floor(gap / 16);
      gap = 0;
    }
    if (distinct.size > 256)
      bits += (c.w.length + c.b.length) * 32; // not shared: stored dense, f32
    else bits += (kept + fillers) * (Math.max(1, Math.ceil(Math.log2(distinct.size))) + 4) + distinct.size * 32 + c.b.length * 32;
  }
  const tableBytes = model.decoderBytes - model.synthesis.reduce((s, c) => s + c.w.byteLength + c.b.byteLength, 0);
  return Math.ceil(bits / 8) + tableBytes;
}
