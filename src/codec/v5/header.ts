// The binary .slimz header of codec version 5 (modes 'none' and 'predictor'): a few bytes instead
// of v4's JSON, so that a 1 KB file pays about 20 bytes of container. Layout (docs/codec-v5.md):
//
//   0   3  magic C5 53 5A ("\xC5SZ": a non-ASCII first byte, so no text file starts like one)
//   3   1  version (5, or 6: the same layout; 6 codes with the CM's codec-6 refinement, 4 APMs)
//   4   1  flags: bits 0-1 kind (0 = CM alone, 1 = pretrained predictor + CM), bit 2 = records
//          (the multi-record framing of long or streamed inputs), bits 3-6 = log2 of the streams,
//          bit 7 = 0
//   5   8  [predictor] the model id: the first 8 bytes (16 hex digits) of BytePredictor.id
//   .   v  [single] the original's length, LEB128 varint
//   .   4  [single] CRC-32 of the original, little-endian
//   .   1  header check: the low byte of the CRC-32 of every header byte before it
//
// Single framing: the rest of the file is the CM's arithmetic code. Records framing: see records.ts.
import { crc32 } from '../crc32.js';
import { codecFail } from '../errors.js';

export const V5_MAGIC = Uint8Array.of(0xc5, 0x53, 0x5a);
export const V5_VERSION = 5;
/** Codec 6: the v5 layout, the CM with four APMs (CmOptions.refine = 6). The version new files get. */
export const V6_VERSION = 6;
export type BinaryVersion = 5 | 6;
/** Bytes of a predictor id stored in the header. */
export const ID_BYTES = 8;
export const MAX_STREAMS_LOG2 = 15;

export type V5Kind = 'none' | 'predictor';
const KINDS: V5Kind[] = ['none', 'predictor'];

export interface V5Header {
  /** 5 or 6 (default when writing: 6). */
  version?: BinaryVersion;
  kind: V5Kind;
  /** Multi-record framing (records.ts); false: one code to the end of the file. */
  records: boolean;
  /** Interleaved streams per record (a power of two). */
  streams: number;
  /** [predictor] 16 lower-case hex digits: the first 8 bytes of the model's id. */
  modelId?: string;
  /** [single] length and CRC-32 of the original. */
  length?: number;
  crc32?: number;
}

/** LEB128 of a non-negative safe integer. */
export function varint(v: number): Uint8Array {
  if (!Number.isSafeInteger(v) || v < 0) codecFail(`varint: ${v} is not a non-negative safe integer`);
  const out: number[] = [];
  do {
    const low = v % 128;
    v = Math.floor(v / 128);
    out.push(v > 0 ? low | 128 : low);
  } while (v > 0);
  return Uint8Array.from(out);
}

/** A byte source the header and record readers pull from (see bytes.ts for the async one). */
export interface Pull {
  /** The next byte, or −1 at the end. */
  byte(): number | Promise<number>;
}

/** Reads a LEB128 varint (at most 8 bytes, < 2^53); `what` names the field in errors. */
export async function readVarint(src: Pull, what: string, seen?: number[]): Promise<number> {
  let v = 0,
    scale = 1;
  for (let i = 0; i < 8; i++) {
    const b = await src.byte();
    if (b < 0) codecFail(`the file is truncated inside ${what}`);
    seen?.push(b);
    v += (b & 127) * scale;
    if (v > Number.MAX_SAFE_INTEGER) break;
    if (b < 128) return v;
    scale *= 128;
  }
  return codecFail(`${what} is not a valid varint (too long): the file is damaged`);
}

export function log2Streams(streams: number): number {
  const k = Math.log2(streams);
  if (!Number.isInteger(k) || k < 0 || k > MAX_STREAMS_LOG2)
    codecFail(`streams must be a power of two in [1, 2^${MAX_STREAMS_LOG2}], got ${streams}`);
  return k;
}

