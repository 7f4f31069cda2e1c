// The on-disk cache of primed CM states (Node only: imported by src/node.ts and the CLI, never by
// src/index.ts, so the page build never sees node:fs). Priming a model costs ~12 s of CPU per
// process (docs/pretrained.md, "The fixed cost"); with the cache it is paid once per machine.
//
// File: ${SLIMGPU_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/slimgpu}/primed-<hash of key>.bin =
//   "SLIMPRIM" | u32 format | u32 key length | key (JSON) | u32 encoding (0 raw, 1 deflate) |
//   f64 stored length | state (cm/state.ts), deflated at level 1 | sha256 of everything before it.
// Deflate level 1 makes the 72 MB state of the default model 10.7 MB; inflating it costs ~0.25 s
// (contended), partly paid back by hashing and reading 7x fewer bytes (docs/pretrained.md).
// The key names the model (its id and a sha256 of its prime text), the CM settings, a sha256 of
// the CmModel's layout (cm/state.ts layoutOf of a fresh model) and a sha256 of the codec's code
// (primeCodeHash), so a state written by other code is never loaded. A file that fails any check is ignored, recomputed and rewritten (atomically); a
// failed write warns once and never fails the command. SLIMGPU_CACHE_DIR=off or SLIMGPU_NO_CACHE=1
// turns the cache off.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRaw, inflateRaw } from 'node:zlib';
import { writeFileAtomic } from '../../io/files.js';
import { CmModel } from '../cm/index.js';
import { layoutOf, loadCmState, saveCmState } from '../cm/state.js';
import type { BytePredictor, BytePrime } from '../predictor.js';
import { setPrimedStore, type CmSettings, type PrimedStore } from './prime.js';

/** Bumped whenever the file layout or the meaning of a state changes. */
export const PRIME_CACHE_FORMAT = 1;
const MAGIC = new TextEncoder().encode('SLIMPRIM');
const HASH = 32;

type Env = Record<string, string | undefined>;

/** The cache folder for `env`, or null when the cache is off. */
export function primeCacheDir(env: Env = process.env): string | null {
  const d = env.SLIMGPU_CACHE_DIR;
  if (d === 'off' || env.SLIMGPU_NO_CACHE === '1') return null;
  if (d) return d;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'slimgpu');
}

const deflate = (b: Uint8Array) => new Promise<Uint8Array>((ok, fail) => deflateRaw(b, { level: 1 }, (e, r) => (e ? fail(e) : ok(r))));
const inflate = (b: Uint8Array) => new Promise<Uint8Array>((ok, fail) => inflateRaw(b, (e, r) => (e ? fail(e) : ok(r))));
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

/** The cache key of the primed state of `predictor` with settings `s`; `fresh` is a new CmModel made with them. */
export function primeCacheKey(predictor: BytePredictor & { prime: BytePrime }, s: CmSettings, fresh: CmModel, code = ''): string {
  const p = predictor.prime;
  return JSON.stringify({
    code,
    format: PRIME_CACHE_FORMAT,
    model: predictor.id,
    prime: sha256(p.text).toString('hex'),
    cmOnly: p.cmOnly,
    memoryLog2: p.memoryLog2,
    streams: s.streams,
    refine: s.refine,
    externalWeight: s.externalWeight,
    layout: sha256(layoutOf(fresh)).toString('hex'),
    littleEndian: new Uint8Array(new Uint16Array([1]).buffer)[0] === 1,
  });
}

let codeHash: Promise<string> | undefined;

/**
 * A sha256 over the code that computes a primed state — every module of the codec layer (this
 * folder's parent: the CM, the coder, the byte model's predictors, frequencies) and the byte model's
 * CPU reference — so a state written by other code is never loaded, even when the layout and the
 * model are the same (a changed update rule would otherwise make files that only this machine
 * decodes). Read once per process (~100 small files).
 */
export function primeCodeHash(): Promise<string> {
  codeHash ??= (async () => {
    const roots = [fileURLToPath(new URL('..', import.meta.url)), fileURLToPath(new URL('../../reference/', import.meta.url))];
    const h = createHash('sha256');
    for (const [k, root] of roots.entries()) {
      const names = (await readdir(root, { recursive: true }))
        .filter((f) => /\.(js|ts|mjs)$/.test(f) && !f.endsWith('.d.ts') && (k === 0 || /bytemlp/.test(f)))
        .sort();
      for (const f of names) h.update(`${k}/${f}\0`).update(await readFile(join(root, f)));
    }
    return h.digest('hex');
  })();
  return codeHash;
}

