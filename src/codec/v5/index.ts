// .slimz codec version 5, modes 'none' (the CM alone) and 'predictor' (a fixed pretrained byte model
// mixed into the CM): whole buffers (compressBytes / decompressBytes) and streams of pieces
// (encodeStream / decodeStream: at most one record in memory, for the CLI and large files).
//
// Framing. An input of at most recordBytes (1 MiB) is written 'single': the header (header.ts, with
// the length and CRC-32) and then the code, to the end of the file. A longer input is written in
// 'records', each
//     varint raw length (≥ 1) · varint code length · code · u32 CRC-32 of the raw bytes (LE)
// and after the last one an end mark
//     varint 0 · varint total length · u32 CRC-32 of the whole original (LE)
// — so it can be written while it is read (stdin to stdout) and each record is checked before its
// bytes are handed out.
import { crc32 } from '../crc32.js';
import { CodecError, codecFail } from '../errors.js';
import type { CodecProgress } from '../model.js';
import type { BytePredictor } from '../predictor.js';
import { ByteSource } from './bytes.js';
import { memoryFor, RecordCoder } from './coder.js';
import { encodeV5Header, idPrefix, readV5Header, readVarint, varint, V6_VERSION, type BinaryVersion, type V5Header } from './header.js';

export { isV5, V5_MAGIC, V5_VERSION, V6_VERSION, readV5Header, encodeV5Header, idPrefix, varint } from './header.js';
export type { BinaryVersion, V5Header, V5Kind } from './header.js';
export { ByteSource } from './bytes.js';
export { RecordCoder, memoryFor } from './coder.js';

/** Raw bytes per record (the most any side holds at once), and the most a reader accepts. */
export const RECORD_BYTES = 1 << 20;
export const MAX_RECORD_BYTES = 1 << 24;
export const MAX_STREAMS = 16;
/** Default cap on a decoded single-record text (a hostile header cannot ask for more memory). */
export const DEFAULT_MAX_BYTES = 1 << 30;
/**
 * Most text bytes one code byte can stand for: the CM codes a bit with p ≤ 65520/65536 (≥ 0.00035
 * bits), so a byte costs ≥ 0.0028 bits — at most ~2,850 bytes per code byte. A header or record
 * claiming more is damaged (and cannot make the decoder allocate 4,096× the file).
 */
const MAX_EXPANSION = 4096;

/** Finds the model a file names: gets the 16 hex digits the header stores, returns a predictor whose id starts with them. */
export type PredictorResolver = (idPrefix: string) => Promise<BytePredictor>;

export interface V5EncodeOptions {
  /** Interleaved streams (a power of two ≤ 2^15); default: defaultStreams(). */
  streams?: number;
  recordBytes?: number;
  onProgress?: (p: CodecProgress) => void;
  /** The codec version to write: 6 (default) or 5 (what slimgpu wrote before codec 6; the golden files). */
  version?: BinaryVersion;
}

export interface V5Stats {
  /** Bytes of the original, Σ −log2 p under the mixed model and under the predictor alone, output bytes. */
  inBytes: number;
  bits: number;
  modelBits: number;
  outBytes: number;
  header?: V5Header;
}

/**
 * Streams per record: 1 for the CM alone (its best geometry), for a predictor that is not batched
 * (the CPU path: a stream costs compression and saves nothing) and for inputs under 128 KiB; with a
 * batched predictor (the GPU path), larger inputs get up to 16 (one predictor call serves every
 * stream: a GPU's batch), each at least 64 KiB long. Unknown length (a stream longer than one
 * record): 16. Measured with the order-2 double on 256 KiB of the KJV: 1 stream 1.5188 bits/byte,
 * 4 streams 1.5358 (+1.1%), 16 streams 1.5543 (+2.3%) — the price of 16× fewer predictor calls.
 * `batchedPredictor`: the predictor is present and BytePredictor.batched.
 */
export function defaultStreams(length: number | undefined, batchedPredictor: boolean): number {
  if (!batchedPredictor) return 1;
  const n = length === undefined ? MAX_STREAMS : Math.floor(length / 65536);
  let k = 1;
  while (k * 2 <= Math.min(n, MAX_STREAMS)) k *= 2;
  return k;
}

