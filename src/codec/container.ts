// The .slimz container: everything needed to rebuild the model and check each step of decoding.
//
//   offset  size  field
//   0       8     magic "SLIMZ\r\n\x1a" (the \r\n and ^Z catch text-mode transfers, as PNG's do)
//   8       2     version (u16 LE), 5 (the codec's version: 1 = windowed full forwards, the decoder
//                 one per row; 2 = key/value-cached steps, one record per chunk; 3 = records of
//                 several chunks; 4 = the CM with per-stream contexts, see prequential.ts and cm/;
//                 5 = per-chunk check bytes when coding.chunkChecks — this JSON framing is v5's for
//                 the GPU modes (prequential GPT, two-part); v5's CM-alone and pretrained modes use
//                 the binary header of v5/header.ts. Version 4 files stay readable)
//   10      2     flags (u16, 0)
//   12      4     header length H (u32 LE)
//   16      H     header: UTF-8 JSON (SlimzHeader: mode, original length and CRC-32, model and
//                 coding settings, the writer's library and adapter)
//   16+H    4     CRC-32 of bytes [0, 16+H)
//   [two-part only: the model section — u32 length M, M bytes, u32 CRC-32 of them]
//   records, header.coding.records of them, each:
//           24    u32 index, raw length, CRC-32 of the raw bytes, model fingerprint, code length L,
//                 CRC-32 of these 20 bytes, the checks and the code
//           C     [coding.chunkChecks] one check byte per chunk of the record (prequential.ts)
//           L     range-coder bytes
//   end     12    "SLZ\0", u32 record count, CRC-32 of every byte before it
//
// All integers little-endian. A reader trusts nothing: every length is bounded by the bytes that are
// there, every record has its own checksum, and errors name the record.
import { crc32 } from './crc32.js';
import { codecFail } from './errors.js';

export const SLIMZ_MAGIC = Uint8Array.of(0x53, 0x4c, 0x49, 0x4d, 0x5a, 0x0d, 0x0a, 0x1a);
export const SLIMZ_VERSION = 5;
/** JSON-framed versions this slimgpu reads (4: no per-chunk checks). */
export const SLIMZ_JSON_VERSIONS: readonly number[] = [4, 5];
const END_MAGIC = Uint8Array.of(0x53, 0x4c, 0x5a, 0x00);
const MAX_HEADER = 1 << 20;
const CHUNK_HEAD = 24;

export type CodecMode = 'prequential' | 'two-part';

/** Everything that decides the model's arithmetic and the coding layout. */
export interface CodingSettings {
  /** Parallel streams the text is split into (= windows per forward pass). */
  streams: number;
  /** Tokens per window (the model's context T). */
  context: number;
  /** Bytes per stream per chunk, the text coded between training rounds (a multiple of context/2). */
  chunkBytes: number;
  /** Training steps after each chunk (prequential). */
  stepsPerChunk: number;
  /** The byte that stands before the start of every stream. */
  pad: number;
  /** log2 of the frequency total (16). */
  freqBits: number;
  /** Number of chunks (training rounds). */
  chunks: number;
  /** Chunks per record (K), and the number of records (⌈chunks / K⌉). */
  chunksPerRecord: number;
  records: number;
  /** 'cm': bytes coded by the context-mixing model with the model's table mixed in (absent: 'none', the range coder). */
  mixer?: 'none' | 'cm';
  /** CM: log2 of each hashed table's bytes. */
  cmMemoryLog2?: number;
  /** Codec 5: every record stores one check byte per chunk (a hash of the model's logits at the chunk's start). */
  chunkChecks?: boolean;
}

export interface WriterInfo {
  /** e.g. "slimgpu 0.1.0". */
  library: string;
  /** The adapter the encoder ran on, as adapterSummary describes it. */
  adapter: { backend: string; vendor: string; architecture: string; device: string; description: string };
}

