// The coding loop shared by both accountings: prequential (code a chunk with the current model, then
// train on it — the decoder does the same and so rebuilds every model state) and two-part (a fixed
// model, stepsPerChunk = 0).
//
// Layout (codec 3 and 4; codec 2 had one record per chunk). The text (N bytes) is split into B = model.windows contiguous streams of
// S = ⌈N/B⌉ bytes (the last ones shorter or empty); the model decodes the B streams side by side with
// a key/value cache, one token per stream per step (nn/decode.ts KvDecoder). Each stream is coded in
// blocks of H = T/2 positions: block k covers stream positions [kH, kH+H). It starts with a prefill
// of the H tokens before it (the bytes at kH − H − 1 .. kH − 2; the pad byte before the stream's
// start and after its end) at cache positions 0..H−1; then step j = H..2H−1 feeds the byte at
// kH + j − H − 1 at position j and its logits (B, 256) predict position kH + j − H, so every coded
// byte sees between H + 1 and T tokens of context, and every block starts with caches computed by
// the current weights. Symbols are coded position by position, stream by stream. The encoder and
// the decoder run exactly the same passes on the same tokens (the decoder knows position p − 1 of
// every stream before step p), so they compute the same logits bit for bit without any causality
// assumption about a padded window. A chunk is R = chunkBytes positions of every stream (R a
// multiple of H); after it the model appends the chunk's bytes (stream by stream) to its training
// text and trains. A record (what the container stores, with its own code, CRC-32 and fingerprint)
// holds K = chunksPerRecord consecutive chunks, coded by one arithmetic coder: K is chosen so a record
// covers about recordBytes (64 KiB) of the text, so a 1 MB file has ~16 records, not hundreds of
// 24-byte record headers and coder flushes.
//
// Checks. Each record carries the CRC-32 of its bytes and a fingerprint: the CRC-32 of the
// frequency tables of its first step (all B streams) — which depend only on bytes known before the
// record, so the decoder computes them before decoding anything. A decoder whose adapter computes
// different numbers stops at the first record where they differ, before emitting a byte of it.
// Codec 5 adds a check byte per chunk (coding.chunkChecks): the low byte of the CRC-32 of the raw
// float bits of the chunk's first logits (B, 256) — computed after the training round before it —
// so a model whose training arithmetic differs (another adapter) stops within one chunk, not at the
// end of a 64 KiB record (codec 4: 4.5 minutes of garbage on SwiftShader before the CRC caught it).
import { Crc32, crc32 } from './crc32.js';
import { CodecError, codecFail } from './errors.js';
import { frequencies, codeBits, FREQ_BITS, SYMBOLS } from './frequencies.js';
import { RangeDecoder, RangeEncoder } from './rangecoder.js';
import { BitDecoder, BitEncoder, CmModel, decodeByte, encodeByte } from './cm/index.js';
import type { ChunkRecord, CodingSettings, SlimzHeader, SlimzReader } from './container.js';
import type { CodecModel, CodecProgress } from './model.js';

export interface CodeOptions {
  /** Bytes per stream per chunk (between training rounds); rounded up to a multiple of T/2. */
  chunkBytes: number;
  /** Bytes of the text per container record, about (default RECORD_BYTES); 1: one record per chunk. */
  recordBytes?: number;
  /** Training steps after each chunk (0: a fixed model). */
  stepsPerChunk: number;
  /** The byte standing before each stream (default 10, a newline). */
  pad?: number;
  /**
   * 'none': the range coder codes each byte under the model's table. 'cm': the context-mixing model
   * (cm/) codes each byte bit by bit with the model's table as one of its mixer inputs (with a
   * model whose `none` is true: CM alone). Default 'none'.
   */
  mixer?: Mixer;
  /** CM: log2 of each hashed table's bytes (default 22). */
  cmMemoryLog2?: number;
  onProgress?: (p: CodecProgress) => void;
}

export type Mixer = 'none' | 'cm';
/** Default text bytes per record: records = ⌈chunks / ⌈RECORD_BYTES / (B·R)⌉⌉. */
export const RECORD_BYTES = 65536;
export const MIXERS: readonly Mixer[] = ['none', 'cm'];