function u32(v: number): Uint8Array {
  return Uint8Array.of(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
}

function kindOf(p: BytePredictor | null): Pick<V5Header, 'kind' | 'modelId'> {
  return p ? { kind: 'predictor', modelId: idPrefix(p.id) } : { kind: 'none' };
}

/** Encodes the pieces of `source` into .slimz v5 pieces; `stats` (if given) is filled as it goes. */
export async function* encodeStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  predictor: BytePredictor | null,
  o: V5EncodeOptions = {},
  stats: V5Stats = { inBytes: 0, bits: 0, modelBits: 0, outBytes: 0 },
): AsyncGenerator<Uint8Array> {
  const rb = o.recordBytes ?? RECORD_BYTES;
  if (!Number.isInteger(rb) || rb < 1 || rb > MAX_RECORD_BYTES) codecFail(`recordBytes must be an integer in [1, ${MAX_RECORD_BYTES}], got ${rb}`);
  const src = new ByteSource(source);
  const t0 = Date.now();
  let first = await src.upTo(rb + 1);
  const single = first.length <= rb;
  const streams = o.streams ?? defaultStreams(single ? first.length : undefined, predictor?.batched === true);
  const version = o.version ?? V6_VERSION;
  const header: V5Header = {
    version,
    ...kindOf(predictor),
    records: !single,
    streams,
    ...(single ? { length: first.length, crc32: crc32(first) } : {}),
  };
  const head = encodeV5Header(header);
  stats.header = header;
  const coder = await RecordCoder.open(streams, predictor, memoryFor(single ? first.length : undefined), version);
  const out = (b: Uint8Array) => {
    stats.outBytes += b.length;
    return b;
  };
  const progress = (chunk: number, chunks: number) =>
    o.onProgress?.({
      done: stats.inBytes,
      total: single ? first.length : stats.inBytes,
      bits: coder.bits,
      chunk,
      chunks,
      seconds: (Date.now() - t0) / 1000,
    });
  try {
    yield out(head);
    if (single) {
      const code = await coder.encode(first);
      stats.inBytes = first.length;
      stats.bits = coder.bits;
      stats.modelBits = coder.modelBits;
      progress(1, 1);
      yield out(code);
      return;
    }
    let total = 0,
      crc = 0,
      r = 0;
    let raw = first.subarray(0, rb);
    let carry = first.subarray(rb);
    first = new Uint8Array(0);
    for (;;) {
      const code = await coder.encode(raw);
      total += raw.length;
      crc = crc32(raw, crc);
      stats.inBytes = total;
      stats.bits = coder.bits;
      stats.modelBits = coder.modelBits;
      progress(++r, r);
      yield out(Uint8Array.from([...varint(raw.length), ...varint(code.length)]));
      yield out(code);
      yield out(u32(crc32(raw)));
      const more = await src.upTo(rb - carry.length);
      if (carry.length + more.length === 0) break;
      raw = new Uint8Array(carry.length + more.length);
      raw.set(carry);
      raw.set(more, carry.length);
      carry = new Uint8Array(0);
    }
    yield out(Uint8Array.from([0, ...varint(total), ...u32(crc)]));
  } finally {
    coder.dispose();
  }
}

export interface V5DecodeOptions {
  /** Refuse a single-record file whose header declares a longer text (default 1 GiB). */
  maxBytes?: number;
  onProgress?: (p: CodecProgress) => void;
  /** Called once the header is read (before any model is loaded). */
  onHeader?: (h: V5Header) => void;
}

async function predictorFor(h: V5Header, resolve: PredictorResolver | null): Promise<BytePredictor | null> {
  if (h.kind === 'none') return null;
  if (!resolve) codecFail(`this file was coded with pretrained model ${h.modelId}…, and no model resolver was given`);
  const p = await resolve(h.modelId!);
  if (!p || typeof p.id !== 'string' || !p.id.startsWith(h.modelId!)) {
    codecFail(`this file was coded with pretrained model ${h.modelId}…; the resolver returned model ${p?.id ?? String(p)}`);
  }
  return p;
}

