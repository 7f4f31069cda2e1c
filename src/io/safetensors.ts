// The safetensors format (https://github.com/huggingface/safetensors), read as untrusted input:
//   8 bytes: N, little-endian u64, the header size;
//   N bytes: UTF-8 JSON object, starting with '{', possibly padded with spaces:
//            { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ...,
//              "__metadata__": { "<key>": "<string value>" } }   (metadata optional)
//   the rest: the byte buffer; offsets are relative to its start, little-endian, row-major; it
//            must be entirely indexed: no holes, no overlaps, no trailing bytes. No duplicate keys.
// parse/serialize here are pure (browser and Node); file access is in readSafetensors /
// writeSafetensorsAtomic, which load node modules only when called.
import { readFileBytes, writeFileAtomic } from './files.js';
import { thrower } from '../gpu/errors.js';

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export interface DTypeArrays {
  F64: Float64Array;
  F32: Float32Array;
  /** IEEE half precision, raw bits (see f16 helpers in ./half.js). */
  F16: Uint16Array;
  /** bfloat16, raw bits. */
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U64: BigUint64Array;
  U32: Uint32Array;
  U16: Uint16Array;
  U8: Uint8Array;
  /** One byte per value, 0 or 1. */
  BOOL: Uint8Array;
}
export type SafetensorsDType = keyof DTypeArrays;
export type TensorData = DTypeArrays[SafetensorsDType];

/** A named tensor's content. The `data` class must match the dtype (F16/BF16: Uint16Array bits). */
export type SafeTensor = { [D in SafetensorsDType]: { dtype: D; shape: number[]; data: DTypeArrays[D] } }[SafetensorsDType];

export type TensorMap = Record<string, SafeTensor>;

export interface SafetensorsContent {
  tensors: TensorMap;
  /** `__metadata__` (empty object when absent). */
  metadata: Record<string, string>;
}

type Ctor = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TensorData; readonly BYTES_PER_ELEMENT: number };
const CTORS: Record<SafetensorsDType, Ctor> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U64: BigUint64Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
} as unknown as Record<SafetensorsDType, Ctor>;

export const SAFETENSORS_DTYPES = Object.keys(CTORS) as SafetensorsDType[];

/** Bytes per element. */
export function dtypeSize(dtype: SafetensorsDType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

function isDType(v: unknown): v is SafetensorsDType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(CTORS, v);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function checkEndian(): void {
  if (!LITTLE_ENDIAN)
    throw new SafetensorsError(
      'slimgpu.safetensors: this platform is big-endian; safetensors data is little-endian and byte swapping is not implemented',
    );
}

export const METADATA_KEY = '__metadata__';
/** The reference implementation's cap on the header size. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Offsets in the byte buffer (relative to its start). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Tensors in the order of their data. */
  entries: TensorEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the byte buffer in the file: 8 + N. */
  dataStart: number;
  /** Size of the byte buffer. */
  dataLength: number;
}

export interface ParseOptions {
  /** Refuse a header larger than this (default 100,000,000 bytes, like the reference). */
  maxHeaderBytes?: number;
  /** Named in error messages (e.g. the file path). */
  name?: string;
  /**
   * true (default): every tensor gets its own copy of its bytes. false: tensors aligned to their
   * element size are views into `bytes` (zero-copy); others are still copied.
   */
  copy?: boolean;
}

/** Keys of every JSON object in `json` (already valid JSON), checked for duplicates: JSON.parse silently keeps the last. */
function findDuplicateKey(json: string): { key: string; within: string | undefined } | undefined {
  const stack: { keys: Set<string>; within: string | undefined; lastKey?: string }[] = [];
  const n = json.length;
  let i = 0;
  while (i < n) {
    const c = json[i]!;
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const raw = json.slice(i, j + 1);
      i = j + 1;
      let k = i;
      while (k < n && (json[k] === ' ' || json[k] === '\t' || json[k] === '\n' || json[k] === '\r')) k++;
      const top = stack[stack.length - 1];
      if (top && json[k] === ':') {
        const key = JSON.parse(raw) as string;
        if (top.keys.has(key)) return { key, within: top.within };
        top.keys.add(key);
        top.lastKey = key;
      }
      continue;
    }
    if (c === '{') stack.push({ keys: new Set(), within: stack[stack.length - 1]?.lastKey });
    else if (c === '}') stack.pop();
    i++;
  }
  return undefined;
}