export interface EncodeResult {
  coding: CodingSettings;
  records: ChunkRecord[];
  /** Σ −log2 p over the coded bytes under the coder's model (the mixed one with 'cm'), bits. */
  bits: number;
  /** Σ −log2 p under the model's integer tables alone (what mixer 'none' would code), bits; 0 without a model. */
  modelBits: number;
}

/** Stream geometry shared by the encoder and the decoder. */
export class Layout {
  readonly B: number;
  readonly T: number;
  readonly H: number;
  readonly R: number;
  readonly S: number;
  readonly chunks: number;
  /** K: chunks per record, and the number of records. */
  readonly K: number;
  readonly records: number;

  /** chunksPerRecord: K as stored in a header, or computed from recordBytes (text bytes per record). */
  constructor(
    readonly n: number,
    model: Pick<CodecModel, 'windows' | 'context'>,
    chunkBytes: number,
    per: { recordBytes?: number; chunksPerRecord?: number } = {},
  ) {
    this.B = model.windows;
    this.T = model.context;
    if (!Number.isInteger(this.B) || this.B < 1) codecFail(`model.windows must be a positive integer, got ${this.B}`);
    if (!Number.isInteger(this.T) || this.T < 2) codecFail(`model.context must be an integer ≥ 2, got ${this.T}`);
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) codecFail(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    this.H = this.T >> 1;
    this.R = Math.ceil(chunkBytes / this.H) * this.H;
    this.S = Math.ceil(n / this.B);
    this.chunks = Math.ceil(this.S / this.R);
    const rb = per.recordBytes ?? RECORD_BYTES;
    if (!Number.isInteger(rb) || rb < 1) codecFail(`recordBytes must be a positive integer, got ${rb}`);
    this.K = per.chunksPerRecord ?? Math.max(1, Math.ceil(rb / (this.B * this.R)));
    if (!Number.isInteger(this.K) || this.K < 1) codecFail(`chunksPerRecord must be a positive integer, got ${this.K}`);
    this.records = Math.ceil(this.chunks / this.K);
  }

  /** Chunks [from, to) of record r. */
  recordSpan(r: number): [number, number] {
    return [r * this.K, Math.min((r + 1) * this.K, this.chunks)];
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

  /** The token of stream b at position q: its byte when 0 ≤ q < len(b) and q < known, else the pad byte. */
  private tok(t: Uint8Array, b: number, q: number, known: number, pad: number): number {
    return q >= 0 && q < known && q < this.len(b) ? t[b * this.S + q]! : pad;
  }

  /** Fills `tokens` (B·H, stream-major) with the prefill of block k: stream positions kH − H − 1 .. kH − 2. */
  fillPrefill(tokens: Uint32Array, t: Uint8Array, k: number, pad: number): void {
    const s = k * this.H - this.H - 1;
    for (let b = 0; b < this.B; b++) for (let j = 0; j < this.H; j++) tokens[b * this.H + j] = this.tok(t, b, s + j, Infinity, pad);
  }

  /** Fills `tokens` (B) with the step that predicts stream position p: the bytes at p − 1. */
  fillStep(tokens: Uint32Array, t: Uint8Array, p: number, pad: number): void {
    for (let b = 0; b < this.B; b++) tokens[b] = this.tok(t, b, p - 1, p, pad);
  }
}

function fingerprintOf(logits: Float32Array, L: Layout, cum: Uint32Array): number {
  const f = new Crc32();
  const bytes = new Uint8Array(cum.buffer, cum.byteOffset, (SYMBOLS + 1) * 4);
  for (let b = 0; b < L.B; b++) {
    frequencies(logits, b * SYMBOLS, cum);
    f.update(bytes);
  }
  return f.value;
}

/** The chunk check byte: low byte of the CRC-32 of the logits' raw bits (any difference shows, 255 times in 256). */
function checkByteOf(logits: Float32Array): number {
  return crc32(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength)) & 255;
}

function checkLogits(logits: Float32Array, L: Layout): void {
  if (!(logits instanceof Float32Array) || logits.length !== L.B * SYMBOLS) {
    codecFail(`model.step must return a Float32Array of (B, 256) = ${L.B * SYMBOLS} values, got ${logits?.length}`);
  }
}

