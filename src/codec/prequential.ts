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
import { crc32 } from './crc32.js';
import { CodecError, codecFail } from './errors.js';
import { frequencies, codeBits, FREQ_BITS, SYMBOLS } from './frequencies.js';
import { RangeDecoder, RangeEncoder } from './rangecoder.js';
import { BitDecoder, BitEncoder, decodeByte, encodeByte, type CmModel } from './cm/index.js';
import type { ChunkRecord, CodingSettings, SlimzHeader, SlimzReader } from './container.js';
import type { CodecModel, CodecProgress } from './model.js';
import { checkByteOf, fingerprintOf, Layout, MIXERS, newCm, runChunk, type Mixer } from './chunk-layout.js';

export { Layout, MIXERS, RECORD_BYTES, type Mixer } from './chunk-layout.js';

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

export interface EncodeResult {
  coding: CodingSettings;
  records: ChunkRecord[];
  /** Σ −log2 p over the coded bytes under the coder's model (the mixed one with 'cm'), bits. */
  bits: number;
  /** Σ −log2 p under the model's integer tables alone (what mixer 'none' would code), bits; 0 without a model. */
  modelBits: number;
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

/** The text bytes that chunks [c0, c1) hold (what a record's rawLength must say). */
function recordLength(L: Layout, c0: number, c1: number): number {
  let expect = 0;
  for (let c = c0; c < c1; c++) {
    const [from, to] = L.span(c);
    for (let b = 0; b < L.B; b++) expect += Math.max(0, Math.min(to, L.len(b)) - from);
  }
  return expect;
}

/** What a decoder's prediction checks compare with, and name in their messages. */
interface RecordCheck {
  where: string;
  rec: ChunkRecord;
  /** The record's first chunk (the one its fingerprint covers). */
  c0: number;
  /** The writer's adapter and library. */
  wrote: string;
  library: string;
  /** This decoder's adapter. */
  adapter?: string;
  chunkChecks?: boolean;
}

/** Stops before chunk c is decoded when its first logits differ from the encoder's: the record's fingerprint (first chunk) and the chunk's check byte (codec 5). */
function checkPredictions(k: RecordCheck, L: Layout, cum: Uint32Array, c: number, logits: Float32Array): void {
  const { where, rec, c0, wrote } = k;
  if (c === c0) {
    const fp = fingerprintOf(logits, L, cum);
    if (fp !== rec.fingerprint) {
      codecFail(
        `${where}: the model's predictions differ from the encoder's (fingerprint ${fp.toString(16)} ≠ ${rec.fingerprint.toString(16)}), ` +
          `so decoding would produce garbage. The file was written by ${k.library} on '${wrote}'${k.adapter ? `; this is '${k.adapter}'` : ''}: ` +
          `its arithmetic differs. Decompress on the same kind of adapter and driver (and slimgpu version) that compressed it.`,
      );
    }
  }
  if (k.chunkChecks) {
    const kb = checkByteOf(logits),
      want = rec.checks![c - c0]!;
    if (kb !== want) {
      codecFail(
        `${where}, chunk ${c}: the model's predictions differ from the encoder's (check byte ${kb} ≠ ${want}) after ${c} training round(s), ` +
          `so decoding would produce garbage. The file was written by ${k.library} on '${wrote}'${k.adapter ? `; this is '${k.adapter}'` : ''}: ` +
          `its arithmetic differs. Prequential GPU files decode only on the same kind of adapter and driver (and slimgpu version) that compressed them.`,
      );
    }
  }
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
    const expect = recordLength(L, c0, c1);
    if (rec.rawLength !== expect) codecFail(`${where} says it holds ${rec.rawLength} bytes; the layout needs ${expect}: the file is damaged`);
    const dec = cm ? null : new RangeDecoder(rec.code, where);
    const bdec = cm ? new BitDecoder(rec.code, where) : null;
    let crc = 0,
      c = c0;
    try {
      for (; c < c1; c++) {
        await runChunk(model, L, out, c, cs.pad, (p, logits, first) => {
          if (first && logits)
            checkPredictions(
              { where, rec, c0, wrote, library: h.writer.library, adapter: o.adapter, chunkChecks: cs.chunkChecks },
              L,
              cum,
              c,
              logits,
            );
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