/** Validates one tensor entry of the header {dtype, shape, data_offsets} against the data section's length. */
function readTensorEntry(name: string, info: unknown, dataLength: number, fail: (msg: string) => never): TensorEntry {
  const t = `tensor ${JSON.stringify(name)}`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${t}: entry must be an object {dtype, shape, data_offsets}`);
  const o = info as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets')
      fail(`${t}: unknown field ${JSON.stringify(k)} (expected dtype, shape, data_offsets)`);
  if (!isDType(o.dtype)) fail(`${t}: unknown dtype ${JSON.stringify(o.dtype)} (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
  const dtype = o.dtype as SafetensorsDType;
  if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    fail(`${t}: shape must be an array of non-negative integers, got ${JSON.stringify(o.shape)}`);
  }
  const shape = o.shape as number[];
  const offs = o.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || offs.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    fail(`${t}: data_offsets must be [begin, end], two non-negative integers, got ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as [number, number];
  if (begin > end) fail(`${t}: data_offsets [${begin}, ${end}] has begin > end`);
  if (end > dataLength) fail(`${t}: data_offsets [${begin}, ${end}] runs past the end of the data section (${dataLength} bytes)`);
  let numel = 1;
  for (const d of shape) numel *= d;
  const expected = numel * dtypeSize(dtype);
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    fail(
      `${t}: shape [${shape}] of ${dtype} needs ${Number.isSafeInteger(expected) ? expected : 'more than 2^53'} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: [...shape], begin, end };
}

