// The compressed model file, `*.slim.safetensors` — the one place that defines its byte layout.
// A safetensors container (8-byte little-endian header length, JSON header, tensor bytes) whose
// tensors are all dtype U8, 1-D byte streams, and whose __metadata__ describes the model so that a
// loader rebuilds it exactly. Versions 1, 2 and 3 are read; version 3 (compact.ts: the same
// sections in one tensor, terse metadata) is written by default, version 2 on request.
//
// __metadata__ (string values):
//   "slimgpu.compressed": "2"                 format version ("1": no entropy coding, see below)
//   "model":  JSON ModelSpec                  (src/nn/model.ts) — layer shapes follow from it
//   "params": JSON array, one entry per parameter of the model (every weight and bias once):
//     prunable weights  { "name": "dense1.weight", "kind": "sparse", "shape": [784, 300],
//                         "kept": 18816,                  positions kept (mask ≠ 0)
//                         "index": "full" | "bitmask" | "relative" | "rowprefix" | "colprefix",
//                         "indexBits": r,                 relative only (else 0): bits per entry, 1..16
//                         "indexEntries": E,              relative only (else 0): entries incl. fillers
//                         "indexCoding": "packed" | "huffman",   v2 only; huffman only with relative
//                         "bits": b,                      bits per kept value: 1..16 = codebook
//                                                         index, 32 = the value as f32
//                         "codebook": K,                  codebook entries, 1..2^b (0 when b = 32)
//                         "valueCoding": "packed" | "huffman" }  v2 only; huffman only with b ≤ 16
//     other parameters  { "name": "dense1.bias", "kind": "f32", "shape": [300] }
//   A version-1 file has no indexCoding/valueCoding fields (both are "packed"); in version 2 both
//   are required. Unknown fields are refused.
//
// Tensors (dtype U8, 1-D). A packed bit stream holds values of a fixed width packed LSB first; the
// unused high bits of its last byte are 0:
//   "<name>.index"     the sparse index of the kept positions (row-major order):
//                      full:     0 bytes (every position is kept)
//                      bitmask:  n bits, bit i = position i is kept (⌈n/8⌉ bytes)
//                      relative: E entries (Deep Compression's relative indices): an entry e ≥ 1 is
//                                the gap to the next kept position (from position −1 for the
//                                first), e = 0 is a filler that advances by 2^r − 1 without a kept
//                                position (gaps larger than 2^r − 1). Stored as
//                                  packed:  E values of r bits (⌈E·r/8⌉ bytes)
//                                  huffman: a huffman section of E symbols over the alphabet 2^r
//                      rowprefix/colprefix (v2/v3): E = R (or C) lengths of r bits, packed or huffman
//                                as relative entries: row r keeps its first len[r] columns (or column c
//                                its first len[c] rows) of the weight seen as [shape[0], rest] (prefix.ts)
//   "<name>.values"    the kept values in position order:
//                        b = 32:            kept × f32 little-endian
//                        b ≤ 16, packed:    kept codebook indices of b bits (⌈kept·b/8⌉ bytes)
//                        b ≤ 16, huffman:   a huffman section of kept symbols over the alphabet K
//   "<name>.codebook"  K f32 little-endian (when b ≤ 16)
//   "<name>"           kind f32: the values as f32 little-endian (biases)
//
// A huffman section (stage 3 of Deep Compression), N symbols over an alphabet of A (A ≤ 2^15):
//   N = 0: 0 bytes. Otherwise:
//   table:  A code lengths, 4 bits each, symbol 0 first, packed LSB first: byte j holds symbol 2j in
//           its low nibble and 2j + 1 in its high nibble; ⌈A/2⌉ bytes (an odd A leaves the last
//           high nibble 0). Length 0 = the symbol does not occur, 1..15 = its code length.
//   codes:  canonical, as in deflate (RFC 1951 §3.2.2): code = 0; for len = 1..15: first[len] =
//           code; code = (code + count[len]) << 1; symbols sorted by (length, symbol value) take
//           consecutive codes from first[len]. The lengths must form a complete prefix code
//           (Σ 2^−len = 1), except that exactly one used symbol has length 1 and code 0.
//   stream: from the byte after the table: the N codes, each most significant bit first, in one bit
//           stream read from the least significant bit of each byte up; the unused high bits of the
//           last byte are 0 and no byte follows the one holding the last code's last bit.
//
// The file size is exactly 8 + header + Σ tensor bytes (safetensors allows no holes or trailing
// bytes); compressedSizes() splits the tensor bytes per layer. The decoder treats the file as
// hostile: every length, count, index and value is checked, and a problem throws a
// CompressedModelError (or a SafetensorsError for the container) naming the parameter and section.
import { modelParams } from '../../nn/model.js';

