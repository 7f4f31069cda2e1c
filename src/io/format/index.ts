// The compressed model format (.slim.safetensors): byte layout, entropy coder, encoder, decoder, sizes.
export * from './layout.js';
export { CompressedModelError } from './errors.js';
export {
  HUFFMAN_MAX_ALPHABET,
  HUFFMAN_MAX_LENGTH,
  histogram,
  huffmanDecode,
  huffmanEncode,
  huffmanLengths,
  huffmanSectionBytes,
  readHuffmanTable,
} from './huffman.js';
export {
  chooseIndex,
  chooseValues,
  decodeBitmask,
  decodeRelative,
  decodeRelativeHuffman,
  encodeBitmask,
  encodeRelative,
  packBits,
  positionsFromRelative,
  relativeEntries,
  relativeSymbols,
  unpackBits,
} from './sparse.js';
export type { ChosenIndex } from './sparse.js';
export { encodeCompressed, f32Bytes, serializeCompressed } from './encode.js';
export type { CompressInput, EncodeOptions } from './encode.js';
export { decodeCompressed, decodeSparse, readStructure } from './decode.js';
export type { DecodedModel, DecodedParam, DecodedSparse, DecodeOptions, Structure } from './decode.js';
export { COMPACT_TENSOR } from './compact.js';
export { compressedSizes } from './sizes.js';
export { compressInputOfFile, convertCompressed } from './convert.js';
export type { CompressedLayerSize, CompressedSizes } from './sizes.js';
