// Inputs and outputs of `slimgpu compress` / `decompress`, gzip/zstd style: a file or stdin ('-'),
// a file (written atomically: temp + rename, nothing on failure) or stdout; pieces, never the
// whole file, except where a mode needs it (the prequential GPT).
import { createReadStream, existsSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { writeFileAtomic } from '../io/files.js';

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Input {
  /** The file's path, or '-' for stdin. */
  path: string;
  /** For messages: the path, or 'stdin'. */
  name: string;
  /** Bytes, when known (a regular file). */
  size?: number;
  pieces: AsyncIterable<Uint8Array>;
}

/** Opens a file (or stdin for '-' / undefined) as a stream of pieces; errors name the file. */
export async function openInput(path: string | undefined, what: string): Promise<Input> {
  if (path === undefined || path === '-') return { path: '-', name: 'stdin', pieces: process.stdin as AsyncIterable<Uint8Array> };
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new CliError(`slimgpu: cannot read ${what} '${path}': it is a directory`);
    size = s.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`slimgpu: cannot read ${what} '${path}': ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  return { path, name: path, size, pieces: createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array> };
}

/** The first n bytes (fewer at the end of the input) and the whole stream again, those bytes first. */
export async function peek(pieces: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Uint8Array; all: AsyncIterable<Uint8Array> }> {
  const it = pieces[Symbol.asyncIterator]();
  const got: Uint8Array[] = [];
  let k = 0,
    done = false;
  while (k < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    got.push(r.value);
    k += r.value.length;
  }
  const head = concat(got).subarray(0, n);
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* got;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, all: all() };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Every piece, in one buffer (for the modes that need the whole input). */
export async function readAll(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of pieces) parts.push(p);
  return concat(parts);
}

/** Where the output goes: a file path, or '-' for stdout. */
export type Output = string;

/** Refuses to overwrite an existing file without --force, and to write binary data to a terminal. */
export function checkOutput(out: Output, o: { force?: boolean; binary: boolean; input: Input }): void {
  if (out === '-') {
    if (o.binary && process.stdout.isTTY && !o.force)
      throw new CliError('slimgpu: compressed data not written to a terminal (use -o FILE, a pipe, or -f to force)');
    return;
  }
  if (out === o.input.path) throw new CliError(`slimgpu: the output '${out}' is the input`);
  if (!o.force && existsSync(out)) throw new CliError(`slimgpu: '${out}' already exists (use -f to overwrite)`);
}

/** Writes the pieces: atomically to a file (nothing is left on failure), or to stdout as they come. Returns the bytes written. */
export async function writeOutput(out: Output, pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
  let n = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const p of pieces) {
      n += p.length;
      yield p;
    }
  }
  if (out !== '-') {
    await writeFileAtomic(out, counted());
    return n;
  }
  for await (const p of counted()) {
    if (!process.stdout.write(p))
      await new Promise<void>((res, rej) => {
        process.stdout.once('drain', res);
        process.stdout.once('error', rej);
      });
  }
  return n;
}

/** --rm: removes the input after its output was written and verified (never stdin). */
export async function removeInput(input: Input): Promise<void> {
  if (input.path !== '-') await unlink(input.path);
}