export const COMPRESSED_FORMAT_KEY = 'slimgpu.compressed';
/** The version written. */
export const COMPRESSED_VERSION = '3';
/** Every version read. */
export const COMPRESSED_VERSIONS_READ: readonly string[] = ['1', '2', '3'];
export const COMPRESSED_EXTENSION = '.slim.safetensors';
/** Refuse models with more parameters than this unless told otherwise (a hostile spec could ask for any size). */
export const DEFAULT_MAX_PARAMS = 100_000_000;
/** Largest relative-index entry width. */
export const MAX_INDEX_BITS = 16;

export type IndexEncoding = 'full' | 'bitmask' | 'relative' | 'rowprefix' | 'colprefix';
export type SectionCoding = 'packed' | 'huffman';

export interface SparseParamEntry {
  name: string;
  kind: 'sparse';
  shape: number[];
  kept: number;
  index: IndexEncoding;
  indexBits: number;
  indexEntries: number;
  indexCoding: SectionCoding;
  bits: number;
  codebook: number;
  valueCoding: SectionCoding;
}

export interface DenseParamEntry {
  name: string;
  kind: 'f32';
  shape: number[];
}

export type ParamEntry = SparseParamEntry | DenseParamEntry;

export const SPARSE_KEYS_V1 = ['name', 'kind', 'shape', 'kept', 'index', 'indexBits', 'indexEntries', 'bits', 'codebook'];
export const SPARSE_KEYS_V2 = [...SPARSE_KEYS_V1, 'indexCoding', 'valueCoding'];
export const DENSE_KEYS = ['name', 'kind', 'shape'];

/** The tensors of a parameter, by section. */
export const tensorNames = (param: string) => ({ index: `${param}.index`, values: `${param}.values`, codebook: `${param}.codebook`, f32: param });

export const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Bytes of `count` packed values of `width` bits. */
export const packedBytes = (count: number, width: number) => Math.ceil((count * width) / 8);

/** Bytes of a huffman section's code-length table for an alphabet of A. */
export const huffmanTableBytes = (A: number) => Math.ceil((A * 4) / 8);

/** Size rule of one section: exact bytes, or (huffman) the range a valid section can take. */
export interface SectionSize {
  tensor: string;
  what: string;
  min: number;
  max: number;
}

/** Huffman section of N symbols over A: empty when N = 0, else table + 1..15 bits per symbol. */
function huffmanRange(N: number, A: number): [number, number] {
  return N === 0 ? [0, 0] : [huffmanTableBytes(A) + packedBytes(N, 1), huffmanTableBytes(A) + packedBytes(N, 15)];
}

/** The sections of a parameter and the bytes each must (or may) hold. */
export function sectionSizes(e: ParamEntry): SectionSize[] {
  const t = tensorNames(e.name);
  const n = numel(e.shape);
  if (e.kind === 'f32') return [{ tensor: t.f32, what: 'f32 values', min: n * 4, max: n * 4 }];
  const out: SectionSize[] = [];
  if (e.index === 'full') out.push({ tensor: t.index, what: 'the full index', min: 0, max: 0 });
  else if (e.index === 'bitmask') out.push({ tensor: t.index, what: 'the bitmask index', min: packedBytes(n, 1), max: packedBytes(n, 1) });
  else if (e.indexCoding === 'packed') {
    const b = packedBytes(e.indexEntries, e.indexBits);
    out.push({ tensor: t.index, what: `the ${e.index} index (${e.indexBits}-bit packed)`, min: b, max: b });
  } else {
    const [min, max] = huffmanRange(e.indexEntries, 2 ** e.indexBits);
    out.push({ tensor: t.index, what: `the ${e.index} index (huffman over ${e.indexBits}-bit entries)`, min, max });
  }
  if (e.bits === 32) out.push({ tensor: t.values, what: 'f32 kept values', min: e.kept * 4, max: e.kept * 4 });
  else if (e.valueCoding === 'packed')
    out.push({ tensor: t.values, what: `${e.bits}-bit codebook indices`, min: packedBytes(e.kept, e.bits), max: packedBytes(e.kept, e.bits) });
  else {
    const [min, max] = huffmanRange(e.kept, e.codebook);
    out.push({ tensor: t.values, what: `huffman-coded codebook indices`, min, max });
  }
  if (e.bits !== 32) out.push({ tensor: t.codebook, what: 'the codebook', min: e.codebook * 4, max: e.codebook * 4 });
  return out;
}

/** Every parameter of a model in file order (nn/model.ts): weight then bias of each layer with weights. */
export { modelParams };