/** Parses and validates the header; the data is not touched beyond its length. */
export function parseSafetensorsHeader(bytes: Uint8Array, opts: ParseOptions = {}): SafetensorsHeader {
  const label = opts.name ? `slimgpu.safetensors: '${opts.name}'` : 'slimgpu.safetensors';
  const fail = thrower(SafetensorsError, `${label}: `);
  if (!(bytes instanceof Uint8Array)) fail('expected the file contents as a Uint8Array');
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeader) || maxHeader < 0) fail(`maxHeaderBytes must be a non-negative integer, got ${maxHeader}`);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes long, shorter than the 8-byte header length field`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true),
    hi = view.getUint32(4, true);
  const headerLen = hi * 4294967296 + lo; // exact below 2^53; anything above fails both checks below
  if (headerLen > maxHeader)
    fail(`header length ${hi >= 0x200000 ? `${hi}·2^32 + ${lo}` : headerLen} exceeds the limit of ${maxHeader} bytes (maxHeaderBytes)`);
  if (headerLen > bytes.length - 8)
    fail(`header length ${headerLen} runs past the end of the file (${bytes.length - 8} bytes follow the length field)`);
  const dataStart = 8 + headerLen;
  const dataLength = bytes.length - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (text[0] !== '{') fail(`header must begin with '{' (0x7B), got ${text.length ? JSON.stringify(text.slice(0, 16)) : 'an empty header'}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('header must be a JSON object');
  const dup = findDuplicateKey(text);
  if (dup)
    fail(
      `header has the key ${JSON.stringify(dup.key)} twice${dup.within !== undefined ? ` (inside ${JSON.stringify(dup.within)})` : ''}; duplicate keys are not allowed`,
    );

  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info))
        fail(`__metadata__ must be an object of string values, got ${Array.isArray(info) ? 'an array' : info === null ? 'null' : typeof info}`);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string')
          fail(`__metadata__ value of ${JSON.stringify(k)} must be a string, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(readTensorEntry(name, info, dataLength, fail));
  }

  // The byte buffer must be entirely indexed: sorted by offsets, each tensor starts where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: TensorEntry | undefined;
  for (const e of entries) {
    if (e.begin < cursor)
      fail(
        `tensor ${JSON.stringify(e.name)} (bytes ${e.begin}..${e.end}) overlaps tensor ${JSON.stringify(prev!.name)} (bytes ${prev!.begin}..${prev!.end})`,
      );
    if (e.begin > cursor)
      fail(`bytes ${cursor}..${e.begin} of the data section (before tensor ${JSON.stringify(e.name)}) belong to no tensor; holes are not allowed`);
    cursor = e.end;
    prev = e;
  }
  if (cursor !== dataLength)
    fail(`${dataLength - cursor} trailing bytes after the last tensor (data section is ${dataLength} bytes, tensors cover ${cursor}); not allowed`);
  return { entries, metadata, dataStart, dataLength };
}

/** Parses and validates a whole safetensors file (SafetensorsError on any problem). */
export function parseSafetensors(bytes: Uint8Array, opts: ParseOptions = {}): SafetensorsContent {
  checkEndian();
  const header = parseSafetensorsHeader(bytes, opts);
  const copy = opts.copy ?? true;
  const tensors = Object.create(null) as TensorMap;
  for (const e of header.entries) {
    const C = CTORS[e.dtype];
    const size = C.BYTES_PER_ELEMENT;
    const start = bytes.byteOffset + header.dataStart + e.begin;
    const count = (e.end - e.begin) / size;
    const data =
      !copy && start % size === 0
        ? new C(bytes.buffer, start, count)
        : new C(Uint8Array.prototype.slice.call(bytes, header.dataStart + e.begin, header.dataStart + e.end).buffer, 0, count); // a copy even for a Node Buffer (whose .slice is a view)
    if (e.dtype === 'BOOL') {
      const b = data as Uint8Array;
      for (let i = 0; i < b.length; i++) {
        if (b[i]! > 1)
          throw new SafetensorsError(
            `${opts.name ? `slimgpu.safetensors: '${opts.name}'` : 'slimgpu.safetensors'}: tensor ${JSON.stringify(e.name)}: BOOL element ${i} is ${b[i]}, not 0 or 1`,
          );
      }
    }
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data } as SafeTensor;
  }
  const metadata = { ...header.metadata };
  return { tensors, metadata };
}

function checkTensors(tensors: TensorMap | Map<string, SafeTensor>, metadata: Record<string, string> | undefined): [string, SafeTensor][] {
  const fail = thrower(SafetensorsError, `slimgpu.safetensors: cannot serialise: `);
  if (typeof tensors !== 'object' || tensors === null) fail('tensors must be an object (name → {dtype, shape, data}) or a Map');
  const list: [string, SafeTensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    const tn = `tensor ${JSON.stringify(name)}`;
    if (typeof name !== 'string') fail(`tensor names must be strings, got ${typeof name}`);
    if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (!t || typeof t !== 'object') fail(`${tn} must be {dtype, shape, data}`);
    if (!isDType(t.dtype)) fail(`${tn}: unknown dtype ${JSON.stringify(t.dtype)} (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      fail(`${tn}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    const C = CTORS[t.dtype];
    if (!(t.data instanceof (C as unknown as abstract new (...args: never[]) => unknown))) {
      fail(
        `${tn}: dtype ${t.dtype} needs its data as a ${(C as unknown as { name: string }).name}, got ${(t.data as object | undefined)?.constructor?.name ?? typeof t.data}`,
      );
    }
    let numel = 1;
    for (const d of t.shape) numel *= d;
    if (t.data.length !== numel) fail(`${tn}: shape [${t.shape}] has ${numel} elements, but data holds ${t.data.length}`);
    if (t.dtype === 'BOOL') {
      const b = t.data;
      for (let i = 0; i < b.length; i++) if (b[i]! > 1) fail(`${tn}: BOOL element ${i} is ${b[i]}, not 0 or 1`);
    }
  }
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) fail('metadata must be an object of string values');
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') fail(`metadata value of ${JSON.stringify(k)} must be a string, got ${v === null ? 'null' : typeof v}`);
  }
  return list;
}

function byteView(d: TensorData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * The file as a list of chunks (header, then each tensor's bytes as a view of its data), so large
 * checkpoints are written without one big copy. Deterministic: tensors ordered by element size
 * (largest first, so every tensor is aligned to its element size) then by name (UTF-16 code
 * units); `__metadata__` first in the header when non-empty; the header padded with spaces to a
 * multiple of 8 bytes.
 */
export function serializeSafetensorsChunks(tensors: TensorMap | Map<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array[] {
  checkEndian();
  const list = checkTensors(tensors, metadata);
  list.sort(([an, a], [bn, b]) => dtypeSize(b.dtype) - dtypeSize(a.dtype) || (an < bn ? -1 : an > bn ? 1 : 0));
  for (let i = 1; i < list.length; i++) {
    if (list[i]![0] === list[i - 1]![0])
      throw new SafetensorsError(`slimgpu.safetensors: cannot serialise: tensor ${JSON.stringify(list[i]![0])} appears twice`);
  }
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const keys = Object.keys(metadata).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":${JSON.stringify(t.dtype)},"shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length);
  return [head, ...list.filter(([, t]) => t.data.byteLength > 0).map(([, t]) => byteView(t.data))];
}

/** The whole file in one buffer. */
export function serializeSafetensors(tensors: TensorMap | Map<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const chunks = serializeSafetensorsChunks(tensors, metadata);
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** Reads and validates a safetensors file (Node). */
export async function readSafetensors(path: string, opts: Omit<ParseOptions, 'name'> = {}): Promise<SafetensorsContent> {
  return parseSafetensors(await readFileBytes(path, 'safetensors file'), { ...opts, name: path });
}

/**
 * Writes a safetensors file atomically (Node): serialised (and so validated) first, written to a
 * temporary file in the same directory, fsynced, then renamed over `path`. A failure at any point
 * leaves `path` as it was and removes the temporary file.
 */
export async function writeSafetensorsAtomic(
  path: string,
  tensors: TensorMap | Map<string, SafeTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensorsChunks(tensors, metadata));
}