export interface SlimzHeader {
  mode: CodecMode;
  /** Bytes of the original. */
  length: number;
  /** CRC-32 of the original. */
  crc32: number;
  /** The settings that rebuild the model (preset, seed, optimizer...), opaque to the container. */
  model: Record<string, unknown>;
  coding: CodingSettings;
  writer: WriterInfo;
}

/** A record: the code of K consecutive chunks, with its checks. */
export interface ChunkRecord {
  /** Bytes of the original coded in this record. */
  rawLength: number;
  rawCrc: number;
  /** Hash of the model's frequency tables on the rows known before the record (see prequential.ts). */
  fingerprint: number;
  /** [coding.chunkChecks] one byte per chunk of the record. */
  checks?: Uint8Array;
  code: Uint8Array;
}

const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The fixed part of a file: magic, version, header and its CRC. */
export function encodeHeader(h: SlimzHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  if (json.length > MAX_HEADER) codecFail(`header too large (${json.length} bytes > ${MAX_HEADER})`);
  const head = new Uint8Array(16);
  head.set(SLIMZ_MAGIC);
  const dv = new DataView(head.buffer);
  dv.setUint16(8, SLIMZ_VERSION, true);
  dv.setUint16(10, 0, true);
  dv.setUint32(12, json.length, true);
  const body = concat([head, json]);
  return concat([body, u32(crc32(body))]);
}

export function encodeModelSection(model: Uint8Array): Uint8Array {
  return concat([u32(model.length), model, u32(crc32(model))]);
}

export function encodeChunk(index: number, c: ChunkRecord): Uint8Array {
  const head = new Uint8Array(CHUNK_HEAD);
  const dv = new DataView(head.buffer);
  [index, c.rawLength, c.rawCrc, c.fingerprint, c.code.length].forEach((v, i) => dv.setUint32(4 * i, v >>> 0, true));
  const checks = c.checks ?? new Uint8Array(0);
  dv.setUint32(20, crc32(c.code, crc32(checks, crc32(head.subarray(0, 20)))), true);
  return concat([head, checks, c.code]);
}