/** The whole cache file for `key` and the state bytes. */
export function encodePrimeFile(key: string, state: Uint8Array, encoding: 0 | 1 = 0): Uint8Array {
  const k = new TextEncoder().encode(key);
  const head = MAGIC.length + 8 + k.length + 12;
  const out = new Uint8Array(head + state.length + HASH);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, PRIME_CACHE_FORMAT, true);
  dv.setUint32(12, k.length, true);
  out.set(k, 16);
  dv.setUint32(16 + k.length, encoding, true);
  dv.setFloat64(20 + k.length, state.length, true);
  out.set(state, head);
  out.set(sha256(out.subarray(0, head + state.length)), head + state.length);
  return out;
}

/** The stored state bytes of a cache file and their encoding, or a reason why it is not for `key`. */
export function decodePrimeFile(file: Uint8Array, key: string): { encoding: 0 | 1; stored: Uint8Array } | string {
  const k = new TextEncoder().encode(key);
  if (file.length < 16 + k.length + 12 + HASH) return 'truncated';
  if (!MAGIC.every((b, i) => file[i] === b)) return 'not a primed-state cache file';
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getUint32(8, true) !== PRIME_CACHE_FORMAT) return `format ${dv.getUint32(8, true)}, not ${PRIME_CACHE_FORMAT}`;
  if (dv.getUint32(12, true) !== k.length || !k.every((b, i) => file[16 + i] === b)) return 'another key';
  const encoding = dv.getUint32(16 + k.length, true);
  if (encoding !== 0 && encoding !== 1) return 'unknown encoding';
  const head = 28 + k.length;
  const n = dv.getFloat64(20 + k.length, true);
  if (n !== file.length - head - HASH) return 'wrong length';
  if (!sha256(file.subarray(0, head + n)).equals(file.subarray(head + n))) return 'hash mismatch';
  return { encoding, stored: file.subarray(head, head + n) };
}

export interface PrimeCacheEvents {
  hits: number;
  misses: number;
  writes: number;
  /** Why the last file found was not used (absent, truncated, hash mismatch, another key...). */
  lastRejected?: string;
}

/** A PrimedStore that reads and writes primed states under primeCacheDir(env) (read at each use). */
export function diskPrimedStore(opts: { env?: Env; warn?: (message: string) => void } = {}): PrimedStore & { events: PrimeCacheEvents } {
  const events: PrimeCacheEvents = { hits: 0, misses: 0, writes: 0 };
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  let warned = false;
  return {
    events,
    async get(predictor, s, compute) {
      const dir = primeCacheDir(opts.env ?? process.env);
      if (!dir) return compute();
      const fresh = new CmModel(s.streams, { memoryLog2: predictor.prime.memoryLog2, refine: s.refine, externalWeight: s.externalWeight });
      const key = primeCacheKey(predictor, s, fresh, await primeCodeHash());
      const path = join(dir, `primed-${sha256(key).toString('hex').slice(0, 32)}.bin`);
      const file = await readFile(path).catch(() => null);
      const state = file ? decodePrimeFile(file, key) : 'absent';
      if (typeof state !== 'string') {
        try {
          const cm = loadCmState(fresh, state.encoding === 1 ? await inflate(state.stored) : state.stored);
          events.hits++;
          return cm;
        } catch (e) {
          events.lastRejected = (e as Error).message;
        }
      } else events.lastRejected = state;
      events.misses++;
      const cm = await compute();
      try {
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(path, [encodePrimeFile(key, await deflate(saveCmState(cm)), 1)]);
        events.writes++;
      } catch (e) {
        if (!warned) warn(`slimgpu: cannot cache the primed model state in ${dir} (${(e as Error).message}); priming again next time`);
        warned = true;
      }
      return cm;
    },
  };
}

/** Installs the on-disk cache for every primed state of this process (the Node entry points call it). */
export function installPrimeCache(): void {
  setPrimedStore(diskPrimedStore());
}
