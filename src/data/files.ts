// Byte sources for the loaders: file reads (Node only, imported lazily so that browser bundles of
// this module never touch node:fs) and gzip decompression with a cap on the output size.
import { DataError } from './dataset.js';

/** Default cap on decompressed bytes (a gzip bomb is refused before it fills memory). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** Reads a whole file (Node). Errors name the file. */
export async function readFileBytes(path: string, what = 'file'): Promise<Uint8Array> {
  if (!isNode())
    throw new DataError(`slimgpu.data: reading ${what} '${path}' needs Node (in a browser, fetch the bytes and use the parse functions)`);
  const { readFile } = await import('node:fs/promises');
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`slimgpu.data: cannot read ${what} '${path}': ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses gzip bytes, refusing output larger than `maxBytes`. Uses node:zlib in Node and
 * DecompressionStream elsewhere; `name` is used in error messages.
 */
export async function gunzip(bytes: Uint8Array, name: string, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Uint8Array> {
  if (!Number.isInteger(maxBytes) || maxBytes < 1)
    throw new DataError(`slimgpu.data: maxDecompressedBytes must be a positive integer, got ${maxBytes}`);
  const tooBig = () =>
    new DataError(
      `slimgpu.data: '${name}' decompresses to more than ${maxBytes} bytes (maxDecompressedBytes); refused as a possible gzip bomb — raise the cap if the file is genuine`,
    );
  if (isNode()) {
    const zlib = await import('node:zlib');
    try {
      const out = zlib.gunzipSync(bytes, { maxOutputLength: maxBytes });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ERR_BUFFER_TOO_LARGE') throw tooBig();
      throw new DataError(`slimgpu.data: '${name}' is not a valid gzip stream (${err.message})`);
    }
  }
  return gunzipStream(bytes, name, maxBytes, tooBig);
}

/** Browser path (also works in Node ≥ 18): DecompressionStream, stopped as soon as the cap is passed. */
export async function gunzipStream(bytes: Uint8Array, name: string, maxBytes: number, tooBig?: () => Error): Promise<Uint8Array> {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw (tooBig ?? (() => new DataError(`slimgpu.data: '${name}' decompresses to more than ${maxBytes} bytes`)))();
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`slimgpu.data: '${name}' is not a valid gzip stream (${(e as Error).message})`);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}
