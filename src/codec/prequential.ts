// The coding loop shared by both accountings: prequential (code a chunk with the current model, then
// train on it — the decoder does the same and so rebuilds every model state) and two-part (a fixed
// model, stepsPerChunk = 0).
//
// Layout. The text (N bytes) is split into B = model.windows contiguous streams of S = ⌈N/B⌉ bytes
// (the last ones shorter or empty), so that one forward pass serves B streams. Each stream is coded
// in blocks of H = T/2 positions: block k covers stream positions [kH, kH+H) and is predicted by the
// window starting at s = kH − H, whose token j is the byte at s + j − 1 (the pad byte before the
// stream's start), so row j predicts position s + j and every coded byte sees between H and T − 1
// bytes of context. Symbols are coded block by block, row by row, stream by stream; the encoder
// needs one forward per block, the decoder one per row (it knows row j's tokens only after decoding
// row j − 1). A chunk is R = chunkBytes positions of every stream (R a multiple of H); after it the
// model appends the chunk's bytes (stream by stream) to its training text and trains.
//
// Checks. Each chunk record carries the CRC-32 of its bytes and a fingerprint: the CRC-32 of the
// frequency tables of rows 0..H of the chunk's first forward — rows that depend only on bytes known
// before the chunk, so the decoder computes them before decoding anything. A decoder whose adapter
// computes different numbers stops at the first chunk where they differ, before emitting a byte.
import { Crc32, crc32 } from './crc32.js';
import { codecFail } from './errors.js';
import { frequencies, codeBits, FREQ_BITS, SYMBOLS } from './frequencies.js';
import { RangeDecoder, RangeEncoder } from './rangecoder.js';
import type { ChunkRecord, CodingSettings, SlimzReader } from './container.js';
import type { CodecModel, CodecProgress } from './model.js';

export interface CodeOptions {
  /** Bytes per stream per chunk; rounded up to a multiple of T/2. */
  chunkBytes: number;
  /** Training steps after each chunk (0: a fixed model). */
  stepsPerChunk: number;
  /** The byte standing before each stream (default 10, a newline). */
  pad?: number;
  onProgress?: (p: CodecProgress) => void;
}

export interface EncodeResult {
  coding: CodingSettings;
  chunks: ChunkRecord[];
  /** Σ −log2 p over the coded bytes under the integer tables, bits. */
  bits: number;
}

/** Stream geometry shared by the encoder and the decoder. */
export class Layout {
  readonly B: number;
  readonly T: number;
  readonly H: number;
  readonly R: number;
  readonly S: number;
  readonly chunks: number;

  constructor(readonly n: number, model: Pick<CodecModel, 'windows' | 'context'>, chunkBytes: number) {
    this.B = model.windows;
    this.T = model.context;
    if (!Number.isInteger(this.B) || this.B < 1) codecFail(`model.windows must be a positive integer, got ${this.B}`);
    if (!Number.isInteger(this.T) || this.T < 2) codecFail(`model.context must be an integer ≥ 2, got ${this.T}`);
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) codecFail(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    this.H = this.T >> 1;
    this.R = Math.ceil(chunkBytes / this.H) * this.H;
    this.S = Math.ceil(n / this.B);
    this.chunks = Math.ceil(this.S / this.R);
  }

  /** Length of stream b. */
  len(b: number): number {
    return Math.max(0, Math.min(this.S, this.n - b * this.S));
  }

  /** Stream positions [from, to) of chunk c. */
  span(c: number): [number, number] {
    return [c * this.R, Math.min((c + 1) * this.R, this.S)];
  }

