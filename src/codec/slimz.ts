// Whole files: text → .slimz bytes and back, for any model behind the CodecModel interface.
import { crc32 } from './crc32.js';
import { encodeSlimz, SlimzReader, type CodecMode, type SlimzHeader, type WriterInfo } from './container.js';
import { decodeText, encodeText, type CodeOptions, type DecodeOptions, type EncodeResult } from './prequential.js';
import type { CodecModel } from './model.js';

export interface CompressOptions extends CodeOptions {
  mode: CodecMode;
  /** Settings that rebuild the model (stored in the header as they are). */
  model: Record<string, unknown>;
  writer: WriterInfo;
  /** Two-part: the compressed model, stored in the file. */
  modelSection?: Uint8Array;
}

export interface Compressed extends EncodeResult {
  bytes: Uint8Array;
  header: SlimzHeader;
}

export async function compressText(text: Uint8Array, model: CodecModel, o: CompressOptions): Promise<Compressed> {
  const r = await encodeText(text, model, o);
  const header: SlimzHeader = { mode: o.mode, length: text.length, crc32: crc32(text), model: o.model, coding: r.coding, writer: o.writer };
  return { ...r, header, bytes: encodeSlimz(header, r.records, o.modelSection) };
}

/** Builds the decoder's model from a file's header (and its model section, two-part). */
export type ModelBuilder = (header: SlimzHeader, modelSection?: Uint8Array) => Promise<CodecModel>;

/** Checks and decodes a whole .slimz file; throws a CodecError naming the chunk on any mismatch. */
export async function decompressText(
  bytes: Uint8Array,
  build: ModelBuilder,
  o: DecodeOptions = {},
): Promise<{ text: Uint8Array; header: SlimzHeader }> {
  const reader = new SlimzReader(bytes);
  const model = await build(reader.header, reader.model);
  try {
    return { text: await decodeText(reader, model, o), header: reader.header };
  } finally {
    model.dispose();
  }
}
