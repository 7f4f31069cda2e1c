// The exact bytes per layer and per section inside a compressed model file (layout.ts): what the
// report prints, read from the file itself so that report and file agree to the byte.
import { parseSafetensorsHeader } from '../safetensors.js';
import { readStructure, type DecodeOptions } from './decode.js';
import { CompressedModelError } from './errors.js';
import { expandV3 } from './compact.js';
import { COMPRESSED_FORMAT_KEY, numel, tensorNames, type IndexEncoding, type SectionCoding } from './layout.js';

export interface CompressedLayerSize {
  /** Layer name ('dense1'). */
  layer: string;
  /** Weights of the layer, kept weights. */
  params: number;
  kept: number;
  index: IndexEncoding;
  /** Relative index: bits per entry (else 0). */
  indexBits: number;
  /** How the relative index is stored: packed r-bit entries or huffman-coded. */
  indexCoding: SectionCoding;
  /** Bits per kept weight value: the codebook index width, or 32 (f32). */
  bits: number;
  /** Codebook entries (0 without sharing). */
  codebook: number;
  /** How the codebook indices are stored. */
  valueCoding: SectionCoding;
  indexBytes: number;
  valueBytes: number;
  codebookBytes: number;
  /** Biases (f32). */
  biasBytes: number;
  /** All tensor bytes of the layer. */
  bytes: number;
}

export interface CompressedSizes {
  /** The whole file: headerBytes + dataBytes. */
  fileBytes: number;
  /** The 8-byte length field plus the JSON header (metadata and tensor table). */
  headerBytes: number;
  /** Σ layers[].bytes: every tensor byte. */
  dataBytes: number;
  /** Format version of the file. */
  version: string;
  layers: CompressedLayerSize[];
}

/** The exact bytes per layer inside a compressed model file (validates its structure, decodes no stream). */
export function compressedSizes(bytes: Uint8Array, opts: DecodeOptions = {}): CompressedSizes {
  const h = parseSafetensorsHeader(bytes, { name: opts.name });
  const sizes = new Map<string, number>();
  for (const e of h.entries) {
    if (e.dtype !== 'U8') throw new CompressedModelError(`slimgpu.loadCompressed: tensor "${e.name}" must have dtype U8, got ${e.dtype}`);
    sizes.set(e.name, e.end - e.begin);
  }
  const v3 = h.metadata[COMPRESSED_FORMAT_KEY] === '3' ? expandV3(h.metadata, sizes, opts.name ? `'${opts.name}'` : 'compressed model') : undefined;
  if (v3) {
    sizes.clear();
    for (const s of v3.sections) sizes.set(s.tensor, s.end - s.begin);
  }
  const st = readStructure(v3 ? v3.metadata : h.metadata, sizes, opts);
  const layers = new Map<string, CompressedLayerSize>();
  for (const { entry, layer } of st.params) {
    let l = layers.get(layer);
    if (!l) {
      l = {
        layer,
        params: 0,
        kept: 0,
        index: 'full',
        indexBits: 0,
        indexCoding: 'packed',
        bits: 32,
        codebook: 0,
        valueCoding: 'packed',
        indexBytes: 0,
        valueBytes: 0,
        codebookBytes: 0,
        biasBytes: 0,
        bytes: 0,
      };
      layers.set(layer, l);
    }
    const t = tensorNames(entry.name);
    if (entry.kind === 'f32') {
      l.biasBytes += sizes.get(t.f32)!;
    } else {
      Object.assign(l, {
        params: numel(entry.shape),
        kept: entry.kept,
        index: entry.index,
        indexBits: entry.indexBits,
        indexCoding: entry.indexCoding,
        bits: entry.bits,
        codebook: entry.codebook,
        valueCoding: entry.valueCoding,
        indexBytes: sizes.get(t.index)!,
        valueBytes: sizes.get(t.values)!,
        codebookBytes: sizes.get(t.codebook) ?? 0,
      });
    }
    l.bytes = l.indexBytes + l.valueBytes + l.codebookBytes + l.biasBytes;
  }
  const list = [...layers.values()];
  const dataBytes = list.reduce((s, l) => s + l.bytes, 0);
  return { fileBytes: bytes.length, headerBytes: h.dataStart, dataBytes, version: st.version, layers: list };
}
