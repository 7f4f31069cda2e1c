// The .slimg container, checked before anything is decoded. Version 3 (written since session 7):
//   "SLIMG" (5 bytes), version u8 = 3,
//   model u8: 1.. = SLIMG_MODELS[model − 1], or 0 followed by the id as length u8 + ASCII bytes,
//   quality (1..15; 1..8 for 8-quality models) | channels (1 or 3) << 4 | 0x80 when the tile is the default 256, in one byte,
//   width, height, [tile / 8 unless default]: unsigned LEB128 varints,
//   payload (every byte up to the CRC), CRC-32 u32 LE of every byte before it.
// (14 bytes of overhead for a 64×64 image with a listed model; version 2 needed 23-28.)
// Version 2 (still read):
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
export const SLIMG_VERSION = 3;
/** Model ids with a one-byte code in version 3 (append only: the code is the index + 1). */
export const SLIMG_MODELS = ['img:dct', 'img:dct-g', 'img:photo', 'img:fashion', 'img:lossless', 'img:dct-g2'] as const;
const DEFAULT_TILE_V3 = 256;
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

/** Writes version 3 (`version: 2` writes the old layout, for tests and golden files). */
export function writeSlimg(h: SlimgHeader, payload: Uint8Array, version = SLIMG_VERSION): Uint8Array {
  const id = new TextEncoder().encode(h.modelId);
  if (id.length > 255) throw new ImageError(`model id '${h.modelId}' is longer than 255 bytes`);
  const code = SLIMG_MODELS.indexOf(h.modelId as (typeof SLIMG_MODELS)[number]) + 1;
  const head: number[] = [...new TextEncoder().encode(SLIMG_MAGIC), version];
  if (version === 2) {
    head.push(id.length, ...id, h.quality | (h.channels << 4));
    for (const v of [h.width, h.height, h.tile / 8, payload.length]) varint(head, v);
  } else {
    const deflt = h.tile === DEFAULT_TILE_V3;
    head.push(...(code > 0 ? [code] : [0, id.length, ...id]), h.quality | (h.channels << 4) | (deflt ? 0x80 : 0));
    for (const v of deflt ? [h.width, h.height] : [h.width, h.height, h.tile / 8]) varint(head, v);
  }
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
  const version = bytes[5]!;
  if (version !== 2 && version !== 3)
    fail(
      `has .slimg version ${version}; this slimgpu reads versions 2 and 3${version === 1 ? ' (version 1 files name the models before the λ-sweep ladders)' : ''}`,
    );
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number, what: string) => {
    if (bytes.length < n) fail(`is truncated: ${bytes.length} bytes, the ${what} needs ${n}`);
  };
  need(7, 'header');
  let p = 6,
    modelId: string;
  const code = version === 3 ? bytes[p++]! : 0;
  if (code > 0) {
    if (code > SLIMG_MODELS.length) fail(`names model code ${code}, unknown to this slimgpu (1..${SLIMG_MODELS.length})`);
    modelId = SLIMG_MODELS[code - 1]!;
  } else {
    need(p + 1, 'header');
    const idLen = bytes[p++]!;
    need(p + idLen + 1, 'header');
    modelId = new TextDecoder().decode(bytes.subarray(p, p + idLen));
    p += idLen;
  }
  need(p + 1, 'header');
  const qc = bytes[p++]!;
  const quality = qc & 15,
    channels = version === 3 ? (qc >> 4) & 7 : qc >> 4,
    defaultTile = version === 3 && qc & 0x80;
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
    tile = defaultTile ? DEFAULT_TILE_V3 : read('tile') * 8,
    len = version === 2 ? read('payload length') : bytes.length - 4 - p;
  if (len < 0) fail(`is truncated: ${bytes.length} bytes, the header and CRC need ${p + 4}`);
  need(p + len + 4, `payload of ${len} bytes`);
  if (bytes.length > p + len + 4) fail(`has ${bytes.length - (p + len + 4)} unexpected byte(s) after its CRC`);
  const stored = v.getUint32(p + len, true),
    actual = crc32(bytes.subarray(0, p + len));
  if (stored !== actual)
    fail(
      `is damaged: CRC-32 ${actual.toString(16).padStart(8, '0')} != stored ${stored.toString(16).padStart(8, '0')}${version === 3 ? ' (or truncated: version 3 has no payload length)' : ''}`,
    );
  if (quality < 1 || quality > (version === 2 ? 8 : 15)) fail(`has quality ${quality} (1..${version === 2 ? 8 : 15})`);
  if (channels !== 1 && channels !== 3) fail(`has ${channels} channels (1 or 3)`);
  if (width < 1 || height < 1 || width * height > MAX_PIXELS) fail(`has size ${width}x${height} (1..${MAX_PIXELS} pixels)`);
  if (tile < 8 || tile % 8 !== 0) fail(`has tile size ${tile} (a multiple of 8)`);
  return { header: { modelId, quality, channels, width, height, tile }, payload: bytes.subarray(p, p + len) };
}