  /** Chunk c's bytes in coding order (stream by stream), from the text `t`. */
  chunkBytes(t: Uint8Array, c: number): Uint8Array {
    const [from, to] = this.span(c);
    const parts: Uint8Array[] = [];
    for (let b = 0; b < this.B; b++) {
      const hi = Math.min(to, this.len(b));
      if (hi > from) parts.push(t.subarray(b * this.S + from, b * this.S + hi));
    }
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Fills `tokens` (B·T) with the windows of block k from the text `t`, taking only stream positions
   * < `known` (later tokens, and those before a stream's start, get `pad`).
   */
  fillWindows(tokens: Uint32Array, t: Uint8Array, k: number, known: number, pad: number): void {
    const s = k * this.H - this.H;
    for (let b = 0; b < this.B; b++) {
      const lim = Math.min(known, this.len(b));
      const base = b * this.S;
      for (let j = 0; j < this.T; j++) {
        const p = s + j - 1;
        tokens[b * this.T + j] = p >= 0 && p < lim ? t[base + p]! : pad;
      }
    }
  }
}

function fingerprintOf(logits: Float32Array, L: Layout, cum: Uint32Array): number {
  const f = new Crc32();
  const bytes = new Uint8Array(cum.buffer, cum.byteOffset, (SYMBOLS + 1) * 4);
  for (let b = 0; b < L.B; b++) {
    for (let j = 0; j <= L.H && j < L.T; j++) {
      frequencies(logits, (b * L.T + j) * SYMBOLS, cum);
      f.update(bytes);
    }
  }
  return f.value;
}

function checkLogits(logits: Float32Array, L: Layout, rows: number): void {
  if (!(logits instanceof Float32Array) || logits.length !== L.B * rows * SYMBOLS) {
    codecFail(`model.logits must return a Float32Array of (B·${rows === 1 ? 1 : 'T'}, 256) = ${L.B * rows * SYMBOLS} values, got ${logits?.length}`);
  }
}

function settings(L: Layout, o: CodeOptions): CodingSettings {
  return { streams: L.B, context: L.T, chunkBytes: L.R, stepsPerChunk: o.stepsPerChunk, pad: o.pad ?? 10, freqBits: FREQ_BITS, chunks: L.chunks };
}

function validate(o: CodeOptions): void {
  if (!Number.isInteger(o.stepsPerChunk) || o.stepsPerChunk < 0) codecFail(`stepsPerChunk must be a non-negative integer, got ${o.stepsPerChunk}`);
  const pad = o.pad ?? 10;
  if (!Number.isInteger(pad) || pad < 0 || pad > 255) codecFail(`pad must be a byte value 0..255, got ${pad}`);
}

/** Codes `text` with `model`, training it after each chunk (stepsPerChunk > 0). */
export async function encodeText(text: Uint8Array, model: CodecModel, o: CodeOptions): Promise<EncodeResult> {
  validate(o);
  const L = new Layout(text.length, model, o.chunkBytes);
  const coding = settings(L, o);
  const tokens = new Uint32Array(L.B * L.T);
  const cum = new Uint32Array(SYMBOLS + 1);
  const chunks: ChunkRecord[] = [];
  const t0 = Date.now();
  let bits = 0, done = 0;
  for (let c = 0; c < L.chunks; c++) {
    const [from, to] = L.span(c);
    const enc = new RangeEncoder();
    let fingerprint = 0;
    for (let k = from / L.H; k * L.H < to; k++) {
      L.fillWindows(tokens, text, k, Infinity, coding.pad);
      const logits = await model.logits(tokens);
      checkLogits(logits, L, L.T);
      if (k * L.H === from) fingerprint = fingerprintOf(logits, L, cum);
      const s = k * L.H - L.H;
      for (let j = L.H; j < 2 * L.H; j++) {
        const p = s + j;
        if (p >= to) break;
        for (let b = 0; b < L.B; b++) {
          if (p >= L.len(b)) continue;
          const sym = text[b * L.S + p]!;
          frequencies(logits, (b * L.T + j) * SYMBOLS, cum);
          enc.encode(cum, sym);
          bits += codeBits(cum, sym);
          done++;
        }
      }
    }
    const raw = L.chunkBytes(text, c);
    chunks.push({ rawLength: raw.length, rawCrc: crc32(raw), fingerprint, code: enc.finish() });
    if (c + 1 < L.chunks && o.stepsPerChunk > 0) {
      await model.appendText(raw);
      await model.train(o.stepsPerChunk);
    }
    o.onProgress?.({ done, total: text.length, bits, chunk: c + 1, chunks: L.chunks, seconds: (Date.now() - t0) / 1000 });
  }
  return { coding, chunks, bits };
}

/** Default cap on a decoded text (a damaged or hostile header cannot ask for more memory). */
export const DEFAULT_MAX_TEXT_BYTES = 1 << 30;

export interface DecodeOptions {
  onProgress?: (p: CodecProgress) => void;
  /** Refuse files whose header declares a longer text (default 1 GiB). */
  maxBytes?: number;
  /** This decoder's adapter, for messages (e.g. "llvmpipe (LLVM 19, 256 bits)"). */
  adapter?: string;
}

/**
 * Decodes the chunks of `reader` with `model` (built from the header's settings), checking each
 * chunk's fingerprint before decoding it and its CRC-32 after. Returns the original bytes.
 */
export async function decodeText(reader: SlimzReader, model: CodecModel, o: DecodeOptions = {}): Promise<Uint8Array> {
  const h = reader.header, cs = h.coding;
  if (cs.freqBits !== FREQ_BITS) codecFail(`the file codes with ${cs.freqBits}-bit frequencies; this slimgpu codes with ${FREQ_BITS}`);
  if (model.windows !== cs.streams || model.context !== cs.context) {
    codecFail(`the model has ${model.windows} windows of ${model.context} tokens; the file was coded with ${cs.streams} of ${cs.context}`);
  }
  const L = new Layout(h.length, model, cs.chunkBytes);
  if (L.R !== cs.chunkBytes) codecFail(`coding.chunkBytes ${cs.chunkBytes} is not a multiple of context/2 = ${L.H}: the header is invalid`);
  if (L.chunks !== cs.chunks) codecFail(`the header's ${cs.chunks} chunks do not match its length ${h.length} (${L.chunks} expected): the header is invalid`);
  const max = o.maxBytes ?? DEFAULT_MAX_TEXT_BYTES;
  if (h.length > max) codecFail(`the header declares a text of ${h.length} bytes, more than maxBytes = ${max}; refused (raise maxBytes if the file is genuine)`);
  const out = new Uint8Array(h.length);
  const tokens = new Uint32Array(L.B * L.T);
  const cum = new Uint32Array(SYMBOLS + 1);
  const t0 = Date.now();
  const wrote = h.writer.adapter.description || h.writer.adapter.device || h.writer.adapter.vendor || 'an unnamed adapter';
  let bits = 0, done = 0;
  for (let c = 0; c < L.chunks; c++) {
    const rec = reader.readChunk();
    const [from, to] = L.span(c);
    const expect = Array.from({ length: L.B }, (_, b) => Math.max(0, Math.min(to, L.len(b)) - from)).reduce((a, x) => a + x, 0);
    if (rec.rawLength !== expect) codecFail(`chunk ${c} of ${L.chunks} says it holds ${rec.rawLength} bytes; the layout needs ${expect}: the file is damaged`);
    const dec = new RangeDecoder(rec.code, `chunk ${c} of ${L.chunks}`);
    for (let k = from / L.H; k * L.H < to; k++) {
      const s = k * L.H - L.H;
      for (let j = L.H; j < 2 * L.H; j++) {
        const p = s + j;
        if (p >= to) break;
        L.fillWindows(tokens, out, k, p, cs.pad);
        // the chunk's first pass reads every row (the fingerprint needs rows 0..H), the others one
        const first = k * L.H === from && j === L.H;
        const logits = await model.logits(tokens, first ? undefined : j);
        checkLogits(logits, L, first ? L.T : 1);
        const rowOf = (b: number) => (first ? (b * L.T + j) * SYMBOLS : b * SYMBOLS);
        if (first) {
          const fp = fingerprintOf(logits, L, cum);
          if (fp !== rec.fingerprint) {
            codecFail(`chunk ${c} of ${L.chunks}: the model's predictions differ from the encoder's (fingerprint ${fp.toString(16)} ≠ ${rec.fingerprint.toString(16)}), ` +
              `so decoding would produce garbage. The file was written by ${h.writer.library} on '${wrote}'${o.adapter ? `; this is '${o.adapter}'` : ''}: ` +
              `its arithmetic differs. Decompress on the same kind of adapter and driver (and slimgpu version) that compressed it.`);
          }
        }
        for (let b = 0; b < L.B; b++) {
          if (p >= L.len(b)) continue;
          frequencies(logits, rowOf(b), cum);
          const sym = dec.decode(cum);
          out[b * L.S + p] = sym;
          bits += codeBits(cum, sym);
          done++;
        }
      }
    }
    dec.end();
    const raw = L.chunkBytes(out, c);
    if (crc32(raw) !== rec.rawCrc) {
      codecFail(`chunk ${c} of ${L.chunks}: the decoded bytes fail their CRC-32 — the model's arithmetic on this adapter differs from the writer's ('${wrote}'), or the file is damaged`);
    }
    if (c + 1 < L.chunks && cs.stepsPerChunk > 0) {
      await model.appendText(raw);
      await model.train(cs.stepsPerChunk);
    }
    o.onProgress?.({ done, total: h.length, bits, chunk: c + 1, chunks: L.chunks, seconds: (Date.now() - t0) / 1000 });
  }
  reader.finish();
  if (crc32(out) !== h.crc32) codecFail('the decoded text fails the CRC-32 of the original');
  return out;
}
