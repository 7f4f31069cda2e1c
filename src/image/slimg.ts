// The .slimg container, checked before anything is decoded:
//   "SLIMG" (5 bytes), version u8 = 2,
//   model id: length u8 + ASCII bytes (an `img:` preset; a ladder preset's quality picks its λ member),
//   quality (1..8) | channels (1 or 3) << 4 in one byte,
//   width, height, tile / 8, payload length: unsigned LEB128 varints,
//   payload (the range-coded latents of every tile, row-major tiles), CRC-32 u32 LE of every byte before it.
// Version 1 (fixed-width fields, one model per preset) predates the λ-sweep ladders: its files name
// models that no longer exist and are refused with a named error.
import { crc32 } from '../codec/crc32.js';
import { ImageError } from './raw.js';

export const SLIMG_MAGIC = 'SLIMG';
export const SLIMG_VERSION = 2;
/** Largest width·height accepted (the decoder would allocate 4 bytes per sample). */
export const MAX_PIXELS = 1 << 28;

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

export interface SlimgHeader {
  modelId: string;
  quality: number;
  channels: number;
  width: number;
  height: number;
  tile: number;
}

export function writeSlimg(h: SlimgHeader, payload: Uint8Array): Uint8Array {
  const id = new TextEncoder().encode(h.modelId);
  if (id.length > 255) throw new ImageError(`model id '${h.modelId}' is longer than 255 bytes`);
  const head: number[] = [...new TextEncoder().encode(SLIMG_MAGIC), SLIMG_VERSION, id.length, ...id, h.quality | (h.channels << 4)];
  for (const v of [h.width, h.height, h.tile / 8, payload.length]) varint(head, v);
  const out = new Uint8Array(head.length + payload.length + 4);
  out.set(head, 0);
  out.set(payload, head.length);
  const p = head.length + payload.length;
  new DataView(out.buffer).setUint32(p, crc32(out.subarray(0, p)), true);
  return out;
}

export function readSlimg(bytes: Uint8Array, name = '.slimg data'): { header: SlimgHeader; payload: Uint8Array } {
  const fail = (msg: string): never => {
    throw new ImageError(`'${name}' ${msg}`);
  };
  if (bytes.length < 6 || new TextDecoder().decode(bytes.subarray(0, 5)) !== SLIMG_MAGIC) fail('is not a .slimg file (no SLIMG magic)');
  if (bytes[5] !== SLIMG_VERSION)
    fail(
      `has .slimg version ${bytes[5]}; this slimgpu reads version ${SLIMG_VERSION}${bytes[5] === 1 ? ' (version 1 files name the models before the λ-sweep ladders)' : ''}`,
    );
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number, what: string) => {
    if (bytes.length < n) fail(`is truncated: ${bytes.length} bytes, the ${what} needs ${n}`);
  };
  need(7, 'header');
  const idLen = bytes[6]!;
  need(7 + idLen + 1, 'header');
  const modelId = new TextDecoder().decode(bytes.subarray(7, 7 + idLen));
  let p = 7 + idLen;
  const qc = bytes[p++]!;
  const quality = qc & 15,
    channels = qc >> 4;
  const read = (what: string): number => {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      need(p + 1, what);
      const b = bytes[p++]!;
      v += (b & 0x7f) * 128 ** k;
      if (b < 0x80) return v;
    }
    return fail(`has a malformed ${what} (a varint over 5 bytes)`);
  };
  const width = read('width'),
    height = read('height'),
    tile = read('tile') * 8,
    len = read('payload length');
  need(p + len + 4, `payload of ${len} bytes`);
  if (bytes.length > p + len + 4) fail(`has ${bytes.length - (p + len + 4)} unexpected byte(s) after its CRC`);
  const stored = v.getUint32(p + len, true),
    actual = crc32(bytes.subarray(0, p + len));
  if (stored !== actual) fail(`is damaged: CRC-32 ${actual.toString(16).padStart(8, '0')} != stored ${stored.toString(16).padStart(8, '0')}`);
  if (quality < 1 || quality > 8) fail(`has quality ${quality} (1..8)`);
  if (channels !== 1 && channels !== 3) fail(`has ${channels} channels (1 or 3)`);
  if (width < 1 || height < 1 || width * height > MAX_PIXELS) fail(`has size ${width}x${height} (1..${MAX_PIXELS} pixels)`);
  if (tile < 8 || tile % 8 !== 0) fail(`has tile size ${tile} (a multiple of 8)`);
  return { header: { modelId, quality, channels, width, height, tile }, payload: bytes.subarray(p, p + len) };
}