/** Decodes .slimz v5 pieces into the original's pieces, each checked (CRC-32) before it is yielded. */
export async function* decodeStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  resolve: PredictorResolver | null,
  o: V5DecodeOptions = {},
): AsyncGenerator<Uint8Array> {
  const src = new ByteSource(source);
  const h = await readV5Header(src);
  o.onHeader?.(h);
  const max = o.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!h.records && h.length! > MAX_RECORD_BYTES)
    codecFail(
      `the header declares a single-record text of ${h.length} bytes; a single record holds at most ${MAX_RECORD_BYTES}: the file is damaged`,
    );
  if (!h.records && h.length! > max)
    codecFail(`the header declares a text of ${h.length} bytes, more than maxBytes = ${max}; refused (raise maxBytes if the file is genuine)`);
  const predictor = await predictorFor(h, resolve);
  const coder = await RecordCoder.open(h.streams, predictor, memoryFor(h.records ? undefined : h.length), h.version ?? 5);
  const t0 = Date.now();
  try {
    if (!h.records) {
      const code = await src.rest(16 * h.length! + 8, 'the code');
      if (h.length! > MAX_EXPANSION * (code.length + 8))
        codecFail(`the header declares ${h.length} bytes, more than a code of ${code.length} bytes can hold: the file is damaged or truncated`);
      const text = await coder.decode(code, h.length!, 'the code');
      if (crc32(text) !== h.crc32)
        codecFail("the decoded text fails the CRC-32 of the original: the file is damaged (or the model differs from the encoder's)");
      o.onProgress?.({ done: text.length, total: text.length, bits: 8 * code.length, chunk: 1, chunks: 1, seconds: (Date.now() - t0) / 1000 });
      yield text;
      return;
    }
    let total = 0,
      crc = 0,
      codeBytes = 0;
    for (let r = 0; ; r++) {
      const where = `record ${r}`;
      const len = await readVarint(src, `${where}'s length`);
      if (len === 0) break;
      if (len > MAX_RECORD_BYTES) codecFail(`${where} declares ${len} bytes, more than a record can hold (${MAX_RECORD_BYTES}): the file is damaged`);
      if (total + len > max) codecFail(`the file decodes to more than maxBytes = ${max} bytes; refused (raise maxBytes if the file is genuine)`);
      const clen = await readVarint(src, `${where}'s code length`);
      if (clen > 16 * len + 8 || len > MAX_EXPANSION * (clen + 8))
        codecFail(`${where}'s code length ${clen} is implausible for ${len} bytes: the file is damaged`);
      const code = await src.exact(clen, `${where}'s code`);
      const check = await src.exact(4, `${where}'s CRC-32`);
      const raw = await coder.decode(code, len, where);
      if (crc32(raw) !== (check[0]! | (check[1]! << 8) | (check[2]! << 16) | (check[3]! << 24)) >>> 0) {
        codecFail(`${where}: the decoded bytes fail their CRC-32 — the file is damaged (or the model differs from the encoder's)`);
      }
      total += len;
      codeBytes += clen;
      crc = crc32(raw, crc);
      o.onProgress?.({ done: total, total, bits: 8 * codeBytes, chunk: r + 1, chunks: r + 1, seconds: (Date.now() - t0) / 1000 });
      yield raw;
    }
    const n = await readVarint(src, 'the end mark (total length)');
    const c = await src.exact(4, 'the end mark (CRC-32)');
    if (n !== total) codecFail(`the end mark counts ${n} bytes, the records ${total}: the file is damaged`);
    if ((c[0]! | (c[1]! << 8) | (c[2]! << 16) | (c[3]! << 24)) >>> 0 !== crc)
      codecFail('the decoded text fails the CRC-32 of the original: the file is damaged');
    if (!(await src.atEnd())) codecFail('unexpected bytes after the end of the .slimz data');
  } finally {
    coder.dispose();
  }
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of it) {
    parts.push(p);
    n += p.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface V5Compressed extends V5Stats {
  bytes: Uint8Array;
  header: V5Header;
}

/** Compresses a whole buffer (CM alone when `predictor` is null). */
export async function compressBytes(text: Uint8Array, predictor: BytePredictor | null, o: V5EncodeOptions = {}): Promise<V5Compressed> {
  const stats: V5Stats = { inBytes: 0, bits: 0, modelBits: 0, outBytes: 0 };
  const bytes = await collect(encodeStream([text], predictor, o, stats));
  return { ...stats, bytes, header: stats.header! };
}

/** Decompresses a whole v5 buffer; `resolve` finds the model a predictor file names (null: CM-alone files only). */
export async function decompressBytes(
  bytes: Uint8Array,
  resolve: PredictorResolver | null,
  o: V5DecodeOptions = {},
): Promise<{ text: Uint8Array; header: V5Header }> {
  let header: V5Header | undefined;
  const text = await collect(
    decodeStream([bytes], resolve, {
      ...o,
      onHeader: (h) => {
        header = h;
        o.onHeader?.(h);
      },
    }),
  );
  return { text, header: header! };
}

export { CodecError };
