// The stream layout of the prequential coder (codec/prequential.ts), shared by its encoder and its
// decoder: the geometry of streams, blocks, chunks and records, the passes of one chunk, and the
// fingerprint and check byte that tell a decoder its model predicts what the encoder's did.
import { Crc32, crc32 } from './crc32.js';
import { codecFail } from './errors.js';
import { frequencies, SYMBOLS } from './frequencies.js';
import { CmModel } from './cm/index.js';
import type { CodingSettings } from './container.js';
import type { CodecModel } from './model.js';

export type Mixer = 'none' | 'cm';
/** Default text bytes per record: records = ⌈chunks / ⌈RECORD_BYTES / (B·R)⌉⌉. */
export const RECORD_BYTES = 65536;
export const MIXERS: readonly Mixer[] = ['none', 'cm'];

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

export function fingerprintOf(logits: Float32Array, L: Layout, cum: Uint32Array): number {
  const f = new Crc32();
  const bytes = new Uint8Array(cum.buffer, cum.byteOffset, (SYMBOLS + 1) * 4);
  for (let b = 0; b < L.B; b++) {
    frequencies(logits, b * SYMBOLS, cum);
    f.update(bytes);
  }
  return f.value;
}

/** The chunk check byte: low byte of the CRC-32 of the logits' raw bits (any difference shows, 255 times in 256). */
export function checkByteOf(logits: Float32Array): number {
  return crc32(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength)) & 255;
}

export function checkLogits(logits: Float32Array, L: Layout): void {
  if (!(logits instanceof Float32Array) || logits.length !== L.B * SYMBOLS) {
    codecFail(`model.step must return a Float32Array of (B, 256) = ${L.B * SYMBOLS} values, got ${logits?.length}`);
  }
}

/**
 * Runs the passes of chunk c, identically on both sides: for each block a prefill, then one step per
 * position; `code(p, logits)` codes (or decodes) position p of every stream and may write `text`.
 */
export async function runChunk(
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

export function newCm(L: Layout, cs: CodingSettings): CmModel | null {
  return cs.mixer === 'cm' ? new CmModel(L.B, { memoryLog2: cs.cmMemoryLog2 ?? 22 }) : null;
}