export function encodeV5Header(h: V5Header): Uint8Array {
  const flags = KINDS.indexOf(h.kind) | (h.records ? 4 : 0) | (log2Streams(h.streams) << 3);
  const version = h.version ?? V6_VERSION;
  if (version !== V5_VERSION && version !== V6_VERSION) codecFail(`the header's version must be 5 or 6, got ${String(version)}`);
  const parts: number[] = [...V5_MAGIC, version, flags];
  if (h.kind === 'predictor') {
    const id = h.modelId ?? '';
    if (!/^[0-9a-f]{16}$/.test(id)) codecFail(`the header's model id must be 16 lower-case hex digits, got ${JSON.stringify(id)}`);
    for (let i = 0; i < ID_BYTES; i++) parts.push(parseInt(id.slice(2 * i, 2 * i + 2), 16));
  }
  if (!h.records) {
    parts.push(...varint(h.length ?? -1));
    const c = (h.crc32 ?? 0) >>> 0;
    parts.push(c & 255, (c >>> 8) & 255, (c >>> 16) & 255, c >>> 24);
  }
  parts.push(crc32(Uint8Array.from(parts)) & 255);
  return Uint8Array.from(parts);
}

/** The 16 hex digits a header stores for a predictor id (32 hex digits: the first 16 bytes of sha256). */
export function idPrefix(id: string): string {
  if (typeof id !== 'string' || !/^[0-9a-f]{32,64}$/.test(id))
    codecFail(`a predictor id must be lower-case hex of at least 32 digits, got ${JSON.stringify(id)}`);
  return id.slice(0, 2 * ID_BYTES);
}

/** True when `b` starts with the v5 binary magic. */
export function isV5(b: Uint8Array): boolean {
  return b.length >= 3 && V5_MAGIC.every((x, i) => b[i] === x);
}

/** Reads and checks a v5 header (the magic already matched or not: it is checked here). */
export async function readV5Header(src: Pull): Promise<V5Header> {
  const seen: number[] = [];
  const take = async (what: string): Promise<number> => {
    const b = await src.byte();
    if (b < 0) codecFail(`the file is truncated inside its header (${what})`);
    seen.push(b);
    return b;
  };
  for (let i = 0; i < 3; i++) {
    const b = await src.byte();
    if (b !== V5_MAGIC[i]) codecFail(`not a .slimz file (it does not start with the SLIMZ magic${b < 0 ? `; only ${i} bytes` : ''})`);
    seen.push(b);
  }
  const version = await take('version');
  if (version !== V5_VERSION && version !== V6_VERSION) {
    codecFail(
      `this file was written by codec version ${version}; this slimgpu reads codec versions 4, ${V5_VERSION} and ${V6_VERSION}` +
        (version > V6_VERSION ? ' (it was written by a newer slimgpu)' : ''),
    );
  }
  const flags = await take('flags');
  const kind = KINDS[flags & 3];
  if (kind === undefined || flags & 128)
    codecFail(`the header's flags 0x${flags.toString(16)} name a mode this slimgpu does not know: the file is damaged or from a newer slimgpu`);
  const h: V5Header = { version, kind, records: (flags & 4) !== 0, streams: 1 << ((flags >> 3) & 15) };
  if (kind === 'predictor') {
    let id = '';
    for (let i = 0; i < ID_BYTES; i++) id += (await take('model id')).toString(16).padStart(2, '0');
    h.modelId = id;
  }
  if (!h.records) {
    h.length = await readVarint(src, 'its header (length)', seen);
    let c = 0;
    for (let i = 0; i < 4; i++) c += (await take('CRC-32')) * 2 ** (8 * i);
    h.crc32 = c;
  }
  const check = await src.byte();
  if (check < 0) codecFail('the file is truncated inside its header (check byte)');
  if (check !== (crc32(Uint8Array.from(seen)) & 255)) codecFail("the file's header is damaged (its check byte does not match)");
  return h;
}
