// The codec layer: arithmetic coding of text under a model's next-byte predictions, and the .slimz
// container (above nn: it drives a model; below the faces).
export { crc32, Crc32 } from './crc32.js';
export { CodecError } from './errors.js';
export { frequencies, symbolOf, codeBits, FREQ_BITS, FREQ_TOTAL } from './frequencies.js';
export { RangeEncoder, RangeDecoder } from './rangecoder.js';
export { SlimzReader, encodeSlimz, SLIMZ_MAGIC, SLIMZ_VERSION } from './container.js';
export type { SlimzHeader, ChunkRecord, CodingSettings, WriterInfo, CodecMode } from './container.js';
export { encodeText, decodeText, Layout } from './prequential.js';
export type { CodeOptions, DecodeOptions, EncodeResult } from './prequential.js';
export type { CodecModel, CodecProgress } from './model.js';
export { compressText, decompressText } from './slimz.js';
export type { CompressOptions, Compressed, ModelBuilder } from './slimz.js';
export { GptCodecModel, checkSettings, defaultStreams, GPT_CODEC_DEFAULTS, CODEC_LIBRARY } from './gpt.js';
export { compressWithGpt, decompressWithGpt, compressCmAlone, decompressCmAlone, isCmAloneFile } from './api.js';
export type { GptCodecSettings, GptCodecOptions, GptCompressed, TwoPartReport, CodecHooks } from './gpt.js';
export * as v5 from './v5/index.js';
export { shippedResolver } from './v5/shipped.js';
export { SHIPPED_MODEL_IDS, loadShippedPredictor, loadPredictorById } from './pretrained/index.js';
export type { BytePredictor, PredictorStreams } from './predictor.js';
