// Binary PNM (P5 grayscale PGM, P6 RGB PPM, maxval 255) reading and writing. PNM is a header of
// ASCII fields plus raw bytes; the readers treat every file as untrusted input.
import { ImageError, type RawImage } from './raw.js';

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

/** Parses a binary PGM (P5) or PPM (P6) with maxval 255. `name` appears in every error. */
export function parsePnm(bytes: Uint8Array, name = 'PNM data'): RawImage {
  const fail = (msg: string): never => {
    throw new ImageError(`'${name}' is not a readable PGM/PPM: ${msg}`);
  };
  if (bytes.length < 2 || bytes[0] !== 0x50 || (bytes[1] !== 0x35 && bytes[1] !== 0x36)) {
    fail('it does not start with P5 or P6 (only binary, 8-bit PNM is read)');
  }
  const channels = bytes[1] === 0x35 ? 1 : 3;
  let pos = 2;
  const field = (): number => {
    for (;;) {
      while (pos < bytes.length && isSpace(bytes[pos]!)) pos++;
      if (bytes[pos] !== 0x23) break; // '#' comment to end of line
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    }
    const start = pos;
    let v = 0;
    while (pos < bytes.length && bytes[pos]! >= 0x30 && bytes[pos]! <= 0x39 && pos - start < 9) v = v * 10 + bytes[pos++]! - 0x30;
    if (pos === start) fail(`a header number is missing at byte ${start}`);
    return v;
  };
  const width = field(),
    height = field(),
    maxval = field();
  if (maxval !== 255) fail(`maxval is ${maxval}; only 255 (8 bits per sample) is read`);
  if (width < 1 || height < 1) fail(`its size ${width}x${height} is empty`);
  if (pos >= bytes.length || !isSpace(bytes[pos]!)) fail('no whitespace after the header');
  pos++;
  const need = width * height * channels;
  if (bytes.length - pos < need) fail(`it is truncated: ${bytes.length - pos} of ${need} pixel bytes`);
  return { width, height, channels, data: bytes.slice(pos, pos + need) };
}

/** Encodes a 1-channel image as P5 or a 3-channel one as P6. */
export function encodePnm(img: RawImage): Uint8Array {
  if (img.channels !== 1 && img.channels !== 3) throw new ImageError(`PNM holds 1 or 3 channels, got ${img.channels}`);
  const head = new TextEncoder().encode(`P${img.channels === 1 ? 5 : 6}\n${img.width} ${img.height}\n255\n`);
  const out = new Uint8Array(head.length + img.data.length);
  out.set(head);
  out.set(img.data, head.length);
  return out;
}