/**
 * Runs the passes of chunk c, identically on both sides: for each block a prefill, then one step per
 * position; `code(p, logits)` codes (or decodes) position p of every stream and may write `text`.
 */
async function runChunk(
  model: CodecModel,
  L: Layout,
  text: Uint8Array,
  c: number,
  pad: number,
  code: (p: number, logits: Float32Array | null, first: boolean) => void,
): Promise<void> {
  const [from, to] = L.span(c);
  if (model.none) {
    for (let p = from; p < to; p++) code(p, null, p === from);
    return;
  }
  const pre = new Uint32Array(L.B * L.H),
    step = new Uint32Array(L.B);
  for (let k = from / L.H; k * L.H < to; k++) {
    L.fillPrefill(pre, text, k, pad);
    await model.prefill(pre);
    for (let p = k * L.H; p < Math.min(to, (k + 1) * L.H); p++) {
      L.fillStep(step, text, p, pad);
      const logits = await model.step(step);
      checkLogits(logits, L);
      code(p, logits, p === from);
    }
  }
}

function settings(L: Layout, o: CodeOptions, none: boolean): CodingSettings {
  const cm = o.mixer === 'cm' ? { mixer: 'cm' as const, cmMemoryLog2: o.cmMemoryLog2 ?? 22 } : {};
  return {
    streams: L.B,
    context: L.T,
    chunkBytes: L.R,
    stepsPerChunk: o.stepsPerChunk,
    pad: o.pad ?? 10,
    freqBits: FREQ_BITS,
    chunks: L.chunks,
    chunksPerRecord: L.K,
    records: L.records,
    ...cm,
    ...(none ? {} : { chunkChecks: true }),
  };
}

function validate(o: CodeOptions, model: CodecModel): void {
  if (o.mixer !== undefined && !MIXERS.includes(o.mixer)) codecFail(`mixer must be one of ${MIXERS.join(', ')}, got ${JSON.stringify(o.mixer)}`);
  if (model.none && o.mixer !== 'cm') codecFail("a model without predictions (none) needs mixer 'cm' (CM alone)");
  const mem = o.cmMemoryLog2 ?? 22;
  if (!Number.isInteger(mem) || mem < 16 || mem > 28) codecFail(`cmMemoryLog2 must be an integer in [16, 28], got ${mem}`);
  if (!Number.isInteger(o.stepsPerChunk) || o.stepsPerChunk < 0) codecFail(`stepsPerChunk must be a non-negative integer, got ${o.stepsPerChunk}`);
  const pad = o.pad ?? 10;
  if (!Number.isInteger(pad) || pad < 0 || pad > 255) codecFail(`pad must be a byte value 0..255, got ${pad}`);
}

/** One byte's coder: the range coder under the model's table, or the CM model mixing it in. */
interface ByteCoder {
  cm: CmModel | null;
}

function newCm(L: Layout, cs: CodingSettings): CmModel | null {
  return cs.mixer === 'cm' ? new CmModel(L.B, { memoryLog2: cs.cmMemoryLog2 ?? 22 }) : null;
}