/** The whole file: header, optional model section, records, end record (one buffer). */
export function encodeSlimz(h: SlimzHeader, chunks: ChunkRecord[], model?: Uint8Array): Uint8Array {
  if (chunks.length !== h.coding.records) codecFail(`header says ${h.coding.records} records, got ${chunks.length}`);
  if ((h.mode === 'two-part') !== (model !== undefined)) codecFail(`a ${h.mode} file ${model ? 'has no' : 'needs a'} model section`);
  const parts = [encodeHeader(h)];
  if (model) parts.push(encodeModelSection(model));
  chunks.forEach((c, i) => parts.push(encodeChunk(i, c)));
  const body = concat(parts);
  const end = new Uint8Array(12);
  end.set(END_MAGIC);
  new DataView(end.buffer).setUint32(4, chunks.length, true);
  new DataView(end.buffer).setUint32(8, crc32(body), true);
  return concat([body, end]);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

function checkHeader(h: unknown): SlimzHeader {
  const bad = (what: string): never => codecFail(`the file's header is invalid: ${what}`);
  if (!isObj(h)) bad('not a JSON object');
  const o = h as Record<string, unknown>;
  if (o.mode !== 'prequential' && o.mode !== 'two-part') bad(`mode must be 'prequential' or 'two-part', got ${JSON.stringify(o.mode)}`);
  if (!isUint(o.length)) bad(`length must be a byte count, got ${JSON.stringify(o.length)}`);
  if (!isUint(o.crc32, 0xffffffff)) bad(`crc32 must be a 32-bit unsigned integer`);
  if (!isObj(o.model)) bad('model settings missing');
  if (!isObj(o.coding)) bad('coding settings missing');
  const c = o.coding as Record<string, unknown>;
  for (const k of ['streams', 'context', 'chunkBytes', 'stepsPerChunk', 'pad', 'freqBits', 'chunks', 'chunksPerRecord', 'records']) {
    if (!isUint(c[k])) bad(`coding.${k} must be a non-negative integer, got ${JSON.stringify(c[k])}`);
  }
  if ((c.streams as number) < 1 || (c.context as number) < 2 || (c.chunkBytes as number) < 1 || (c.chunksPerRecord as number) < 1)
    bad('coding.streams, context, chunkBytes and chunksPerRecord must be positive (context ≥ 2)');
  if (c.records !== Math.ceil((c.chunks as number) / (c.chunksPerRecord as number)))
    bad(`coding.records must be ⌈chunks / chunksPerRecord⌉ = ${Math.ceil((c.chunks as number) / (c.chunksPerRecord as number))}, got ${c.records}`);
  if ((c.pad as number) > 255) bad(`coding.pad must be a byte, got ${c.pad}`);
  if (c.mixer !== undefined && c.mixer !== 'none' && c.mixer !== 'cm') bad(`coding.mixer must be 'none' or 'cm', got ${JSON.stringify(c.mixer)}`);
  if (c.chunkChecks !== undefined && typeof c.chunkChecks !== 'boolean')
    bad(`coding.chunkChecks must be a boolean, got ${JSON.stringify(c.chunkChecks)}`);
  if (c.cmMemoryLog2 !== undefined && (!isUint(c.cmMemoryLog2) || (c.cmMemoryLog2 as number) < 16 || (c.cmMemoryLog2 as number) > 28))
    bad(`coding.cmMemoryLog2 must be an integer in [16, 28], got ${JSON.stringify(c.cmMemoryLog2)}`);
  if (!isObj(o.writer) || typeof (o.writer as Record<string, unknown>).library !== 'string' || !isObj((o.writer as Record<string, unknown>).adapter))
    bad('writer (library and adapter) missing');
  return h as SlimzHeader;
}

/** Reads a .slimz file record by record, checking each piece before handing it out. */
export class SlimzReader {
  readonly header: SlimzHeader;
  /** The two-part model section, if any. */
  readonly model?: Uint8Array;
  private pos: number;
  private next = 0;
  /** 4 or 5. */
  readonly version: number;

  constructor(private readonly bytes: Uint8Array) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 16 || !SLIMZ_MAGIC.every((b, i) => bytes[i] === b)) {
      codecFail(`not a .slimz file (it does not start with the SLIMZ magic${bytes.length < 16 ? `; only ${bytes.length} bytes` : ''})`);
    }
    const version = dv.getUint16(8, true);
    if (!SLIMZ_JSON_VERSIONS.includes(version)) {
      codecFail(
        `this file was written by codec version ${version}; this slimgpu reads codec versions 4 and ${SLIMZ_VERSION}` +
          (version > SLIMZ_VERSION
            ? ' (it was written by a newer slimgpu)'
            : version === 1
              ? ' (version 1 coded with windowed forward passes; decompress it with the slimgpu that wrote it)'
              : version === 2 || version === 3
                ? ` (version ${version} coded with an older layout or CM; decompress it with the slimgpu that wrote it)`
                : ''),
      );
    }
    const hlen = dv.getUint32(12, true);
    if (hlen > MAX_HEADER) codecFail(`the file's header length ${hlen} is implausible (> ${MAX_HEADER}): the file is damaged`);
    if (bytes.length < 16 + hlen + 4) codecFail(`the file is truncated inside its header (${bytes.length} bytes, the header needs ${16 + hlen + 4})`);
    if (dv.getUint32(16 + hlen, true) !== crc32(bytes.subarray(0, 16 + hlen))) codecFail("the file's header is damaged (CRC-32 mismatch)");
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + hlen)));
    } catch (e) {
      codecFail(`the file's header is not valid UTF-8 JSON: ${(e as Error).message}`);
    }
    this.header = checkHeader(parsed);
    this.version = version;
    if (version < 5 && this.header.coding.chunkChecks) codecFail("the file's header is invalid: coding.chunkChecks needs codec version 5");
    this.pos = 16 + hlen + 4;
    const room = Math.floor((bytes.length - this.pos) / CHUNK_HEAD);
    if (this.header.coding.records > room)
      codecFail(
        `the header declares ${this.header.coding.records} records, but the rest of the file (${bytes.length - this.pos} bytes) can hold at most ${room}: the file is truncated or damaged`,
      );
    if (this.header.mode === 'two-part') {
      if (this.pos + 4 > bytes.length) codecFail('the file is truncated before its model section');
      const m = dv.getUint32(this.pos, true);
      if (this.pos + 8 + m > bytes.length)
        codecFail(`the file is truncated inside its model section (needs ${m} bytes, ${bytes.length - this.pos - 8} there)`);
      this.model = bytes.subarray(this.pos + 4, this.pos + 4 + m);
      if (dv.getUint32(this.pos + 4 + m, true) !== crc32(this.model)) codecFail('the model section is damaged (CRC-32 mismatch)');
      this.pos += 8 + m;
    }
  }

  get chunkCount(): number {
    return this.header.coding.records;
  }

  /** The next record, checked (index, bounds, CRC); `chunks`: how many chunks it holds (its check bytes). */
  readChunk(chunks = 0): ChunkRecord {
    const i = this.next,
      n = this.chunkCount;
    if (i >= n) codecFail(`no record ${i}: the file has ${n}`);
    const b = this.bytes;
    if (this.pos + CHUNK_HEAD > b.length)
      codecFail(`record ${i} of ${n} is truncated: the file ends at byte ${b.length}, inside the record's header`);
    const dv = new DataView(b.buffer, b.byteOffset + this.pos, CHUNK_HEAD);
    const [index, rawLength, rawCrc, fingerprint, codeLength, recCrc] = [0, 1, 2, 3, 4, 5].map((k) => dv.getUint32(4 * k, true)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const nc = this.header.coding.chunkChecks ? chunks : 0;
    const end = this.pos + CHUNK_HEAD + nc + codeLength;
    if (end > b.length)
      codecFail(
        `record ${i} of ${n} is truncated: it needs ${nc + codeLength} check and code bytes, the file has ${b.length - this.pos - CHUNK_HEAD}`,
      );
    const checks = b.subarray(this.pos + CHUNK_HEAD, this.pos + CHUNK_HEAD + nc);
    const code = b.subarray(this.pos + CHUNK_HEAD + nc, end);
    if (crc32(code, crc32(checks, crc32(b.subarray(this.pos, this.pos + 20)))) !== recCrc)
      codecFail(`record ${i} of ${n} is damaged (its CRC-32 does not match)`);
    if (index !== i) codecFail(`record ${i} of ${n} is out of place (it says record ${index})`);
    this.pos = end;
    this.next++;
    return { rawLength, rawCrc, fingerprint, checks, code };
  }

  /** Checks the end record after the last record: nothing missing, nothing appended. */
  finish(): void {
    const b = this.bytes,
      n = this.chunkCount;
    if (this.next !== n) codecFail(`only ${this.next} of ${n} records were read`);
    if (this.pos + 12 > b.length) codecFail(`the file is truncated after record ${n - 1} (its end record is missing)`);
    if (!END_MAGIC.every((x, k) => b[this.pos + k] === x)) codecFail(`the file is damaged after record ${n - 1} (no end record where it should be)`);
    const dv = new DataView(b.buffer, b.byteOffset + this.pos, 12);
    if (dv.getUint32(4, true) !== n) codecFail(`the end record counts ${dv.getUint32(4, true)} records, the header ${n}`);
    if (dv.getUint32(8, true) !== crc32(b.subarray(0, this.pos))) codecFail('the file is damaged (the CRC-32 of the whole file does not match)');
    if (this.pos + 12 !== b.length) codecFail(`${b.length - this.pos - 12} unexpected byte(s) after the end of the .slimz data`);
  }
}
