// A CM model's whole state as bytes, and back (the on-disk cache of a primed state, codec/v5/prime-cache.ts).
// The walk is cloneCm's (clone.ts): every own field in Object.keys order — typed arrays by their
// bytes, numbers, booleans, null, nested objects and arrays field by field — so a state loaded into
// a fresh CmModel made with the same settings codes exactly like the original. The bytes are a JSON
// skeleton (one entry per leaf: its path, kind, and for a typed array its type, length and offset)
// followed by the arrays' raw bytes (little-endian, as the machine stores them).
// layoutOf(fresh model) lists the same leaves without their values: hashed into the cache's key, it
// keeps a state written by another code layout from ever being loaded.
import { codecFail } from '../errors.js';
import type { CmModel } from './model.js';

type Fields = Record<string, unknown>;
type Ctor = new (b: ArrayBuffer) => ArrayBufferView & { length: number };
const ARRAYS: Record<string, Ctor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
};

/** One leaf: [path, 'a', type, length, offset] | [path, 'n', String(value)] | [path, 'b' | 'z' | 'u' | 's', value]. */
type Leaf = [string[], string, ...unknown[]];

function walk(src: Fields, path: string[], visit: (path: string[], v: unknown) => void): void {
  for (const k of Object.keys(src)) {
    const v = src[k];
    if (!ArrayBuffer.isView(v) && v !== null && typeof v === 'object') walk(v as Fields, [...path, k], visit);
    else visit([...path, k], v);
  }
}

function arrayType(v: ArrayBufferView): string {
  const t = v.constructor.name;
  if (!(t in ARRAYS)) codecFail(`CM state: unsupported array type ${t}`);
  return t;
}

/** The leaves of `m` without their values: path, kind, array type and length (one line each). */
export function layoutOf(m: CmModel): string {
  const lines: string[] = [];
  walk(m as unknown as Fields, [], (p, v) => {
    if (ArrayBuffer.isView(v)) lines.push(`${p.join('.')}:${arrayType(v)}[${(v as unknown as { length: number }).length}]`);
    else lines.push(`${p.join('.')}:${v === null ? 'null' : typeof v}`);
  });
  return lines.join('\n');
}

const num = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

/** The state of `m` as bytes: u32 skeleton length, the JSON skeleton, zero padding to 8, the arrays' bytes. */
export function saveCmState(m: CmModel): Uint8Array {
  const leaves: Leaf[] = [];
  const views: Uint8Array[] = [];
  let offset = 0;
  walk(m as unknown as Fields, [], (p, v) => {
    if (ArrayBuffer.isView(v)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      leaves.push([p, 'a', arrayType(v), (v as unknown as { length: number }).length, offset]);
      views.push(bytes);
      offset += bytes.length;
    } else if (typeof v === 'number') leaves.push([p, 'n', num(v)]);
    else if (typeof v === 'boolean') leaves.push([p, 'b', v]);
    else if (typeof v === 'string') leaves.push([p, 's', v]);
    else if (v === null) leaves.push([p, 'z', null]);
    else if (v === undefined) leaves.push([p, 'u', null]);
    else codecFail(`CM state: ${p.join('.')} has an unsupported ${typeof v} value`);
  });
  const json = new TextEncoder().encode(JSON.stringify(leaves));
  const head = (4 + json.length + 7) & ~7;
  const out = new Uint8Array(head + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  let at = head;
  for (const b of views) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function leafValue(leaf: Leaf, data: Uint8Array, dst: unknown): unknown {
  const [p, kind, a, b, c] = leaf;
  switch (kind) {
    case 'a': {
      const Type = ARRAYS[a as string];
      const n = b as number,
        off = c as number;
      if (!Type || !Number.isInteger(n) || !Number.isInteger(off)) return codecFail(`CM state: bad array leaf ${p.join('.')}`);
      const bpe = (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (off < 0 || off + n * bpe > data.length) return codecFail(`CM state: ${p.join('.')} runs past the data`);
      const src = data.subarray(off, off + n * bpe);
      if (ArrayBuffer.isView(dst) && dst.constructor === Type && (dst as unknown as { length: number }).length === n) {
        new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(src);
        return dst;
      }
      return new Type(Uint8Array.from(src).buffer); // (src may be a Buffer, whose slice() is a view) e.g. the last external table (begin() replaces it)
    }
    case 'n':
      return Number(a as string);
    case 'b':
    case 's':
      return a;
    case 'z':
      return null;
    case 'u':
      return undefined;
    default:
      return codecFail(`CM state: unknown leaf kind ${String(kind)} at ${p.join('.')}`);
  }
}

/** Loads bytes made by saveCmState into `m`, a fresh CmModel made with the same settings; returns `m`. */
export function loadCmState(m: CmModel, bytes: Uint8Array): CmModel {
  if (bytes.length < 4) codecFail('CM state: truncated');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const head = (4 + jsonLength + 7) & ~7;
  if (head > bytes.length) codecFail('CM state: truncated skeleton');
  const leaves = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + jsonLength))) as Leaf[];
  if (!Array.isArray(leaves)) codecFail('CM state: bad skeleton');
  const data = bytes.subarray(head);
  for (const leaf of leaves) {
    const p = leaf[0];
    if (!Array.isArray(p) || p.length === 0) codecFail('CM state: bad leaf path');
    let obj = m as unknown as Fields;
    for (const k of p.slice(0, -1)) {
      const next = obj[k];
      if (next === null || typeof next !== 'object' || ArrayBuffer.isView(next)) codecFail(`CM state: ${p.join('.')} is not in this model`);
      obj = next as Fields;
    }
    const last = p[p.length - 1]!;
    if (!(last in obj)) codecFail(`CM state: ${p.join('.')} is not in this model`);
    obj[last] = leafValue(leaf, data, obj[last]);
  }
  return m;
}
