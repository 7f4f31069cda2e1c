import { readFileBytes } from '../data/files.js';

// File access for the io layer (Node only; node modules are imported when a function is called,
// so browser bundles of the pure parse/serialize code never load them).

export class FileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileError';
  }
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function needNode(what: string): void {
  if (!isNode()) throw new FileError(`slimgpu.io: ${what} needs Node (in a browser, use the parse/serialize functions on bytes)`);
}

/** Plain words for the errors a write meets on a full, read-only or forbidden place. */
const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'its folder does not exist',
  EFBIG: 'the file is too large for this file system',
};

/** Reads a whole file; errors name the file (shared with the data layer). */
export { readFileBytes };

/**
 * Writes `chunks` to `path` atomically: a temporary file in the same directory (so the rename
 * stays on one file system) is written, fsynced and closed, then renamed over `path`, then the
 * directory is fsynced (best effort) so the rename itself is durable. On any failure — including
 * an exception thrown while producing the chunks — the temporary file is removed and `path` is
 * left exactly as it was.
 */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  needNode(`writing '${path}'`);
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const { randomBytes } = await import('node:crypto');
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (e) {
    if (handle) await handle.close().catch(() => {});
    await fs.unlink(tmp).catch(() => {});
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
      const why = WRITE_ERRORS[err.code]
        ? `${WRITE_ERRORS[err.code]} (${err.code} in ${err.syscall})`
        : `${err.code} in ${err.syscall}: ${err.message}`;
      throw new FileError(`slimgpu.io: cannot write '${path}': ${why}; the previous file, if any, is unchanged and no temporary file was left`);
    }
    throw e;
  }
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Directories cannot be opened or fsynced on some platforms (Windows); the rename is done.
  }
}