/** Codes `text` with `model`, training it after each chunk (stepsPerChunk > 0). */
export async function encodeText(text: Uint8Array, model: CodecModel, o: CodeOptions): Promise<EncodeResult> {
  validate(o, model);
  const L = new Layout(text.length, model, o.chunkBytes, { recordBytes: o.recordBytes });
  const coding = settings(L, o, !!model.none);
  const cum = new Uint32Array(SYMBOLS + 1);
  const records: ChunkRecord[] = [];
  const t0 = Date.now();
  const { cm }: ByteCoder = { cm: newCm(L, coding) };
  let bits = 0,
    modelBits = 0,
    done = 0;
  for (let r = 0; r < L.records; r++) {
    const enc = cm ? null : new RangeEncoder();
    const benc = cm ? new BitEncoder() : null;
    const [c0, c1] = L.recordSpan(r);
    let fingerprint = 0;
    const raws: Uint8Array[] = [];
    const checks = coding.chunkChecks ? new Uint8Array(c1 - c0) : undefined;
    for (let c = c0; c < c1; c++) {
      await runChunk(model, L, text, c, coding.pad, (p, logits, first) => {
        if (first && c === c0 && logits) fingerprint = fingerprintOf(logits, L, cum);
        if (first && checks && logits) checks[c - c0] = checkByteOf(logits);
        for (let b = 0; b < L.B; b++) {
          if (p >= L.len(b)) continue;
          const sym = text[b * L.S + p]!;
          if (logits) {
            frequencies(logits, b * SYMBOLS, cum);
            modelBits += codeBits(cum, sym);
          }
          if (cm) bits += encodeByte(cm, benc!, b, sym, logits ? cum : null);
          else {
            enc!.encode(cum, sym);
            bits += codeBits(cum, sym);
          }
          done++;
        }
      });
      const raw = L.chunkBytes(text, c);
      raws.push(raw);
      if (c + 1 < L.chunks && o.stepsPerChunk > 0 && !model.none) {
        await model.appendText(raw);
        await model.train(o.stepsPerChunk);
      }
      o.onProgress?.({ done, total: text.length, bits, chunk: c + 1, chunks: L.chunks, seconds: (Date.now() - t0) / 1000 });
    }
    const crc = raws.reduce((h, raw) => crc32(raw, h), 0);
    records.push({
      rawLength: raws.reduce((a, raw) => a + raw.length, 0),
      rawCrc: crc,
      fingerprint,
      ...(checks ? { checks } : {}),
      code: cm ? benc!.finish() : enc!.finish(),
    });
  }
  return { coding, records, bits, modelBits };
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

/** Checks the header against this build and the model (frequency bits, geometry, chunk layout, size limit, mixer); returns the layout. */
function decodeLayout(h: SlimzHeader, model: CodecModel, o: DecodeOptions): Layout {
  const cs = h.coding;
  if (cs.freqBits !== FREQ_BITS) codecFail(`the file codes with ${cs.freqBits}-bit frequencies; this slimgpu codes with ${FREQ_BITS}`);
  if (model.windows !== cs.streams || model.context !== cs.context) {
    codecFail(`the model has ${model.windows} windows of ${model.context} tokens; the file was coded with ${cs.streams} of ${cs.context}`);
  }
  const L = new Layout(h.length, model, cs.chunkBytes, { chunksPerRecord: cs.chunksPerRecord });
  if (L.R !== cs.chunkBytes) codecFail(`coding.chunkBytes ${cs.chunkBytes} is not a multiple of context/2 = ${L.H}: the header is invalid`);
  if (L.chunks !== cs.chunks || L.records !== cs.records) {
    codecFail(
      `the header's ${cs.chunks} chunks in ${cs.records} records do not match its length ${h.length} (${L.chunks} chunks in ${L.records} records expected): the header is invalid`,
    );
  }
  const max = o.maxBytes ?? DEFAULT_MAX_TEXT_BYTES;
  if (h.length > max)
    codecFail(`the header declares a text of ${h.length} bytes, more than maxBytes = ${max}; refused (raise maxBytes if the file is genuine)`);
  if (cs.mixer !== undefined && !MIXERS.includes(cs.mixer))
    codecFail(`the file's coding.mixer ${JSON.stringify(cs.mixer)} is not one this slimgpu knows (${MIXERS.join(', ')})`);
  if (model.none && cs.mixer !== 'cm') codecFail('the file has no model and no CM mixer: the header is invalid');
  return L;
}

/**
 * Decodes the chunks of `reader` with `model` (built from the header's settings), checking each
 * chunk's fingerprint before decoding it and its CRC-32 after. Returns the original bytes.
 */
export async function decodeText(reader: SlimzReader, model: CodecModel, o: DecodeOptions = {}): Promise<Uint8Array> {
  const h = reader.header,
    cs = h.coding;
  const L = decodeLayout(h, model, o);
  const cm = newCm(L, cs);
  const out = new Uint8Array(h.length);
  const cum = new Uint32Array(SYMBOLS + 1);
  const t0 = Date.now();
  const wrote = h.writer.adapter.description || h.writer.adapter.device || h.writer.adapter.vendor || 'an unnamed adapter';
  let bits = 0,
    done = 0;
  for (let r = 0; r < L.records; r++) {
    const [c0, c1] = L.recordSpan(r);
    const rec = reader.readChunk(c1 - c0);
    const where = `record ${r} of ${L.records}`;
    let expect = 0;
    for (let c = c0; c < c1; c++) {
      const [from, to] = L.span(c);
      for (let b = 0; b < L.B; b++) expect += Math.max(0, Math.min(to, L.len(b)) - from);
    }
    if (rec.rawLength !== expect) codecFail(`${where} says it holds ${rec.rawLength} bytes; the layout needs ${expect}: the file is damaged`);
    const dec = cm ? null : new RangeDecoder(rec.code, where);
    const bdec = cm ? new BitDecoder(rec.code, where) : null;
    let crc = 0,
      c = c0;
    try {
      for (; c < c1; c++) {
        await runChunk(model, L, out, c, cs.pad, (p, logits, first) => {
          if (first && c === c0 && logits) {
            const fp = fingerprintOf(logits, L, cum);
            if (fp !== rec.fingerprint) {
              codecFail(
                `${where}: the model's predictions differ from the encoder's (fingerprint ${fp.toString(16)} ≠ ${rec.fingerprint.toString(16)}), ` +
                  `so decoding would produce garbage. The file was written by ${h.writer.library} on '${wrote}'${o.adapter ? `; this is '${o.adapter}'` : ''}: ` +
                  `its arithmetic differs. Decompress on the same kind of adapter and driver (and slimgpu version) that compressed it.`,
              );
            }
          }
          if (first && logits && cs.chunkChecks) {
            const k = checkByteOf(logits),
              want = rec.checks![c - c0]!;
            if (k !== want) {
              codecFail(
                `${where}, chunk ${c}: the model's predictions differ from the encoder's (check byte ${k} ≠ ${want}) after ${c} training round(s), ` +
                  `so decoding would produce garbage. The file was written by ${h.writer.library} on '${wrote}'${o.adapter ? `; this is '${o.adapter}'` : ''}: ` +
                  `its arithmetic differs. Prequential GPU files decode only on the same kind of adapter and driver (and slimgpu version) that compressed them.`,
              );
            }
          }
          for (let b = 0; b < L.B; b++) {
            if (p >= L.len(b)) continue;
            if (logits) frequencies(logits, b * SYMBOLS, cum);
            const sym = cm ? decodeByte(cm, bdec!, b, logits ? cum : null) : dec!.decode(cum);
            out[b * L.S + p] = sym;
            if (!cm) bits += codeBits(cum, sym);
            done++;
          }
        });
        const raw = L.chunkBytes(out, c);
        crc = crc32(raw, crc);
        if (c === c1 - 1) {
          dec?.end();
          bdec?.end();
          if (cm) bits += 8 * rec.code.length; // the CM decoder reports the code it read (no per-byte ideal lengths)
          if (crc !== rec.rawCrc) {
            codecFail(
              `${where}: the decoded bytes fail their CRC-32 — the model's arithmetic on this adapter differs from the writer's ('${wrote}'), or the file is damaged`,
            );
          }
        }
        if (c + 1 < L.chunks && cs.stepsPerChunk > 0 && !model.none) {
          await model.appendText(raw);
          await model.train(cs.stepsPerChunk);
        }
        o.onProgress?.({ done, total: h.length, bits, chunk: c + 1, chunks: L.chunks, seconds: (Date.now() - t0) / 1000 });
      }
    } catch (e) {
      // past a record's first chunk nothing fingerprints the model: a failure there may be either cause
      if (e instanceof CodecError && c > c0 && !model.none && !/arithmetic differs|adapter differs/.test(e.message)) {
        throw new CodecError(
          `${e.message} (at chunk ${c} of the record's ${c0}..${c1 - 1}: the file is damaged, or the model's arithmetic on this adapter differs from the writer's ('${wrote}'))`,
        );
      }
      throw e;
    }
  }
  reader.finish();
  if (crc32(out) !== h.crc32) codecFail('the decoded text fails the CRC-32 of the original');
  return out;
}
