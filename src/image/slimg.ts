// The .slimg container (little-endian), checked before anything is decoded:
//   "SLIMG" (5 bytes), version u8 = 1,
//   model id: length u8 + ASCII bytes (an `img:` preset),
//   quality u8 (1..8), channels u8 (1 or 3), width u32, height u32, tile u16 (a multiple of 8),
//   payload length u32, payload (the range-coded latents of every tile, row-major tiles),
//   CRC-32 u32 of every byte before it.
import { crc32 } from '../codec/crc32.js';
import { ImageError } from './raw.js';

export const SLIMG_MAGIC = 'SLIMG';
export const SLIMG_VERSION = 1;
/** Largest width·height accepted (the decoder would allocate 4 bytes per sample). */
export const MAX_PIXELS = 1 << 28;

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
  const headLen = 6 + 1 + id.length + 1 + 1 + 4 + 4 + 2 + 4;
  const out = new Uint8Array(headLen + payload.length + 4);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SLIMG_MAGIC), 0);
  out[5] = SLIMG_VERSION;
  out[6] = id.length;
  out.set(id, 7);
  let p = 7 + id.length;
  out[p++] = h.quality;
  out[p++] = h.channels;
  v.setUint32(p, h.width, true);
  p += 4;
  v.setUint32(p, h.height, true);
  p += 4;
  v.setUint16(p, h.tile, true);
  p += 2;
  v.setUint32(p, payload.length, true);
  p += 4;
  out.set(payload, p);
  p += payload.length;
  v.setUint32(p, crc32(out.subarray(0, p)), true);
  return out;
}

export function readSlimg(bytes: Uint8Array, name = '.slimg data'): { header: SlimgHeader; payload: Uint8Array } {
  const fail = (msg: string): never => {
    throw new ImageError(`'${name}' ${msg}`);
  };
  if (bytes.length < 6 || new TextDecoder().decode(bytes.subarray(0, 5)) !== SLIMG_MAGIC) fail('is not a .slimg file (no SLIMG magic)');
  if (bytes[5] !== SLIMG_VERSION) fail(`has .slimg version ${bytes[5]}; this slimgpu reads version ${SLIMG_VERSION}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number, what: string) => {
    if (bytes.length < n) fail(`is truncated: ${bytes.length} bytes, the ${what} needs ${n}`);
  };
  need(7, 'header');
  const idLen = bytes[6]!;
  const fixed = 7 + idLen + 16;
  need(fixed, 'header');
  const modelId = new TextDecoder().decode(bytes.subarray(7, 7 + idLen));
  let p = 7 + idLen;
  const quality = bytes[p++]!,
    channels = bytes[p++]!;
  const width = v.getUint32(p, true),
    height = v.getUint32(p + 4, true),
    tile = v.getUint16(p + 8, true);
  const len = v.getUint32(p + 10, true);
  p += 14;
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
